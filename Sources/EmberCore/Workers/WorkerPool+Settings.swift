import Foundation

// The pool's public vocabulary: what it reports, and how its errors read.
extension WorkerPool {
    /// A request as the pool keeps it while the machine moves its id around.
    struct Request {
        let input: InferenceInput
        let versionInURL: Bool
        let continuation: CheckedContinuation<Result<InferenceOutput, ServerError>, Never>
        /// Set once the handler streamed a first chunk: the continuation was resumed with it, and the
        /// rest of the answer (or its failure) goes here.
        var stream: ResponseStream? = nil
    }

    typealias Machine = StateMachine

    /// What describe shows of a worker.
    public struct WorkerInfo: Sendable, Equatable {
        public var id: Int
        public var startTime: Date
        public var isReady: Bool
    }

    /// Observations for the metrics layer, called outside the pool's lock.
    public struct Observer: Sendable {
        public var batch: @Sendable (_ size: Int, _ queueWaits: [Duration], _ inference: Duration) -> Void
        public var queueDepth: @Sendable (Int) -> Void
        /// The model loaded, in this long.
        public var loaded: @Sendable (Duration) -> Void
        /// A queued request was withdrawn (its client went away).
        public var cancelled: @Sendable () -> Void
        /// The loaded model's warm-up forward took this long (models that describe their tensors).
        public var warmedUp: @Sendable (Duration) -> Void = { _ in }
        /// A submitted request was answered (or refused: zero) after this long.
        public var answered: @Sendable (Duration) -> Void = { _ in }

        public init(
            batch: @escaping @Sendable (Int, [Duration], Duration) -> Void = { _, _, _ in },
            queueDepth: @escaping @Sendable (Int) -> Void = { _ in },
            loaded: @escaping @Sendable (Duration) -> Void = { _ in },
            cancelled: @escaping @Sendable () -> Void = {}
        ) {
            self.batch = batch
            self.queueDepth = queueDepth
            self.loaded = loaded
            self.cancelled = cancelled
        }
    }

    /// How a wait for the workers ended.
    public enum Readiness: Sendable, Equatable {
        case ready
        /// The model failed to load, for this reason.
        case failed(String)
        /// Workers were still starting when the wait ran out.
        case timedOut
    }

    /// TorchServe's retry back-off after a failed load or a crashed worker, in seconds (Fibonacci, capped).
    static let retryBackoff = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]

    func error(for failure: Machine.Failure, _ request: Request) -> ServerError {
        switch failure {
        case .noWorker: noWorkerFailure(versionInURL: request.versionInURL)
        case .workerDied: .workerDied
        case .cancelled: .requestCancelled
        case .queueTimeout: .queueTimeout(model: modelName, limit: settings.clientTimeout ?? .zero)
        }
    }

    /// TorchServe's message for "no worker / queue full" (contract §2.9), naming the version when the URL did.
    func noWorkerFailure(versionInURL: Bool) -> ServerError {
        .noWorker(model: modelName, version: versionInURL ? modelVersion : nil)
    }
}
