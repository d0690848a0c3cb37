import EmberCore
import EmberHTTP
import EmberTorch
import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import EmberServer

/// Slow clients (slowloris) are disconnected: a request head or body that does not arrive in time
/// closes the connection, and the server keeps answering others.
@Suite struct RequestDeadlineTests {
    func withListener(_ body: @Sendable (Int) async throws -> Void) async throws {
        var logger = Logger(label: "deadline-test")
        logger.logLevel = .critical
        let configuration = try ServerConfiguration(properties: "model_store=/tmp", environment: [:])
        let metrics = ServerMetrics(hostname: "test")
        let registry = ModelRegistry(
            backend: TorchInferenceBackend(logger: logger), configuration: configuration, metrics: metrics, logger: logger)
        var settings = HTTPSettings()
        settings.requestHeadTimeoutSeconds = 0.5
        settings.requestBodyTimeoutSeconds = 0.5
        let listeners = Listeners(
            service: RegistryService(registry: registry, metrics: metrics), settings: settings, metrics: metrics,
            logger: logger)
        let ports = PortCollector()
        let group = ServiceGroup(
            services: [try listeners.inference(host: "127.0.0.1", port: 0) { await ports.set("inference", $0) }],
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = await ports.wait(for: 1)["inference"] ?? 0
            defer { Task { await group.triggerGracefulShutdown() } }
            try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Sends `text` and reads for up to `wait` seconds: the bytes received, and whether the server closed.
    static func exchange(
        port: Int, _ text: String, wait: TimeInterval, until enough: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }
    ) async throws -> (received: [UInt8], closed: Bool) {
        try await offThePool { exchangeBlocking(port: port, text, wait: wait, until: enough) }
    }

    static func exchangeBlocking(
        port: Int, _ text: String, wait: TimeInterval, until enough: ([UInt8]) -> Bool
    ) -> (received: [UInt8], closed: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return ([], false) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return ([], false) }
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        var timeout = timeval(tv_sec: Int(wait), tv_usec: Int((wait - Double(Int(wait))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return (received, true) }
            if count < 0 { return (received, false) }  // still open when the wait ran out
            received += buffer[0..<count]
            if enough(received) { return (received, false) }
        }
    }

    @Test func aRequestHeadThatNeverEndsIsCutOff() async throws {
        try await withListener { port in
            let reply = try await Self.exchange(port: port, "GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ", wait: 5)
            #expect(reply.closed, "the server kept a half-sent request head open")
        }
    }

    @Test func aBodyThatTricklesIsCutOff() async throws {
        try await withListener { port in
            let reply = try await Self.exchange(
                port: port, "POST /predictions/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc", wait: 5)
            #expect(reply.closed, "the server kept a half-sent body open")
        }
    }

    @Test func aCompleteRequestIsAnsweredAndTheServerKeepsServing() async throws {
        try await withListener { port in
            let reply = try await Self.exchange(port: port, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", wait: 20) {
                String(decoding: $0, as: UTF8.self).contains("Healthy")
            }
            let text = String(decoding: reply.received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
            #expect(text.contains("Healthy"))
        }
    }
}
