/// An error answered in TorchServe's shape: `{"code": 404, "type": "ModelNotFoundException", "message": …}`.
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

    public init(_ failure: InferenceFailure) {
        self.init(status: failure.status, type: failure.type, message: failure.message)
    }
}
