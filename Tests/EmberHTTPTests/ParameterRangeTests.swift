import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// Numbers from a client are checked before they are used: one outside its range, or too large for any
/// integer, is a 400 naming the parameter and the range, and never reaches the service.
@Suite struct ParameterRangeTests {
    static func service() -> FakeModelService {
        FakeModelService(FakeModelService.Answers(models: ["mlp": ["1.0"]]))
    }

    @Test func listPagingNumbersBeyondAnIntAre400() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            let huge = try await client.send(.get, "/models?next_page_token=9223372036854775807")
            #expect(huge.json == ErrorBody.badRequest(
                "next_page_token must be an integer from -2147483648 to 2147483647; got 9223372036854775807."))
            let overflow = try await client.send(.get, "/models?limit=99999999999999999999999")
            #expect(overflow.status == .badRequest)
            #expect(message(overflow).hasPrefix("limit must be an integer from"))
            // Within an int, TorchServe's clamping still applies.
            #expect(try await client.send(.get, "/models?next_page_token=2147483647&limit=-7").status == .ok)
        }
        #expect(service.calls == [.list(limit: 100, offset: 2_147_483_647)])
    }

    @Test func scaleWorkerCountsOutsideTheirRangeAre400() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            let negative = try await client.send(.put, "/models/mlp?min_worker=-1")
            #expect(negative.json == ErrorBody.badRequest("min_worker must be an integer from 0 to 2147483647; got -1."))
            let huge = try await client.send(.put, "/models/mlp?min_worker=1&max_worker=18446744073709551616")
            #expect(huge.json == ErrorBody.badRequest(
                "max_worker must be an integer from 0 to 2147483647; got 18446744073709551616."))
            // Not a number: TorchServe's default (1).
            #expect(try await client.send(.put, "/models/mlp?min_worker=lots").status == .ok)
        }
        #expect(service.calls == [.scale(model: "mlp", version: nil, minWorkers: 1, maxWorkers: 1, synchronous: false)])
    }

    @Test func registerSettingsAboveTheirRangeAre400() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            let batch = try await client.send(.post, "/models?url=a.mar&batch_size=5000")
            #expect(batch.json == ErrorBody.badRequest("batch_size must be an integer from 1 to 1024; got 5000."))
            let delay = try await client.send(.post, "/models?url=a.mar&max_batch_delay=9223372036854775807")
            #expect(delay.json?["message"] == "max_batch_delay must be an integer from 0 to 600000; got 9223372036854775807.")
            let timeout = try await client.send(.post, "/models?url=a.mar&response_timeout=604801")
            #expect(timeout.status == .badRequest)
            // A JSON number too large for an integer was a trap converting it; now it is a 400.
            let json = try await client.send(
                .post, "/models", body: #"{"url": "a.mar", "initial_workers": 1e300}"#, contentType: "application/json")
            #expect(json.status == .badRequest)
            #expect(message(json).hasPrefix("initial_workers must be an integer from 1 to"))
            // Below the range is "not given", as TorchServe's -1 defaults.
            #expect(try await client.send(.post, "/models?url=b.mar&batch_size=-1&initial_workers=-3").status == .ok)
        }
        var expected = RegisterRequest()
        expected.url = "b.mar"
        #expect(service.calls == [.register(expected)])
    }
}

private func message(_ response: TestResponse) -> String {
    guard case .string(let text)? = response.json?["message"] else { return "" }
    return text
}
