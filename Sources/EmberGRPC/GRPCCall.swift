import EmberCore
import EmberHTTP
import Foundation
import GRPCCore
import Logging

/// What every RPC does around its work, as the HTTP listeners' responder does for a request: a request
/// id in the log metadata, one error shape (a gRPC status from ``ServerError``; the details of an
/// unexpected failure stay in the log), and an access-log line with the method and the status code.
struct GRPCCall: Sendable {
    /// Which table maps errors: TorchServe's (with the exception name) or the OIP service's.
    enum Style: Sendable { case torchServe, oip }

    /// One RPC's facts for its handler.
    struct Info: Sendable {
        let id: String
        let logger: Logger
    }

    let logger: Logger
    let accessLog: AccessLog?
    let style: Style

    func run<T: Sendable>(_ context: ServerContext, _ body: (Info) async throws -> T) async throws -> T {
        let id = RequestID.next()
        let started = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: "request.id"] = "\(id)"
        do {
            let value = try await body(Info(id: id, logger: logger))
            record(context, id: id, code: .ok, started: started)
            return value
        } catch {
            let failure = rpcError(error, id: id, logger: logger)
            record(context, id: id, code: Status.Code(failure.code), started: started)
            throw failure
        }
    }

    /// Any failure as the status the client gets.
    func rpcError(_ error: any Error, id: String, logger: Logger) -> RPCError {
        switch error {
        case let known as ServerError:
            return known.rpcError(oip: style == .oip)
        case let rpc as RPCError:
            return rpc
        case is CancellationError:
            return ServerError.requestCancelled.rpcError(oip: style == .oip)
        default:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return RPCError(code: .internalError, message: "Internal server error (request id \(id)); see the server log.")
        }
    }

    private func record(_ context: ServerContext, id: String, code: Status.Code, started: ContinuousClock.Instant) {
        accessLog?.record(
            requestID: id, method: "POST", uri: "/" + context.descriptor.fullyQualifiedMethod,
            status: code.rawValue, milliseconds: (ContinuousClock.now - started).milliseconds,
            protocolName: "gRPC")
    }
}
