import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// `OPTIONS /` and `/api-description`: each listener's own OpenAPI document, open without a key.
@Suite struct APIDescriptionTests {
    static func paths(_ document: JSONValue?) -> [String] {
        guard case .object(let pairs)? = document?["paths"] else { return [] }
        return pairs.map(\.0)
    }

    @Test(arguments: [
        (Listener.inference, "/predictions/{model_name}", "/models"),
        (Listener.management, "/models", "/ping"),
        (Listener.metrics, "/metrics", "/models"),
    ])
    func eachListenerDescribesItsOwnPaths(_ listener: Listener, served: String, notServed: String) async throws {
        try await listener.test(settings: HTTPSettings(version: "9.8.7")) { client throws in
            let options = try await client.send(.options, "/")
            #expect(options.status == .ok)
            #expect(options.headers[.contentType] == "application/json")
            #expect(options.json?["openapi"] == "3.0.1")
            #expect(options.json?["info"]?["version"] == "9.8.7")
            let paths = Self.paths(options.json)
            #expect(paths.contains(served))
            #expect(paths.contains("/api-description"))
            #expect(!paths.contains(notServed))
            for method: HTTPRequest.Method in [.get, .post, .options] {
                let description = try await client.send(method, "/api-description")
                #expect(description.status == .ok, "\(method)")
                #expect(description.json == options.json, "\(method)")
            }
        }
    }

    @Test(arguments: Listener.allCases)
    func theDescriptionNeedsNoKey(_ listener: Listener) async throws {
        let settings = HTTPSettings(tokenAuthorization: TokenAuthorization())
        try await listener.test(settings: settings) { client throws in
            #expect(try await client.send(.options, "/").status == .ok)
            #expect(try await client.send(.get, "/api-description").status == .ok)
        }
    }

    @Test func optionsOnAModelDescribesItsPredictionsOnlyWhenItExists() async throws {
        let service = FakeModelService(.init(models: ["mlp": ["1.0"]]))
        try await Listener.inference.test(service: service) { client throws in
            let known = try await client.send(.options, "/predictions/mlp")
            #expect(known.status == .ok)
            #expect(known.json?["info"]?["title"] == "RESTful API for: mlp")
            #expect(Self.paths(known.json) == ["/prediction/mlp"])
            let unknown = try await client.send(.options, "/predictions/nope")
            #expect(unknown.json == ErrorBody.modelNotFound("nope"))
        }
        #expect(service.calls == [.requireModel("mlp"), .requireModel("nope")])
    }
}

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
