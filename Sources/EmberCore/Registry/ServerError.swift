/// An error answered in TorchServe's shape, from the HTTP layer, the registry or a handler: `{"code": 404, "type": "ModelNotFoundException", "message": …}`.
public struct ServerError: Error, Sendable, CustomStringConvertible, Equatable {
    public let status: Int
    public let type: String
    public let message: String

    public init(status: Int, type: String, message: String) {
        self.status = status
        self.type = type
        self.message = message
    }

    public var body: JSONValue { ["code": .int(status), "type": .string(type), "message": .string(message)] }
    public var description: String { "\(status) \(type): \(message)" }

    public static var resourceNotFound: Self {
        .init(
            status: 404, type: "ResourceNotFoundException",
            message: "Requested resource is not found, please refer to API document.")
    }

    public static var methodNotAllowed: Self {
        .init(
            status: 405, type: "MethodNotAllowedException",
            message: "Requested method is not allowed, please refer to API document.")
    }

    public static func badRequest(_ message: String) -> Self {
        .init(status: 400, type: "BadRequestException", message: message)
    }

    public static func requestTooLarge(limit: Int) -> Self {
        .init(
            status: 413, type: "RequestEntityTooLargeException",
            message: "The request body is larger than max_request_size (\(limit) bytes).")
    }

    public static func internalError(_ message: String) -> Self {
        .init(status: 500, type: "InternalServerException", message: message)
    }

    public static func modelNotFound(_ name: String) -> Self {
        .init(status: 404, type: "ModelNotFoundException", message: "Model not found: \(name)")
    }

    public static func versionNotFound(_ name: String, _ version: String) -> Self {
        .init(
            status: 404, type: "ModelVersionNotFoundException",
            message: "Model version: \(version) does not exist for model: \(name)")
    }

    /// A batch's model call threw (TorchServe answers 503 "Prediction failed").
    public static var predictionFailed: Self {
        .init(status: 503, type: "InternalServerException", message: "Prediction failed")
    }

    /// A batch ran past `responseTimeout`; its worker is replaced (TorchServe: 500 "Worker died.").
    public static var workerDied: Self { .init(status: 500, type: "InternalServerException", message: "Worker died.") }

    /// libtorch ran out of memory for a batch (TorchServe: 507).
    public static var outOfResources: Self {
        .init(status: 507, type: "InternalServerException", message: "Out of resources")
    }
}
