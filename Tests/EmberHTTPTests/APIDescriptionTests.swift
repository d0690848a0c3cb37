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
