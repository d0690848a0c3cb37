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
        let metadata = TensorModelDescriber(module: module, spec: spec, logger: logger).describe()
        let tensors = TensorPipeline(
            module: module, spec: spec, labels: labels, decoder: decoder, metadata: metadata,
            modelName: archive.modelName, logger: logger)
        return TorchLoadedModel(pipeline: pipeline, tensors: tensors)
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
package final class TorchLoadedModel: LoadedModel {
    package let pipeline: HandlerPipeline
    /// The tensor path (Open Inference Protocol requests).
    let tensors: TensorPipeline

    init(pipeline: HandlerPipeline, tensors: TensorPipeline) {
        self.pipeline = pipeline
        self.tensors = tensors
    }

    package var tensorMetadata: TensorMetadata? { tensors.metadata }

    package func prepareWorkerThread(intraOpThreads: Int) {
        try? TorchRuntime.setIntraOpThreads(max(1, intraOpThreads))
    }

    package func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>] {
        // A batch may mix tensor requests and body requests: each kind runs its own forward.
        guard batch.contains(where: { $0.tensors != nil }) else { return answerBodies(batch) }
        var results = [Result<InferenceOutput, ServerError>](repeating: .failure(.predictionFailed), count: batch.count)
        let tensorIndices = batch.indices.filter { batch[$0].tensors != nil }
        let bodyIndices = batch.indices.filter { batch[$0].tensors == nil }
        let tensorResults = tensors.run(tensorIndices.compactMap { batch[$0].tensors })
        for (index, result) in zip(tensorIndices, tensorResults) {
            results[index] = result.map { answer in
                InferenceOutput(body: [], contentType: nil, forwardTime: answer.forwardTime, tensors: answer.tensors)
            }
        }
        if !bodyIndices.isEmpty {
            for (index, result) in zip(bodyIndices, answerBodies(bodyIndices.map { batch[$0] })) { results[index] = result }
        }
        return results
    }

    private func answerBodies(_ batch: [InferenceInput]) -> [Result<InferenceOutput, ServerError>] {
        pipeline.bodies(batch.map(\.body)).map { result in
            switch result {
            case .success(let answer):
                .success(
                    InferenceOutput(
                        status: 200, body: answer.body, contentType: "application/json", forwardTime: answer.forwardTime))
            case .failure(let failure):
                .failure(failure)
            }
        }
    }
}
