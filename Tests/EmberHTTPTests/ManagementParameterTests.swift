import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// The management routes' parameters as the service receives them, and the answers it gives back.
@Suite struct ManagementParameterTests {
    static func service(_ update: (inout FakeModelService.Answers) -> Void = { _ in }) -> FakeModelService {
        var answers = FakeModelService.Answers(models: ["mlp": ["1.0", "2.0"], "other": ["1.0"]])
        update(&answers)
        return FakeModelService(answers)
    }

    static func registration(_ fill: (inout RegisterRequest) -> Void) -> RegisterRequest {
        var request = RegisterRequest()
        fill(&request)
        return request
    }

    @Test func registerReadsTheQueryString() async throws {
        let service = Self.service { $0.changeStatus = 202 }
        try await Listener.management.test(service: service) { client throws in
            let reply = try await client.send(
                .post,
                "/models?url=a.mar&model_name=alpha&handler=h&runtime=python&batch_size=4&max_batch_delay=50"
                    + "&initial_workers=2&synchronous=TRUE&response_timeout=7&startup_timeout=9&batch_size=8")
            #expect(reply.status == .accepted)
            #expect(reply.json == ["status": "Model \"alpha\" registered"])
            // Absent, empty or unparseable values are "not given"; only "true" is true.
            _ = try await client.send(.post, "/models?url=b.mar&model_name=&batch_size=x&synchronous=yes")
            _ = try await client.send(.post, "/models?url=c.mar")
        }
        #expect(service.calls == [
            .register(Self.registration {
                $0.url = "a.mar"
                $0.modelName = "alpha"
                $0.handler = "h"
                $0.runtime = "python"
                $0.settings.batchSize = 8
                $0.settings.maxBatchDelay = .milliseconds(50)
                $0.settings.minWorkers = 2
                $0.settings.maxWorkers = 2
                $0.synchronous = true
                $0.settings.responseTimeout = .seconds(7)
                $0.settings.startupTimeout = .seconds(9)
            }),
            .register(Self.registration {
                $0.url = "b.mar"
                $0.synchronous = false
            }),
            .register(Self.registration { $0.url = "c.mar" }),
        ])
    }

    @Test func registerReadsAJSONBodyLeniently() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            let single = "{'url': 'slow.mar', 'model_name': 'slow2', 'initial_workers': '1', 'synchronous': 'false'}"
            #expect(try await client.send(.post, "/models", body: single, contentType: "application/json").status == .ok)
            let typed = #"{"url": "x.mar", "batch_size": 4.0, "max_batch_delay": 2.5, "synchronous": false, "extra": [1]}"#
            #expect(try await client.send(.post, "/models?url=ignored.mar", body: typed, contentType: "Application/JSON; charset=utf-8").status == .ok)
            let invalid = try await client.send(.post, "/models", body: "{url", contentType: "application/json")
            #expect(invalid.status == .badRequest)
            #expect(invalid.json?["type"] == "BadRequestException")
            let array = try await client.send(.post, "/models", body: "[1]", contentType: "application/json")
            #expect(array.json == ErrorBody.badRequest("The JSON body must be an object."))
        }
        #expect(service.calls == [
            .register(Self.registration {
                $0.url = "slow.mar"
                $0.modelName = "slow2"
                $0.settings.minWorkers = 1
                $0.settings.maxWorkers = 1
                $0.synchronous = false
            }),
            .register(Self.registration {
                $0.url = "x.mar"
                $0.settings.batchSize = 4
                $0.synchronous = false
            }),
        ])
    }

    @Test func registerWithoutAURLIs400AndNeverReachesTheService() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            #expect(try await client.send(.post, "/models").json == ErrorBody.badRequest("Parameter url is required."))
            let json = try await client.send(.post, "/models", body: #"{"model_name": "m"}"#, contentType: "application/json")
            #expect(json.json == ErrorBody.badRequest("Parameter url is required."))
        }
        #expect(service.calls.isEmpty)
    }

    @Test func aRegisterBodyOverTheLimitIs413() async throws {
        let service = Self.service()
        let settings = HTTPSettings(maxRequestSize: 10, enableModelAPI: true)
        try await Listener.management.test(service: service, settings: settings) { client throws in
            let reply = try await client.send(
                .post, "/models", body: #"{"url": "long-name.mar"}"#, contentType: "application/json")
            #expect(reply.status.code == 413)
            #expect(reply.json?["type"] == "RequestEntityTooLargeException")
        }
        #expect(service.calls.isEmpty)
    }

    @Test func scaleDefaultsAndChecksItsWorkerCounts() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            let scaled = try await client.send(.put, "/models/mlp")
            #expect(scaled.json == ["status": "Workers scaled to 1 for model: mlp"])
            _ = try await client.send(.put, "/models/mlp/2.0?min_worker=3&synchronous=true")
            _ = try await client.send(.put, "/models/mlp?min_worker=2&max_worker=5&synchronous=yes&model_version=1.0")
            let inverted = try await client.send(.put, "/models/mlp?min_worker=3&max_worker=2")
            #expect(inverted.json == ErrorBody.badRequest("max_worker cannot be less than min_worker."))
            #expect(try await client.send(.put, "/models/nope").json == ErrorBody.modelNotFound("nope"))
        }
        #expect(service.calls == [
            .scale(model: "mlp", version: nil, minWorkers: 1, maxWorkers: 1, synchronous: false),
            .scale(model: "mlp", version: "2.0", minWorkers: 3, maxWorkers: 3, synchronous: true),
            .scale(model: "mlp", version: "1.0", minWorkers: 2, maxWorkers: 5, synchronous: false),
            .scale(model: "nope", version: nil, minWorkers: 1, maxWorkers: 1, synchronous: false),
        ])
    }

    @Test func describeTargetsTheDefaultAVersionOrAll() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            #expect(try await client.send(.get, "/models/mlp").json == [["modelName": "mlp", "modelVersion": "1.0"]])
            #expect(try await client.send(.get, "/models/mlp/2.0").json?[0]?["modelVersion"] == "2.0")
            let all = try await client.send(.get, "/models/mlp/all")
            #expect(all.json?[1]?["modelVersion"] == "2.0")
            // TorchServe routes GET …/set-default to describe.
            #expect(try await client.send(.get, "/models/mlp/2.0/set-default").status == .ok)
            #expect(try await client.send(.get, "/models/mlp/9.9").json?["type"] == "ModelVersionNotFoundException")
            let options = try await client.send(.options, "/models/mlp")
            #expect(options.json?["info"]?["title"] == "RESTful Management API for: mlp")
        }
        #expect(service.calls == [
            .describe(model: "mlp", version: .defaultVersion), .describe(model: "mlp", version: .version("2.0")),
            .describe(model: "mlp", version: .all), .describe(model: "mlp", version: .defaultVersion),
            .describe(model: "mlp", version: .version("9.9")),
        ])
    }

    @Test func listClampsItsLimitAndPageToken() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            #expect(try await client.send(.get, "/models").json == [
                "models": [["modelName": "mlp"], ["modelName": "other"]],
            ])
            for query in ["limit=2&next_page_token=1", "limit=101", "limit=-1&next_page_token=-5", "limit=x&next_page_token=y", "limit=0"] {
                #expect(try await client.send(.get, "/models?\(query)").status == .ok)
            }
        }
        #expect(service.calls == [
            .list(limit: 100, offset: 0), .list(limit: 2, offset: 1), .list(limit: 100, offset: 0),
            .list(limit: 100, offset: 0), .list(limit: 100, offset: 0), .list(limit: 0, offset: 0),
        ])
    }

    @Test func unregisterAndSetDefaultNameTheirVersion() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service) { client throws in
            #expect(try await client.send(.delete, "/models/mlp/2.0").json == ["status": "Model \"mlp\" unregistered"])
            #expect(try await client.send(.delete, "/models/other").status == .ok)
            let defaulted = try await client.send(.put, "/models/mlp/2.0/set-default")
            #expect(defaulted.json == ["status": "Default version successfully updated for model \"mlp\" to \"2.0\""])
            #expect(try await client.send(.put, "/models/mlp/7.0/set-default").status == .notFound)
        }
        #expect(service.calls == [
            .unregister(model: "mlp", version: "2.0"), .unregister(model: "other", version: nil),
            .setDefault(model: "mlp", version: "2.0"), .setDefault(model: "mlp", version: "7.0"),
        ])
    }

    @Test func withTheModelAPIOffRegisterAndUnregisterAre405() async throws {
        let service = Self.service()
        try await Listener.management.test(service: service, settings: HTTPSettings(enableModelAPI: false)) { client throws in
            #expect(try await client.send(.post, "/models?url=a.mar").json == ErrorBody.methodNotAllowed)
            #expect(try await client.send(.delete, "/models/mlp").json == ErrorBody.methodNotAllowed)
            #expect(try await client.send(.delete, "/models/mlp/1.0").status == .methodNotAllowed)
            // Reading, scaling and choosing the default stay available.
            #expect(try await client.send(.get, "/models").status == .ok)
            #expect(try await client.send(.put, "/models/mlp?min_worker=1").status == .ok)
            #expect(try await client.send(.put, "/models/mlp/2.0/set-default").status == .ok)
        }
        #expect(service.calls == [
            .list(limit: 100, offset: 0),
            .scale(model: "mlp", version: nil, minWorkers: 1, maxWorkers: 1, synchronous: false),
            .setDefault(model: "mlp", version: "2.0"),
        ])
    }
}
