import EmberCore

/// What the HTTP listeners need from the server, in HTTP-free terms. The server wires EmberCore's
/// registry and worker pools behind it; tests can use a small fake.
///
/// Every method throws ``ServerError`` for answers in TorchServe's error shape; anything else becomes a 500.
public protocol ModelService: Sendable {
    /// Runs one inference. `version` nil means the default version.
    func predict(model: String, version: String?, input: InferenceInput) async throws -> InferenceOutput

    /// `POST /models`.
    func register(_ request: RegisterRequest) async throws -> ServiceResponse
    /// `PUT /models/{m}[/{v}]`.
    func scale(model: String, version: String?, minWorkers: Int, maxWorkers: Int, synchronous: Bool) async throws
        -> ServiceResponse
    /// `GET /models/{m}[/{v}|/all]`: the describe array.
    func describe(model: String, version: DescribeTarget) async throws -> JSONValue
    /// `GET /models`.
    func list(limit: Int, offset: Int) async -> JSONValue
    /// `DELETE /models/{m}[/{v}]`.
    func unregister(model: String, version: String?) async throws -> ServiceResponse
    /// `PUT /models/{m}/{v}/set-default`.
    func setDefault(model: String, version: String) async throws -> ServiceResponse

    /// The refusal a prediction for `model` would get at once (503: no worker, queue full), without
    /// queueing anything; nil when it would be queued, or when the model is unknown (the prediction
    /// route answers that, in its order of checks).
    func admissionRefusal(model: String, version: String?) -> ServerError?

    /// `/ping`: TorchServe's rule (every default version has its minimum healthy workers).
    func isHealthy() -> Bool
    /// `/v2/health/ready`: every start-up model has its minimum workers up.
    func isReady() async -> Bool
    /// `/v2/models/{m}/ready`: the default version has its minimum workers up (throws 404 when unknown).
    func isModelReady(_ model: String) async throws -> Bool
    /// `OPTIONS /predictions/{m}`: throws 404 for an unknown model.
    func requireModel(_ model: String) async throws
    /// The Open Inference Protocol's view of a version (default when nil): tensors, batching, statistics.
    func oipModel(model: String, version: String?) async throws -> OIPModel
}

/// A management answer: its status and JSON body.
public struct ServiceResponse: Sendable {
    public var status: Int
    public var body: JSONValue

    public init(status: Int = 200, body: JSONValue) {
        self.status = status
        self.body = body
    }

    /// TorchServe's `{"status": "…"}` answers.
    public static func status(_ message: String, code: Int = 200) -> ServiceResponse {
        ServiceResponse(status: code, body: ["status": .string(message)])
    }

    /// A management call's outcome as TorchServe answers it: 200 done, 202 accepted, 206 still scaling.
    public init(_ result: ManagementResult) {
        let code =
            switch result {
            case .completed: 200
            case .accepted: 202
            case .inProgress: 206
            }
        self = .status(result.message, code: code)
    }
}

extension ModelService {
    public func admissionRefusal(model: String, version: String?) -> ServerError? { nil }
}

public enum DescribeTarget: Sendable, Equatable {
    case defaultVersion
    case version(String)
    case all
}

/// `POST /models` parameters, from the query string or a JSON body. Absent means "not given", so the
/// precedence rules (contract §7.1) can apply; there is no `-10000` default here.
public struct RegisterRequest: Sendable, Equatable {
    public var url: String?
    public var modelName: String?
    public var handler: String?
    public var runtime: String?
    public var synchronous: Bool = true
    /// `initial_workers`, `batch_size`, `max_batch_delay`, `response_timeout`, `startup_timeout`.
    public var settings = ModelSettings.Partial()

    public init() {}
}
