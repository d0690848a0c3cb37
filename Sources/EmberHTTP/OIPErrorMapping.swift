import EmberCore
import HTTPTypes

/// The Open Inference Protocol's (and KServe v1's) own mapping of the core's error codes: the status
/// for each code, and the body `{"error": "<message>"}`. TorchServe's mapping is `ErrorMapping.swift`.
extension ServerError.Code {
    var oipStatus: HTTPResponse.Status {
        switch self {
        case .badRequest, .invalidModel, .modelNameInvalid, .downloadFailed, .tokenRejected: .badRequest
        case .requestTooLarge: .contentTooLarge
        case .resourceNotFound, .modelNotFound, .versionNotFound, .archiveNotFound: .notFound
        case .methodNotAllowed, .modelAPIDisabled: .methodNotAllowed
        case .cannotRemoveDefaultVersion: .forbidden
        case .conflict: .conflict
        case .noWorker, .workersFailedToStart: .serviceUnavailable
        case .requestCancelled: .init(code: 499)
        case .outOfResources: .init(code: 507)
        default: .internalServerError
        }
    }
}

extension ServerError {
    /// The protocol's error body.
    public var oipBody: JSONValue { ["error": .string(message)] }

    /// The HTTP status the Open Inference Protocol routes answer for this error.
    public var oipStatus: Int { Int(code.oipStatus.code) }
}
