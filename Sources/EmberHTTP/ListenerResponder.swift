import EmberCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The responder of one listener: TorchServe's handler chain (API description first, then the token
/// check, then the listener's routes, then 404), one error shape for every failure, standard headers, the
/// Requests2XX/4XX/5XX counters and an access log line per request.
public struct ListenerResponder: HTTPResponder {
    public typealias Context = EmberRequestContext

    let listener: OpenAPIDocument.Listener
    let settings: HTTPSettings
    let metrics: ServerMetrics
    let accessLog: AccessLog?
    let routes: @Sendable (Request, RequestPath, RequestInfo) async throws -> Response

    /// Per-request facts the routes need.
    struct RequestInfo: Sendable {
        let id: String
        let logger: Logger
        let settings: HTTPSettings
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let id = RequestID.next()
        let started = ContinuousClock.now
        let path = RequestPath(request.uri.path)
        var logger = context.logger
        logger[metadataKey: "request.id"] = "\(id)"
        var response: Response
        do {
            if let description = try apiDescription(request, path) {
                response = description
            } else if let tokenReply = try authorize(request, path) {
                response = tokenReply
            } else {
                response = try await routes(request, path, RequestInfo(id: id, logger: logger, settings: settings))
            }
        } catch let error as ServerError {
            response = Self.error(error)
        } catch is NIOTooManyBytesError {
            response = Self.error(.requestTooLarge(limit: settings.maxRequestSize))
        } catch {
            // The details stay in the log; the client gets the request id to find them.
            logger.error("request failed", metadata: ["error": "\(error)"])
            response = Self.error(.internalError("Internal server error (request id \(id)); see the server log."))
        }
        for field in ResponseHeaders.standard(requestID: id, cors: settings.cors) {
            response.headers.append(field)
        }
        metrics.recordResponse(status: Int(response.status.code))
        let elapsed = ContinuousClock.now - started
        accessLog?.record(
            requestID: id, method: request.method.rawValue, uri: request.uri.description,
            status: Int(response.status.code), milliseconds: elapsed.milliseconds)
        return response
    }

    /// `/` answers only OPTIONS; `/api-description` answers any method (before any token check).
    private func apiDescription(_ request: Request, _ path: RequestPath) throws -> Response? {
        if path.count == 0 {
            guard request.method == .options else { throw ServerError.methodNotAllowed }
            return Self.json(OpenAPIDocument.document(for: listener, settings: settings))
        }
        if path.count == 1, path[0] == "api-description" {
            return Self.json(OpenAPIDocument.document(for: listener, settings: settings))
        }
        return nil
    }

    static func json(_ value: JSONValue, status: Int = 200) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: .init(code: status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: value.prettyPrinted())))
    }

    static func error(_ error: ServerError) -> Response {
        json(error.httpBody, status: error.httpStatus)
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
