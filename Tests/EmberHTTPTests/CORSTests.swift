import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// `cors_allowed_*`: exactly the configured strings on every answer of every listener, errors included.
@Suite struct CORSTests {
    @Test(arguments: Listener.allCases)
    func configuredHeadersAreOnEveryAnswer(_ listener: Listener) async throws {
        let settings = HTTPSettings(
            corsAllowedOrigin: "https://app.example", corsAllowedMethods: "GET, POST", corsAllowedHeaders: "X-Custom")
        try await listener.test(settings: settings) { client throws in
            for reply in [try await client.send(.options, "/"), try await client.send(.get, "/nowhere")] {
                #expect(reply.headers[.accessControlAllowOrigin] == "https://app.example")
                #expect(reply.headers[.accessControlAllowMethods] == "GET, POST")
                #expect(reply.headers[.accessControlAllowHeaders] == "X-Custom")
            }
        }
    }

    @Test func onlyTheConfiguredOnesAreSent() async throws {
        try await Listener.inference.test(settings: HTTPSettings(corsAllowedOrigin: "*")) { client throws in
            let reply = try await client.send(.get, "/ping")
            #expect(reply.headers[.accessControlAllowOrigin] == "*")
            #expect(reply.headers[.accessControlAllowMethods] == nil)
            #expect(reply.headers[.accessControlAllowHeaders] == nil)
        }
    }
}
