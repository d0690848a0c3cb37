import EmberCore
import EmberHTTP
import HummingbirdTesting
import Testing

/// The metrics listener: Prometheus text from the shared metrics, refreshed on each scrape, filtered
/// by `name[]`.
@Suite struct MetricsListenerTests {
    @Test func metricsAreRenderedRefreshedAndFiltered() async throws {
        let metrics = ServerMetrics(hostname: "box")
        let refreshes = Counter()
        try await Listener.inference.test(metrics: metrics) { client throws in
            _ = try await client.send(.get, "/ping")
            _ = try await client.send(.get, "/nowhere")
        }
        try await Listener.metrics.test(metrics: metrics, refreshMetrics: { refreshes.increment() }) { client throws in
            let all = try await client.send(.get, "/metrics")
            #expect(all.status == .ok)
            #expect(all.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(all.text.contains(#"Requests2XX{Level="Host",Hostname="box",} 1.0"#))
            #expect(all.text.contains(#"Requests4XX{Level="Host",Hostname="box",} 1.0"#))
            let filtered = try await client.send(.get, "/metrics?name[]=Requests4XX")
            #expect(filtered.text.contains("Requests4XX"))
            #expect(!filtered.text.contains("Requests2XX"))
            #expect(try await client.send(.get, "/other").status == .notFound)
        }
        #expect(refreshes.value == 2)
    }
}
