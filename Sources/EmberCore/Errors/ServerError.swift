/// An error any front end can answer: a code from the catalogue below and a message for the client.
///
/// The core names *what* went wrong; each protocol decides how to say it. The HTTP listeners map a
/// code to TorchServe's status and exception name (`EmberHTTP/ErrorMapping.swift`); the gRPC and
/// Open Inference Protocol front ends map the same codes to their own status codes, one table each.
public struct ServerError: Error, Sendable, CustomStringConvertible, Equatable {
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The catalogue. A struct over a private enum, so codes can be added without breaking a front
    /// end's `switch` (each mapping has a default) and without exposing the enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case badRequest, invalidModel, modelNameInvalid, downloadFailed, tokenRejected
            case resourceNotFound, modelNotFound, versionNotFound, archiveNotFound
            case methodNotAllowed, modelAPIDisabled, cannotRemoveDefaultVersion, conflict, requestTooLarge
            case internalError, workersFailedToStart, workerDied
            case noWorker, predictionFailed, requestCancelled, outOfResources
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public var description: String { base.rawValue }

        // The client's request is wrong.
        /// A malformed parameter, body or input.
        public static let badRequest = Code(.badRequest)
        /// An archive that cannot be served (bad manifest, unsafe entries, unsupported handler).
        public static let invalidModel = Code(.invalidModel)
        /// A model name outside the allowed characters.
        public static let modelNameInvalid = Code(.modelNameInvalid)
        /// An archive URL that could not be downloaded (not allowed, unreachable, too large).
        public static let downloadFailed = Code(.downloadFailed)
        /// A missing, wrong or expired token.
        public static let tokenRejected = Code(.tokenRejected)
        /// A request larger than `max_request_size`.
        public static let requestTooLarge = Code(.requestTooLarge)

        // What the request names does not exist.
        /// No route for this path.
        public static let resourceNotFound = Code(.resourceNotFound)
        /// No model of that name.
        public static let modelNotFound = Code(.modelNotFound)
        /// The model exists, the version does not.
        public static let versionNotFound = Code(.versionNotFound)
        /// A registration URL that names no readable archive in the model store.
        public static let archiveNotFound = Code(.archiveNotFound)

        // The request is not allowed in the server's state.
        /// The route exists, not with this method.
        public static let methodNotAllowed = Code(.methodNotAllowed)
        /// Registering or unregistering while the model API is off.
        public static let modelAPIDisabled = Code(.modelAPIDisabled)
        /// Unregistering the default version while other versions remain.
        public static let cannotRemoveDefaultVersion = Code(.cannotRemoveDefaultVersion)
        /// The model version is already registered (or being registered).
        public static let conflict = Code(.conflict)

        // The server could not do it.
        /// A failure inside the server; details are in the log.
        public static let internalError = Code(.internalError)
        /// A registration or scale whose workers did not start.
        public static let workersFailedToStart = Code(.workersFailedToStart)
        /// A batch ran past `responseTimeout` (or its worker exited); the worker is replaced.
        public static let workerDied = Code(.workerDied)
        /// No worker serves the version, the queue is full, or the version is stopping.
        public static let noWorker = Code(.noWorker)
        /// The model or handler failed on the batch.
        public static let predictionFailed = Code(.predictionFailed)
        /// The client went away before its request ran.
        public static let requestCancelled = Code(.requestCancelled)
        /// The model ran out of memory.
        public static let outOfResources = Code(.outOfResources)
    }
}

extension ServerError {
    public static var resourceNotFound: Self {
        .init(.resourceNotFound, "Requested resource is not found, please refer to API document.")
    }

    public static var methodNotAllowed: Self {
        .init(.methodNotAllowed, "Requested method is not allowed, please refer to API document.")
    }

    /// Registering or unregistering while `enable_model_api` is off (TorchServe answers 405).
    public static var modelAPIDisabled: Self {
        .init(.modelAPIDisabled, "Requested method is not allowed, please refer to API document.")
    }

    public static func badRequest(_ message: String) -> Self { .init(.badRequest, message) }

    /// A number outside what the server accepts for `name` (a parameter, field or setting).
    public static func outOfRange(_ name: String, _ range: ClosedRange<Int>, got value: String) -> Self {
        .init(.badRequest, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound); got \(value.prefix(40)).")
    }

    /// A worker count beyond `max_workers_per_model` or `max_workers`.
    public static func workerCapExceeded(_ message: String) -> Self { .init(.badRequest, message) }

    /// A model's answer larger than `max_response_size`; the worker keeps serving.
    public static func responseTooLarge(size: Int, limit: Int) -> Self {
        .init(.internalError, "The model's response is \(size) bytes, more than max_response_size (\(limit) bytes).")
    }

    public static func requestTooLarge(limit: Int) -> Self {
        .init(.requestTooLarge, "The request body is larger than max_request_size (\(limit) bytes).")
    }

    public static func internalError(_ message: String) -> Self { .init(.internalError, message) }

    public static func modelNotFound(_ name: String) -> Self { .init(.modelNotFound, "Model not found: \(name)") }

    public static func versionNotFound(_ name: String, _ version: String) -> Self {
        .init(.versionNotFound, "Model version: \(version) does not exist for model: \(name)")
    }

    /// TorchServe's message for "no worker / queue full" (contract §2.9).
    public static func noWorker(model: String, version: String?) -> Self {
        let subject = version.map { "Model \"\(model)\" Version \($0)\"" } ?? "Model \"\(model)\""
        return .init(
            .noWorker,
            "\(subject) has no worker to serve inference request. Please use scale workers API to add workers. "
                + "If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize")
    }

    /// A batch's model call threw (TorchServe answers 503 "Prediction failed").
    public static var predictionFailed: Self { .init(.predictionFailed, "Prediction failed") }

    /// A handler answered another number of results than the batch had requests.
    public static var batchResponseMismatch: Self { .init(.predictionFailed, "number of batch response mismatched") }

    /// A batch ran past `responseTimeout`; its worker is replaced (TorchServe: 500 "Worker died.").
    public static var workerDied: Self { .init(.workerDied, "Worker died.") }

    /// libtorch ran out of memory for a batch (TorchServe: 507).
    public static var outOfResources: Self { .init(.outOfResources, "Out of resources") }

    /// The request waited in the queue for `clientTimeoutInMills` and was not run. TorchServe drops such
    /// a request without answering; Ember answers 503 at once, so the client need not time out itself.
    public static func queueTimeout(model: String, limit: Duration) -> Self {
        .init(
            .noWorker,
            "Request for model \"\(model)\" waited in the queue longer than clientTimeoutInMills "
                + "(\(limit.wholeMilliseconds) ms) and was not run.")
    }

    /// The request's client disconnected (or its task was cancelled) before it ran.
    public static var requestCancelled: Self { .init(.requestCancelled, "The request was cancelled before it ran.") }
}
