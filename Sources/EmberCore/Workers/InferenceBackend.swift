import EmberArchive

/// One request as the model's handler sees it.
public struct InferenceInput: Sendable {
    public var body: [UInt8]
    public var contentType: String?
    public var requestID: String
    /// Tensors that go to the model without body decoding (Open Inference Protocol requests).
    public var tensors: TensorRequest? = nil
    /// The client's request headers, for handlers that read them (Python workers pass them all, as
    /// TorchServe's frontend does). A reference to the listener's own header storage: no copy is made
    /// unless a worker reads them.
    public var headers: (any RequestHeaderFields)? = nil

    public init(
        body: [UInt8], contentType: String? = nil, requestID: String, tensors: TensorRequest? = nil,
        headers: (any RequestHeaderFields)? = nil
    ) {
        self.body = body
        self.contentType = contentType
        self.requestID = requestID
        self.tensors = tensors
        self.headers = headers
    }
}

/// A request's header fields as its protocol received them.
public protocol RequestHeaderFields: Sendable {
    /// Each field in order, its name as the client spelled it.
    func forEachField(_ body: (_ name: String, _ value: String) -> Void)
}

/// The handler's answer to one request.
public struct InferenceOutput: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String?
    /// How long the model's forward call took for the batch this request was in: the server's
    /// overhead is the request's latency minus this.
    public var forwardTime: Duration?
    /// How long the request waited in its model's queue (set by the worker pool), for
    /// `ts_queue_latency_microseconds` under the version the URL named.
    public var queueTime: Duration?
    /// The model's output tensors, for a request that carried ``InferenceInput/tensors``.
    public var tensors: [NamedTensor]? = nil
    /// The version that answered, set by the service (protocols that name it: Open Inference Protocol).
    public var modelVersion: String? = nil
    /// Set when the handler streams its answer (intermediate responses): `status` and `contentType`
    /// are the first chunk's, `body` is empty and every chunk, the final one included, comes through
    /// the stream. Nil for every ordinary answer.
    public var stream: ResponseStream? = nil

    public init(
        status: Int = 200, body: [UInt8], contentType: String?, forwardTime: Duration? = nil, queueTime: Duration? = nil,
        tensors: [NamedTensor]? = nil
    ) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.forwardTime = forwardTime
        self.queueTime = queueTime
        self.tensors = tensors
    }
}

/// Loads models. The server's backend runs TorchScript through libtorch; tests use fakes.
public protocol InferenceBackend: Sendable {
    /// Loads one model version, once; all its workers share the result. Blocking: called on a
    /// loader thread, never on the Swift concurrency pool.
    func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel
}

/// A loaded model version, shared by its workers (one copy of the weights).
public protocol LoadedModel: AnyObject, Sendable {
    /// Called once on each worker's own thread before its first batch.
    func prepareWorkerThread(intraOpThreads: Int)
    /// Runs one batch on the calling worker thread (blocking). One result per input, in order: a
    /// failure fails only its request; a thrown error fails the whole batch with 503.
    func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>]
    /// The model's tensors as described at load (nil: not described; see `TensorMetadata.swift`).
    var tensorMetadata: TensorMetadata? { get }
    /// The worker the pool should run for this model, or nil for the default in-process worker
    /// (threads calling ``infer(_:)``). A model served out of process (Python workers) returns its own.
    func makeWorker(_ context: WorkerContext) -> (any PoolWorker)?
}

extension LoadedModel {
    public func makeWorker(_ context: WorkerContext) -> (any PoolWorker)? { nil }
}
