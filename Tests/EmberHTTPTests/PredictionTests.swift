import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/predictions/{model}[/{version}]`: what reaches the service from each kind of body, what goes
/// back, and the errors on the way.
@Suite struct PredictionTests {
    static let models = FakeModelService.Answers(models: ["mlp": ["1.0", "2.0"]])

    @Test func aJSONBodyGoesToTheServiceAsItIsAndItsAnswerComesBack() async throws {
        var answers = Self.models
        answers.prediction = InferenceOutput(status: 201, body: Array("[0.25, 0.75]".utf8), contentType: "application/json")
        let service = FakeModelService(answers)
        try await Listener.inference.test(service: service) { client throws in
            let reply = try await client.send(
                .post, "/predictions/mlp", body: "[1, 2]", contentType: "application/json; charset=utf-8")
            #expect(reply.status.code == 201)
            #expect(reply.text == "[0.25, 0.75]")
            #expect(reply.headers[.contentType] == "application/json")
            _ = try await client.send(.put, "/predictions/mlp/2.0", body: "[3]", contentType: "application/json")
        }
        #expect(service.calls == [
            .predict(model: "mlp", version: nil, body: Array("[1, 2]".utf8), contentType: "application/json"),
            .predict(model: "mlp", version: "2.0", body: Array("[3]".utf8), contentType: "application/json"),
        ])
    }

    @Test func aBodyWithoutContentTypeHasNone() async throws {
        let service = FakeModelService(Self.models)
        try await Listener.inference.test(service: service) { client throws in
            #expect(try await client.send(.post, "/predictions/mlp", body: "raw").status == .ok)
        }
        #expect(service.calls == [.predict(model: "mlp", version: nil, body: Array("raw".utf8), contentType: nil)])
    }

    static func multipart(_ parts: [(name: String, type: String?, value: String)]) -> String {
        parts.map { part in
            "--XyZ\r\nContent-Disposition: form-data; name=\"\(part.name)\"\r\n"
                + (part.type.map { "Content-Type: \($0)\r\n" } ?? "") + "\r\n\(part.value)\r\n"
        }.joined() + "--XyZ--\r\n"
    }

    @Test func aMultipartBodyGivesItsDataFieldElseItsBodyField() async throws {
        let service = FakeModelService(Self.models)
        let type = "multipart/form-data; boundary=XyZ"
        try await Listener.inference.test(service: service) { client throws in
            let both = Self.multipart([("body", nil, "second"), ("data", "image/png", "first"), ("other", nil, "x")])
            #expect(try await client.send(.post, "/predictions/mlp", body: both, contentType: type).status == .ok)
            let bodyOnly = Self.multipart([("body", nil, "only")])
            #expect(try await client.send(.post, "/predictions/mlp", body: bodyOnly, contentType: type).status == .ok)
            let neither = Self.multipart([("file", nil, "x"), ("name", nil, "y")])
            let refused = try await client.send(.post, "/predictions/mlp", body: neither, contentType: type)
            #expect(refused.json == ErrorBody.badRequest(
                "The multipart body has no field named \"data\" or \"body\"; fields sent: file, name"))
            let broken = try await client.send(.post, "/predictions/mlp", body: "not multipart", contentType: type)
            #expect(broken.status == .badRequest)
            #expect(broken.json?["type"] == "BadRequestException")
        }
        #expect(service.calls.filter { if case .predict = $0 { true } else { false } } == [
            .predict(model: "mlp", version: nil, body: Array("first".utf8), contentType: "image/png"),
            .predict(model: "mlp", version: nil, body: Array("only".utf8), contentType: nil),
        ])
    }

    @Test func aFormGivesItsDataFieldAndAnyOtherFormBodyIsTheInput() async throws {
        let service = FakeModelService(Self.models)
        let type = "application/x-www-form-urlencoded"
        try await Listener.inference.test(service: service) { client throws in
            #expect(try await client.send(.post, "/predictions/mlp", body: "a=1&data=%5B1%2C2%5D", contentType: type).status == .ok)
            #expect(try await client.send(.post, "/predictions/mlp", body: "body=b+c", contentType: type).status == .ok)
            #expect(try await client.send(.post, "/predictions/mlp", body: "\u{1}binary", contentType: type).status == .ok)
        }
        #expect(service.calls == [
            .predict(model: "mlp", version: nil, body: Array("[1,2]".utf8), contentType: nil),
            .predict(model: "mlp", version: nil, body: Array("b c".utf8), contentType: nil),
            .predict(model: "mlp", version: nil, body: Array("\u{1}binary".utf8), contentType: nil),
        ])
    }

    @Test func anUnknownModelOrVersionIs404EvenWithABadBody() async throws {
        let service = FakeModelService(Self.models)
        try await Listener.inference.test(service: service) { client throws in
            let unknown = try await client.send(.post, "/predictions/nope", body: "[1]", contentType: "application/json")
            #expect(unknown.json == ErrorBody.modelNotFound("nope"))
            let version = try await client.send(.post, "/predictions/mlp/9.9", body: "[1]", contentType: "application/json")
            #expect(version.json == [
                "code": 404, "type": "ModelVersionNotFoundException",
                "message": "Model version: 9.9 does not exist for model: mlp",
            ])
            let badBody = try await client.send(
                .post, "/predictions/nope", body: "garbage", contentType: "multipart/form-data; boundary=XyZ")
            #expect(badBody.json == ErrorBody.modelNotFound("nope"))
        }
    }

    @Test func aBodyOverTheLimitIs413AndReachesNoModel() async throws {
        let service = FakeModelService(Self.models)
        try await Listener.inference.test(service: service, settings: HTTPSettings(maxRequestSize: 16)) { client throws in
            let large = try await client.send(
                .post, "/predictions/mlp", body: String(repeating: "1", count: 17), contentType: "application/json")
            #expect(large.status.code == 413)
            #expect(large.json == [
                "code": 413, "type": "RequestEntityTooLargeException",
                "message": "The request body is larger than max_request_size (16 bytes).",
            ])
            let fits = try await client.send(
                .post, "/predictions/mlp", body: String(repeating: "1", count: 16), contentType: "application/json")
            #expect(fits.status == .ok)
        }
        #expect(service.calls.count == 1)
    }

    @Test func healthAndReadinessFollowTheService() async throws {
        let service = FakeModelService(Self.models)
        try await Listener.inference.test(service: service) { client throws in
            #expect(try await client.send(.get, "/ping").json == ["status": "Healthy"])
            #expect(try await client.send(.get, "/v2/health/live").json == ["live": true])
            #expect(try await client.send(.get, "/v2/health/ready").json == ["ready": true])
            #expect(try await client.send(.get, "/v2/models/mlp/ready").json == ["name": "mlp", "ready": true])
            // The Open Inference Protocol answers in its own error shape.
            #expect(try await client.send(.get, "/v2/models/nope/ready").json == ["error": "Model not found: nope"])
            service.change {
                $0.healthy = false
                $0.ready = false
            }
            let ping = try await client.send(.get, "/ping")
            #expect(ping.status == .internalServerError)
            #expect(ping.json == ["status": "Unhealthy"])
            let ready = try await client.send(.get, "/v2/health/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json == ["ready": false])
            #expect(try await client.send(.get, "/v2/models/mlp/ready").status == .serviceUnavailable)
        }
    }
}
