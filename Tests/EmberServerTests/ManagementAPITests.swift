import EmberArchive
import EmberCore
import Foundation
import Testing

@Suite(.serialized) struct ManagementAPITests {
    @Test func registerDescribeScaleSetDefaultUnregister() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let missingURL = try await server.manage("POST", "/models")
            #expect(missingURL.status == 400)
            #expect(missingURL.json?["message"] == "Parameter url is required.")
            #expect(try await server.manage("POST", "/models?url=../etc/passwd").json?["message"]
                == "Relative path is not allowed in url: ../etc/passwd")
            #expect(try await server.manage("POST", "/models?url=missing.mar").status == 404)
            #expect(try await server.manage("POST", "/models?url=http://example.com/x.mar").status == 404)
            #expect(try await server.manage("POST", "/models?url=mlp.mar").status == 409)

            // A second version, registered with 0 workers, does not become the default.
            let second = try await server.manage("POST", "/models?url=mlp-v2.mar&initial_workers=0")
            #expect(second.status == 200)
            #expect(second.json?["status"]
                == "Model \"mlp\" Version: 2.0 registered with 0 initial workers. Use scale workers API to add workers for the model.")
            let all = try await server.manage("GET", "/models/mlp/all")
            guard case .array(let versions)? = all.json else {
                Issue.record("describe all: \(all.text)")
                return
            }
            #expect(versions.count == 2)
            let describe = try await server.manage("GET", "/models/mlp")
            #expect(describe.json?[0]?["modelVersion"] == "1.0")
            #expect(describe.json?[0]?["batchSize"] == 8)
            #expect(describe.json?[0]?["maxBatchDelay"] == 20)
            #expect(describe.json?[0]?["loadedAtStartup"] == true)
            #expect(describe.json?[0]?["jobQueueStatus"] == ["remainingCapacity": 100, "pendingRequests": 0])
            #expect(describe.json?[0]?["workers"]?[0]?["status"] == "READY")
            #expect(try await server.manage("GET", "/models/mlp/9.9").json?["type"] == "ModelVersionNotFoundException")

            // Version 2.0 has no worker: 503 with TorchServe's message.
            let noWorker = try await server.predict("mlp/2.0", json: "[1, 1, 1, 1]")
            #expect(noWorker.status == 503)
            #expect(noWorker.json?["message"].map { "\($0)".contains("has no worker to serve inference request") } == true)
            let scaled = try await server.manage("PUT", "/models/mlp/2.0?min_worker=1&synchronous=true")
            #expect(scaled.status == 200)
            #expect(scaled.json?["status"] == "Workers scaled to 1 for model: mlp, version: 2.0")
            #expect(try await server.predict("mlp/2.0", json: "[1, 1, 1, 1]").status == 200)
            #expect(try await server.manage("PUT", "/models/mlp?min_worker=3&max_worker=2").status == 400)
            #expect(try await server.manage("PUT", "/models/mlp?min_worker=2").status == 202)

            // The default version cannot go while another exists.
            let forbidden = try await server.manage("DELETE", "/models/mlp")
            #expect(forbidden.status == 403)
            #expect(forbidden.json?["message"] == "Cannot remove default version for model mlp")
            let setDefault = try await server.manage("PUT", "/models/mlp/2.0/set-default")
            #expect(setDefault.json?["status"] == "Default version successfully updated for model \"mlp\" to \"2.0\"")
            #expect(try await server.manage("PUT", "/models/mlp/7.0/set-default").status == 404)
            #expect(try await server.manage("DELETE", "/models/mlp/1.0").json?["status"] == "Model \"mlp\" unregistered")
            #expect(try await server.manage("GET", "/models/mlp").json?[0]?["modelVersion"] == "2.0")
            #expect(try await server.manage("DELETE", "/models/mlp").status == 200)
            #expect(try await server.manage("GET", "/models/mlp").status == 404)
            #expect(try await server.predict("mlp", json: "[1, 1, 1, 1]").status == 404)
            #expect(try await server.manage("POST", "/models/mlp").status == 405)
        }
    }

    @Test func registerWithAJSONBodyDoesNotInventANegativeDelay() async throws {
        try await TestServer.with(models: []) { server in
            let reply = try await server.request(
                "POST", port: server.management, "/models",
                body: Data("{'url': 'slow.mar', 'model_name': 'slow2', 'initial_workers': '1', 'synchronous': 'true'}".utf8),
                contentType: "application/json")
            #expect(reply.status == 200, "\(reply.text)")
            let describe = try await server.manage("GET", "/models/slow2")
            #expect(describe.json?[0]?["maxBatchDelay"] == 100)
            #expect(describe.json?[0]?["modelName"] == "slow2")
        }
    }

    @Test func aModelThatFailsToLoadAnswers500AndIsNotLeftRegistered() async throws {
        try await TestServer.with(models: []) { server in
            let work = server.modelStore.appendingPathComponent("broken-model")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let model = work.appendingPathComponent("model.pt")
            try Data("definitely not torchscript".utf8).write(to: model)
            try ArchiveWriter(
                modelName: "garbage", version: "1.0", handler: "base_handler", serializedFile: model, exportPath: server.modelStore
            ).write()
            let reply = try await server.manage("POST", "/models?url=garbage.mar&initial_workers=1&synchronous=true")
            #expect(reply.status == 500)
            #expect(reply.json?["message"].map { "\($0)".contains("Failed to start workers for model garbage version: 1.0") } == true)
            #expect(try await server.manage("GET", "/models").json == ["models": []])
            #expect(try await server.manage("GET", "/models/garbage").status == 404)
            // The server keeps serving registrations.
            #expect(try await server.manage("POST", "/models?url=mlp.mar&initial_workers=1").status == 200)
        }
    }

    @Test func aHandlerNeitherDeclarativeNorPythonIsRefusedAtRegistration() async throws {
        try await TestServer.with(models: []) { server in
            // A directory archive whose manifest names a handler that is no builtin, spec or Python file.
            let directory = server.modelStore.appendingPathComponent("nonsense")
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("MAR-INF"), withIntermediateDirectories: true)
            let manifest = Manifest(
                runtime: "python",
                model: .init(modelName: "nonsense", serializedFile: nil, handler: "no_such_handler", modelVersion: "1.0"))
            try manifest.jsonData().write(to: directory.appendingPathComponent("MAR-INF/MANIFEST.json"))
            let reply = try await server.manage("POST", "/models?url=nonsense")
            #expect(reply.status == 400)
            #expect(reply.json?["message"].map { "\($0)".contains("image_classifier") } == true)
        }
    }

    @Test func listPaginatesByName() async throws {
        try await TestServer.with(models: ["mlp.mar", "slow.mar", "classifier.mar"]) { server in
            let first = try await server.manage("GET", "/models?limit=2")
            #expect(first.json?["nextPageToken"] == "2")
            #expect(first.json?["models"]?[0]?["modelName"] == "classifier")
            #expect(first.json?["models"]?[1]?["modelName"] == "mlp")
            let last = try await server.manage("GET", "/models?limit=2&next_page_token=2")
            #expect(last.json?["nextPageToken"] == nil)
            #expect(last.json?["models"]?[0]?["modelName"] == "slow")
            #expect(try await server.manage("GET", "/models?next_page_token=9").json == ["models": []])
        }
    }

    @Test func aBrokenArchiveIsRefusedAndNothingIsRegistered() async throws {
        try await TestServer.with(models: []) { server in
            try Data("not a zip".utf8).write(to: server.modelStore.appendingPathComponent("broken.mar"))
            let reply = try await server.manage("POST", "/models?url=broken.mar")
            #expect(reply.status == 400)
            #expect(try await server.manage("GET", "/models").json == ["models": []])
        }
    }

    @Test func scalingFromOneToFourAndBackUnderLoadFailsNoRequest() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<6 {
                    group.addTask {
                        var failed = 0
                        for round in 0..<25 {
                            let reply = try await server.predict("mlp", json: "[\(client), \(round), 1, 1]")
                            if reply.status != 200 { failed += 1 }
                        }
                        return failed
                    }
                }
                group.addTask {
                    for workers in [4, 1, 4, 1] {
                        let reply = try await server.manage("PUT", "/models/mlp?min_worker=\(workers)&max_worker=\(workers)&synchronous=true")
                        if reply.status != 200 { return 1000 }
                    }
                    return 0
                }
                var total = 0
                for try await failed in group { total += failed }
                return total
            }
            #expect(failures == 0)
            #expect(try await server.manage("GET", "/models/mlp").json?[0]?["workers"].map {
                if case .array(let workers) = $0 { workers.count } else { -1 }
            } == 1)
        }
    }
}
