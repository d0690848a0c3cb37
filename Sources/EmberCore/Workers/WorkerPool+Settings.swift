import Foundation

// The pool's public vocabulary: its settings, what it reports, and how its errors read.
extension WorkerPool {
    /// A request as the pool keeps it: the machine's job.
    struct Request {
        let input: InferenceInput
        let versionInURL: Bool
        let continuation: CheckedContinuation<Result<InferenceOutput, ServerError>, Never>
    }

    typealias Machine = StateMachine<Request>

    public struct Settings: Sendable, Equatable {
        public var batchSize: Int
        public var maxBatchDelay: Duration
        public var responseTimeout: Duration
        public var jobQueueSize: Int
        public var intraOpThreads: Int
        public var device: String
        /// How long a worker polls for work after a batch before it sleeps.
        public var idleSpin: Duration

        public init(
            batchSize: Int = 1, maxBatchDelay: Duration = .milliseconds(100), responseTimeout: Duration = .seconds(120),
            jobQueueSize: Int = 100, intraOpThreads: Int = 1, device: String = "cpu", idleSpin: Duration = .zero
        ) {
            self.batchSize = batchSize
            self.maxBatchDelay = maxBatchDelay
            self.responseTimeout = responseTimeout
            self.jobQueueSize = jobQueueSize
            self.intraOpThreads = intraOpThreads
            self.device = device
            self.idleSpin = idleSpin
        }
    }

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
        }
    }

    /// TorchServe's message for "no worker / queue full" (contract §2.9).
    func noWorkerFailure(versionInURL: Bool) -> ServerError {
        let subject = versionInURL ? "Model \"\(modelName)\" Version \(modelVersion)\"" : "Model \"\(modelName)\""
        return ServerError(
            status: 503, type: "ServiceUnavailableException",
            message: "\(subject) has no worker to serve inference request. Please use scale workers API to add workers. "
                + "If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize")
    }
}

extension ServerError {
    /// The request was withdrawn because its client went away; nobody reads the answer.
    static var requestCancelled: ServerError {
        ServerError(status: 499, type: "RequestCancelledException", message: "Request cancelled by the client")
    }
}
