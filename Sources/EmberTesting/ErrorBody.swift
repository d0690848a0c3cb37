import EmberCore

/// TorchServe's error bodies, as the tests expect them byte for byte (contract §1.4).
public enum ErrorBody {
    public static let resourceNotFound: JSONValue = [
        "code": 404, "type": "ResourceNotFoundException",
        "message": "Requested resource is not found, please refer to API document.",
    ]
    public static let methodNotAllowed: JSONValue = [
        "code": 405, "type": "MethodNotAllowedException",
        "message": "Requested method is not allowed, please refer to API document.",
    ]
    public static let authorizationFailed: JSONValue = [
        "code": 400, "type": "InvalidKeyException",
        "message": "Token Authorization failed. Token either incorrect, expired, or not provided correctly",
    ]
    public static let authenticationFailed: JSONValue = [
        "code": 400, "type": "InvalidKeyException",
        "message": "Token Authentication failed. Token either incorrect, expired, or not provided correctly",
    ]

    public static func modelNotFound(_ name: String) -> JSONValue {
        ["code": 404, "type": "ModelNotFoundException", "message": .string("Model not found: \(name)")]
    }

    public static func badRequest(_ message: String) -> JSONValue {
        ["code": 400, "type": "BadRequestException", "message": .string(message)]
    }
}
