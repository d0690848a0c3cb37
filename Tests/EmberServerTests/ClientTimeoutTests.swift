import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `clientTimeoutInMills` over HTTP: a request that waits in the queue longer is answered 503 and never runs.
@Suite(.serialized) struct ClientTimeoutTests {
    @Test func aRequestQueuedPastClientTimeoutIsAnswered503AndNotRun() async throws {
        // slowq: the slow model with one worker and clientTimeoutInMills 200 (TestServer.makeModelStore).
        try await TestServer.with(models: ["slowq.mar"]) { server in
            let body = "POST /predictions/slowq HTTP/1.1\r\nHost: ember\r\nContent-Type: application/json\r\n"
            func post(_ json: String) -> [UInt8] { Array((body + "Content-Length: \(json.utf8.count)\r\n\r\n" + json).utf8) }
            // 1,500 rounds of the slow model (about 0.6 s here, much longer on a loaded machine) keep its
            // one worker busy.
            let busy = try #require(RawSocket.connect(port: server.inference))
            defer { close(busy) }
            #expect(RawSocket.send(busy, post("[1500, 21]")))
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            let queued = try await server.predict("slowq", json: "[1, 2]")
            let waited = ContinuousClock.now - started
            #expect(queued.status == 503, "\(queued.text)")
            #expect(queued.json?["type"] == "ServiceUnavailableException")
            #expect(queued.text.contains("clientTimeoutInMills (200 ms)"), "\(queued.text)")
            #expect(waited >= .milliseconds(190), "answered before its wait passed the limit: \(waited)")
            // Answered, or past the model's responseTimeout on a very loaded machine: either way not stuck.
            let first = try await offThePool { RawSocket.readResponse(busy, timeout: 40) }
            #expect(first.hasPrefix("HTTP/1.1 200") || first.hasPrefix("HTTP/1.1 500"), "\(first.prefix(100))")
            if first.hasPrefix("HTTP/1.1 200") {
                // One batch ran: the busy request's, never the one that timed out in the queue.
                let metrics = try await server.request("GET", port: server.metricsPort, "/metrics").text
                #expect(
                    metrics.contains(#"ember_batch_size_count{model_name="slowq",model_version="1.0",} 1.0"#),
                    "\(metrics.split(separator: "\n").filter { $0.contains("batch_size") })")
            }
            // Not queued behind anything: served.
            #expect(try await server.predict("slowq", json: "[1, 2]").status == 200)
            let described = try await server.manage("GET", "/models/slowq").json
            #expect(described?[0]?["clientTimeoutInMills"] == 200)
        }
    }
}
