import EmberArchive
import EmberCore
import Foundation
import ImageCodec
import Logging
import TorchBackend

/// The libtorch backend: loads a model version's TorchScript file once and runs its declarative
/// handler on the worker threads of that version.
public struct TorchInferenceBackend: InferenceBackend {
    public var imageDecoder: ImageDecoder
    public var logger: Logger

    public init(imageDecoder: ImageDecoder = ImageDecoder(), logger: Logger) {
        self.imageDecoder = imageDecoder
        self.logger = logger
    }

    public func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel {
        guard let spec = archive.handler else {
            throw TorchError(code: .notFound, message: "the archive's handler is Python code, not a declarative spec")
        }
        var logger = logger
        logger[metadataKey: "model.name"] = "\(archive.modelName)"
        logger[metadataKey: "model.version"] = "\(archive.modelVersion)"
        guard let modelFile = archive.serializedFileURL else {
            throw TorchError(code: .notFound, message: "the archive names no serialized model file")
        }
        let module = try TorchModule(contentsOf: modelFile.path, device: device)
        let labels = try labelMap(for: spec, in: archive.directory)
        var decoder = imageDecoder
        decoder.dctScaling = archive.config?.jpegDCTScaling ?? false
        let pipeline = HandlerPipeline(module: module, spec: spec, labels: labels, decoder: decoder, logger: logger)
        return TorchLoadedModel(pipeline: pipeline)
    }

    private func labelMap(for spec: HandlerSpec, in directory: URL) throws -> LabelMap? {
        for case .labels(let file?) in spec.postprocess {
            let url = directory.appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: url.path) { return try LabelMap(contentsOf: url) }
        }
        return nil
    }
}

/// One loaded model version, shared by its workers.
final class TorchLoadedModel: LoadedModel {
    let pipeline: HandlerPipeline

    init(pipeline: HandlerPipeline) {
        self.pipeline = pipeline
    }

    func prepareWorkerThread(intraOpThreads: Int) {
        try? TorchRuntime.setIntraOpThreads(max(1, intraOpThreads))
    }

    func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>] {
        pipeline.run(batch.map(\.body)).map { result in
            switch result {
            case .success(let answer):
                .success(
                    InferenceOutput(
                        status: 200, body: Array(answer.value.prettyPrinted().utf8), contentType: "application/json",
                        forwardTime: answer.forwardTime))
            case .failure(let failure):
                .failure(failure)
            }
        }
    }
}
