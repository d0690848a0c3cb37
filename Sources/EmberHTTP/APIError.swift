import EmberCore

/// An error answered in TorchServe's shape: `{"code": 404, "type": "ModelNotFoundException", "message": …}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
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

    static var resourceNotFound: Self {
        .init(
            status: 404, type: "ResourceNotFoundException",
            message: "Requested resource is not found, please refer to API document.")
    }

    static var methodNotAllowed: Self {
        .init(
            status: 405, type: "MethodNotAllowedException",
            message: "Requested method is not allowed, please refer to API document.")
    }

    static func badRequest(_ message: String) -> Self {
        .init(status: 400, type: "BadRequestException", message: message)
    }

    static func requestTooLarge(limit: Int) -> Self {
        .init(
            status: 413, type: "RequestEntityTooLargeException",
            message: "The request body is larger than max_request_size (\(limit) bytes).")
    }

    static func internalError(_ message: String) -> Self {
        .init(status: 500, type: "InternalServerException", message: message)
    }
}
