import EmberCore
import HTTPTypes

/// The one place where the core's error codes become HTTP answers: TorchServe's status and exception
/// name for each code (contract §1.3), and its body `{"code": 404, "type": "...", "message": "..."}`.
extension ServerError.Code {
    var http: (status: HTTPResponse.Status, type: String) {
        switch self {
        case .badRequest: (.badRequest, "BadRequestException")
        case .invalidModel, .modelNameInvalid: (.badRequest, "InvalidModelException")
        case .downloadFailed: (.badRequest, "DownloadArchiveException")
        case .tokenRejected: (.badRequest, "InvalidKeyException")
        case .requestTooLarge: (.contentTooLarge, "RequestEntityTooLargeException")
        case .resourceNotFound: (.notFound, "ResourceNotFoundException")
        case .modelNotFound, .archiveNotFound: (.notFound, "ModelNotFoundException")
        case .versionNotFound: (.notFound, "ModelVersionNotFoundException")
        case .methodNotAllowed, .modelAPIDisabled: (.methodNotAllowed, "MethodNotAllowedException")
        case .cannotRemoveDefaultVersion: (.forbidden, "InvalidModelVersionException")
        case .conflict: (.conflict, "ConflictStatusException")
        case .noWorker: (.serviceUnavailable, "ServiceUnavailableException")
        // nginx's "client closed request": nobody reads it, but the access log and metrics show why.
        case .requestCancelled: (.init(code: 499), "RequestCancelledException")
        case .predictionFailed: (.serviceUnavailable, "InternalServerException")
        case .outOfResources: (.init(code: 507), "InternalServerException")
        default: (.internalServerError, "InternalServerException")
        }
    }
}

extension ServerError {
    /// The HTTP status TorchServe answers for this error.
    public var httpStatus: Int { Int(code.http.status.code) }

    /// TorchServe's exception name for this error.
    public var exceptionType: String { code.http.type }

    /// TorchServe's error body.
    public var httpBody: JSONValue {
        ["code": .int(httpStatus), "type": .string(exceptionType), "message": .string(message)]
    }
}
