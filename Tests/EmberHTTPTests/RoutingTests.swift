import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// What every listener answers before and around its routes: 404 vs 405, TorchServe's error body,
/// the standard headers, and what a failing model service turns into.
@Suite struct RoutingTests {
    @Test(arguments: Listener.allCases)
    func anUnknownPathIs404WhateverTheMethod(_ listener: Listener) async throws {
        try await listener.test { client throws in
            for method: HTTPRequest.Method in [.get, .post, .put, .delete, .options] {
                let reply = try await client.send(method, "/nowhere")
                #expect(reply.status == .notFound, "\(method)")
                #expect(reply.json == ErrorBody.resourceNotFound, "\(method)")
                #expect(reply.headers[.contentType] == "application/json")
            }
        }
    }

    @Test(arguments: Listener.allCases)
    func theRootAnswersOnlyOptions(_ listener: Listener) async throws {
        try await listener.test { client throws in
            for method: HTTPRequest.Method in [.get, .post, .delete] {
                let reply = try await client.send(method, "/")
                #expect(reply.status == .methodNotAllowed, "\(method)")
                #expect(reply.json == ErrorBody.methodNotAllowed, "\(method)")
            }
            #expect(try await client.send(.options, "/").status == .ok)
        }
    }

    @Test(arguments: Listener.allCases)
    func everyAnswerCarriesTheStandardHeaders(_ listener: Listener) async throws {
        try await listener.test { client throws in
            let first = try await client.send(.get, "/nowhere")
            let second = try await client.send(.options, "/")
            for reply in [first, second] {
                #expect(reply.headers[Header.requestID]?.isEmpty == false)
                #expect(reply.headers[Header.pragma] == "no-cache")
                #expect(reply.headers[.cacheControl] == "no-cache; no-store, must-revalidate, private")
                #expect(reply.headers[Header.expires] == "Thu, 01 Jan 1970 00:00:00 UTC")
                #expect(reply.headers[.accessControlAllowOrigin] == nil)
            }
            #expect(first.headers[Header.requestID] != second.headers[Header.requestID])
        }
    }

    @Test func managementRoutesRefuseMethodsTheyDoNotServeWith405AndUnknownShapesWith404() async throws {
        let service = FakeModelService(.init(models: ["mlp": ["1.0"]]))
        try await Listener.management.test(service: service) { client throws in
            #expect(try await client.send(.patch, "/models").status == .methodNotAllowed)
            #expect(try await client.send(.post, "/models/mlp").json == ErrorBody.methodNotAllowed)
            #expect(try await client.send(.post, "/models/mlp/1.0").status == .methodNotAllowed)
            #expect(try await client.send(.delete, "/models/mlp/1.0/set-default").status == .methodNotAllowed)
            #expect(try await client.send(.put, "/models/mlp/1.0/other").json == ErrorBody.resourceNotFound)
            #expect(try await client.send(.get, "/models/mlp/1.0/set-default/more").status == .notFound)
            #expect(try await client.send(.get, "/model").status == .notFound)
        }
        #expect(service.calls.isEmpty)
    }

    @Test func inferenceRoutesOutsideTheContractAre404() async throws {
        try await Listener.inference.test { client throws in
            #expect(try await client.send(.post, "/predictions").json == ErrorBody.resourceNotFound)
            #expect(try await client.send(.get, "/v2/health/other").status == .notFound)
            #expect(try await client.send(.get, "/v2/models/mlp/versions").status == .notFound)
            #expect(try await client.send(.get, "/v2/models/mlp/other").json == ["error": "Requested resource is not found, please refer to API document."])
            #expect(try await client.send(.get, "/models").status == .notFound)
        }
    }

    @Test func aServiceErrorKeepsItsShapeAndAnyOtherErrorIsA500WithTheRequestID() async throws {
        struct Unexpected: Error {}
        let service = FakeModelService(
            .init(models: ["mlp": ["1.0"]], errors: [.predict: ServerError.outOfResources, .describe: Unexpected()]))
        try await Listener.inference.test(service: service) { client throws in
            let reply = try await client.send(.post, "/predictions/mlp", body: "[1]", contentType: "application/json")
            #expect(reply.status.code == 507)
            #expect(reply.json == ["code": 507, "type": "InternalServerException", "message": "Out of resources"])
        }
        try await Listener.management.test(service: service) { client throws in
            let reply = try await client.send(.get, "/models/mlp")
            #expect(reply.status == .internalServerError)
            #expect(reply.json?["type"] == "InternalServerException")
            let id = try #require(reply.headers[Header.requestID])
            #expect(reply.json?["message"] == .string("Internal server error (request id \(id)); see the server log."))
        }
    }

    @Test func percentEncodedSegmentsAndATrailingSlashAreTheSamePath() async throws {
        let service = FakeModelService(.init(models: ["my model": ["1.0"]]))
        try await Listener.management.test(service: service) { client throws in
            #expect(try await client.send(.get, "/models/my%20model/").status == .ok)
        }
        #expect(service.calls == [.describe(model: "my model", version: .defaultVersion)])
    }
}
