import EmberCore
import EmberHTTP
import GRPCCore

/// The one place where the core's error codes become gRPC statuses. TorchServe derives the gRPC code
/// from the HTTP status its REST API would answer (`GRPCUtils.getGRPCStatusCode`, contract §8), so this
/// table starts from the same HTTP status (`ErrorMapping.swift`, or the OIP routes' own for the OIP
/// service) and adds TorchServe's two gRPC-only answers: a rejected token and a disabled model API
/// are PERMISSION_DENIED.
extension ServerError {
    /// The gRPC code for an error of TorchServe's services (`oip`: of the OIP service).
    func grpcCode(oip: Bool = false) -> RPCError.Code {
        switch code {
        case .tokenRejected, .modelAPIDisabled: return .permissionDenied
        case .requestTooLarge: return .resourceExhausted
        default: return Self.grpcCode(httpStatus: oip ? oipStatus : httpStatus)
        }
    }

    /// TorchServe's HTTP→gRPC map (for failures: 2xx never gets here).
    static func grpcCode(httpStatus: Int) -> RPCError.Code {
        switch httpStatus {
        case 400: .invalidArgument
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .notFound
        case 405, 501: .unimplemented
        case 409: .aborted
        case 413, 429: .resourceExhausted
        case 416: .outOfRange
        case 499: .cancelled
        case 503: .unavailable
        case 504: .deadlineExceeded
        default: .internalError
        }
    }

    /// The error as the client receives it. TorchServe's services add its exception name on a second
    /// line of the description, as TorchServe does ("Model not found: x\nModelNotFoundException");
    /// the OIP service sends the message alone.
    func rpcError(oip: Bool = false) -> RPCError {
        RPCError(code: grpcCode(oip: oip), message: oip ? message : message + "\n" + exceptionType)
    }
}
