import EmberCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The responder of one listener: TorchServe's handler chain (API description first, then the token
/// check, then the listener's routes, then 404), one error shape for every failure, standard headers, the
/// Requests2XX/4XX/5XX counters and an access log line per request.
///
/// A request is answered in two steps: ``answerAtOnce(_:)`` runs everything that needs no waiting (the
/// API description, the token check, the listener's immediate routes such as `/ping`, every refusal);
/// only when that has no answer does ``answerLater(_:)`` run the routes that wait (a prediction, a
/// registration). The inference connection handler writes an immediate answer while it still reads the
/// request, without a task; Hummingbird's listeners call both through ``respond(to:context:)``.
public struct ListenerResponder: HTTPResponder {
    public typealias Context = EmberRequestContext

    let listener: OpenAPIDocument.Listener
    let settings: HTTPSettings
    let metrics: ServerMetrics
    let accessLog: AccessLog?
    let routes: @Sendable (Request, RequestPath, RequestInfo) async throws -> Response
    /// Routes answered without waiting; nil: not one of them.
    let immediateRoutes: @Sendable (Request, RequestPath, RequestInfo) throws -> BufferedResponse?

    /// Per-request facts the routes need.
    struct RequestInfo: Sendable {
        let id: String
        let listenerLogger: Logger
        let settings: HTTPSettings

        /// The listener's logger with the request id: made when something is logged, since setting
        /// metadata re-renders the handler's metadata (a few percent of a prediction's CPU).
        var logger: Logger {
            var logger = listenerLogger
            logger[metadataKey: "request.id"] = "\(id)"
            return logger
        }
    }

    /// One request on its way to an answer.
    struct Exchange: Sendable {
        let request: Request
        let path: RequestPath
        let info: RequestInfo
        let started: ContinuousClock.Instant
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let exchange = start(request, logger: context.logger)
        if let answer = answerAtOnce(exchange) { return answer.response }
        return await answerLater(exchange)
    }

    func start(_ request: Request, logger: Logger) -> Exchange {
        Exchange(
            request: request, path: RequestPath(request.uri.path),
            info: RequestInfo(id: RequestID.next(), listenerLogger: logger, settings: settings), started: .now)
    }

    /// The answer when no route has to wait for it (nil: call ``answerLater(_:)``).
    func answerAtOnce(_ exchange: Exchange) -> BufferedResponse? {
        var answer: BufferedResponse
        do {
            if let description = try apiDescription(exchange.request, exchange.path) {
                answer = description
            } else if let tokenReply = try authorize(exchange.request, exchange.path) {
                answer = tokenReply
            } else if let immediate = try immediateRoutes(exchange.request, exchange.path, exchange.info) {
                answer = immediate
            } else {
                return nil
            }
        } catch {
            answer = Self.buffered(failure(error, exchange))
        }
        finish(&answer.headers, status: answer.status, exchange)
        return answer
    }

    /// The answer of a route that waits (a prediction, a management call).
    func answerLater(_ exchange: Exchange) async -> Response {
        var response: Response
        do {
            response = try await routes(exchange.request, exchange.path, exchange.info)
        } catch {
            response = Self.error(failure(error, exchange))
        }
        finish(&response.headers, status: response.status, exchange)
        return response
    }

    private func failure(_ error: any Error, _ exchange: Exchange) -> ServerError {
        switch error {
        case let error as ServerError:
            return error
        case is NIOTooManyBytesError:
            return .requestTooLarge(limit: settings.maxRequestSize)
        default:
            // The details stay in the log; the client gets the request id to find them.
            exchange.info.logger.error("request failed", metadata: ["error": "\(error)"])
            return .internalError("Internal server error (request id \(exchange.info.id)); see the server log.")
        }
    }

    /// Standard headers, the status counters and the access log line.
    private func finish(_ headers: inout HTTPFields, status: HTTPResponse.Status, _ exchange: Exchange) {
        ResponseHeaders.appendStandard(to: &headers, requestID: exchange.info.id, cors: settings.cors)
        metrics.recordResponse(status: status.code)
        let elapsed = ContinuousClock.now - exchange.started
        accessLog?.record(
            requestID: exchange.info.id, method: exchange.request.method.rawValue,
            uri: exchange.request.uri.description, status: status.code, milliseconds: elapsed.milliseconds)
    }

    /// `/` answers only OPTIONS; `/api-description` answers any method (before any token check).
    private func apiDescription(_ request: Request, _ path: RequestPath) throws -> BufferedResponse? {
        if path.count == 0 {
            guard request.method == .options else { throw ServerError.methodNotAllowed }
            return Self.buffered(OpenAPIDocument.document(for: listener, settings: settings))
        }
        if path.count == 1, path[0] == "api-description" {
            return Self.buffered(OpenAPIDocument.document(for: listener, settings: settings))
        }
        return nil
    }

    static func json(_ value: JSONValue, status: Int = 200) -> Response {
        buffered(value, status: status).response
    }

    static func buffered(_ value: JSONValue, status: Int = 200) -> BufferedResponse {
        var headers = HTTPFields()
        headers.appendNew(.contentType, "application/json")
        // Straight into bytes (the same text as `prettyPrinted()`): under overload every refusal comes here.
        return BufferedResponse(
            status: .init(code: status), headers: headers, body: ByteBuffer(bytes: PrettyJSONWriter.document(value)))
    }

    static func error(_ error: ServerError) -> Response {
        json(error.httpBody, status: error.httpStatus)
    }

    static func buffered(_ error: ServerError) -> BufferedResponse {
        buffered(error.httpBody, status: error.httpStatus)
    }
}

/// An answer whose body is in memory: what the routes that need not wait return, written at once.
struct BufferedResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

extension Request {
    /// The body, refusing more than `limit` bytes (413).
    func collectBytes(limit: Int) async throws -> [UInt8] {
        var buffer = try await body.collect(upTo: limit)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Query parameters in order, repeated names kept.
    var queryPairs: [(name: String, value: String)] {
        URLEncodedForm.parse(uri.query ?? "")
    }

    func query(_ name: String) -> String? {
        queryPairs.last { $0.name == name }?.value
    }
}
