import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

/// One listener in-process: its `Application` is built as the server builds it, but driven through
/// Hummingbird's router test mode, so no socket is bound and no libtorch is loaded.
enum Listener: Sendable, CaseIterable {
    case inference, management, metrics

    /// Runs `body` against this listener over `service`.
    func test<T: Sendable>(
        service: FakeModelService = FakeModelService(), settings: HTTPSettings = HTTPSettings(enableModelAPI: true),
        metrics: ServerMetrics = ServerMetrics(hostname: "test"), refreshMetrics: @escaping @Sendable () -> Void = {},
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "ember-http-test")
        logger.logLevel = .critical
        let listeners = Listeners(
            service: service, settings: settings, metrics: metrics, logger: logger, refreshMetrics: refreshMetrics)
        // The address is never bound in router mode.
        let app =
            switch self {
            case .inference: try listeners.inference(host: "127.0.0.1", port: 0)
            case .management: try listeners.management(host: "127.0.0.1", port: 0)
            case .metrics: try listeners.metrics(host: "127.0.0.1", port: 0)
            }
        return try await app.test(.router, body)
    }
}

extension TestClientProtocol {
    /// Sends a request with an optional text body and `Content-Type`.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, body: String? = nil, contentType: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = headers
        if let contentType { fields[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue? { try? JSONValue.parse(Array(buffer: body)) }
}


/// Header names HTTPTypes does not define (the fallback never applies: the names are valid).
enum Header {
    static let requestID = HTTPField.Name("x-request-id") ?? .via
    static let pragma = HTTPField.Name("Pragma") ?? .via
    static let expires = HTTPField.Name("Expires") ?? .via
}

/// Counts calls from any thread.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
