import EmberArchive
import EmberCore
import Synchronization

/// An ``InferenceBackend`` without libtorch: loads any archive, and its models answer each request
/// with ``answer`` (by default the request's own body and content type).
public final class FakeInferenceBackend: InferenceBackend {
    public typealias Answer = @Sendable (InferenceInput) -> Result<InferenceOutput, ServerError>

    public static let echo: Answer = { input in
        .success(InferenceOutput(body: input.body, contentType: input.contentType))
    }

    let answer: Answer
    private let loads = Mutex<[String]>([])

    public init(answer: @escaping Answer = FakeInferenceBackend.echo) {
        self.answer = answer
    }

    /// The `name/version` of every archive loaded so far, in order.
    public var loaded: [String] { loads.withLock { $0 } }

    public func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel {
        loads.withLock { $0.append("\(archive.manifest.model.modelName)/\(archive.manifest.model.modelVersion)") }
        return Model(answer: answer)
    }

    final class Model: LoadedModel {
        let answer: Answer

        init(answer: @escaping Answer) {
            self.answer = answer
        }

        func prepareWorkerThread(intraOpThreads: Int) {}
        func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>] { batch.map(answer) }
        func unload() {}
    }
}
