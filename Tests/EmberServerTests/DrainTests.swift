import EmberCore
import EmberHTTP
import EmberTesting
import Foundation
import Logging
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import EmberServer

/// A graceful shutdown (SIGTERM) turns readiness false first; for `drain_delay_seconds` everything else
/// keeps serving, then the listeners stop.
@Suite struct DrainTests {
    static func get(_ port: Int, _ path: String, key: String? = nil, body: Data? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
        }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func readinessTurnsFalseAtShutdownWhileRequestsStillServe() async throws {
        let store = try FakeArchives.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try FakeArchives.write(name: "echo", into: store)
        let configuration = try TestServer.configuration(
            store: store, extra: "load_models=all\nhealth_probes_without_token=true\ndrain_delay_seconds=1.5")
        let tokens = TokenAuthorization()
        let key = tokens.token(for: .inference).key
        var logger = Logger(label: "drain-test")
        logger.logLevel = .critical
        let server = try await buildServer(
            configuration: configuration, backend: FakeInferenceBackend(), fetcher: nil, logger: logger,
            options: ServerOptions(tokens: tokens))
        let group = server.group
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = await server.ports.ready().inference
            #expect(try await Self.get(port, "/v2/health/ready").0 == 200)

            let shutdownStarted = ContinuousClock.now
            await group.triggerGracefulShutdown()
            var ready = 200
            let deadline = ContinuousClock.now + .seconds(1)
            while ready == 200, ContinuousClock.now < deadline {
                ready = try await Self.get(port, "/v2/health/ready").0
                if ready == 200 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(ready == 503)
            #expect(try await Self.get(port, "/v2/health/ready").1.contains("false"))
            // Draining, not stopped: liveness, ping and predictions still answer.
            #expect(try await Self.get(port, "/v2/health/live").0 == 200)
            #expect(try await Self.get(port, "/ping").0 == 200)
            let predicted = try await Self.get(port, "/predictions/echo", key: key, body: Data("still here".utf8))
            #expect(predicted.0 == 200)
            #expect(predicted.1 == "still here")
            #expect(try await Self.get(port, "/predictions/echo", body: Data("x".utf8)).0 == 400)

            try await tasks.waitForAll()
            #expect(ContinuousClock.now - shutdownStarted >= .seconds(1.5))
        }
    }
}
