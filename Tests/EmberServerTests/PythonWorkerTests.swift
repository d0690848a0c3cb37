import EmberCore
import Foundation
import Synchronization
import Testing

/// Archives with Python handlers, made by TorchServe's own torch-model-archiver, served by Ember's
/// Python workers (real `ts.model_service_worker` processes). One at a time: they count processes.
@Suite(.serialized) struct PythonWorkerTests {
    private static func body(_ json: String) -> Data { Data(json.utf8) }

    private func register(_ server: TestServer, _ query: String) async throws {
        let reply = try await server.manage("POST", "/models?\(query)&synchronous=true")
        try #require(reply.status == 200, "register \(query): \(reply.status) \(reply.text)")
    }

    @Test func aCustomHandlerAnswersAsThePlainPythonHandlerDoes() async throws {
        try await TestServer.with(models: []) { server in
            let store = server.modelStore
            let mlp = TestServer.fixture("TorchBackendTests/Fixtures/mlp.pt").path
            try await offThePool {
                try PythonWorkerFixtures.archive(
                    "pymlp", handler: PythonWorkerFixtures.path("mlp_handler.py"), serializedFile: mlp, into: store)
            }
            try await register(server, "url=pymlp.mar&initial_workers=1&batch_size=4&max_batch_delay=50")
            let input = "[[0.5, -1.0, 2.0, 0.25], [1.0, 0.0, -0.5, 3.0]]"
            let inputFile = store.appendingPathComponent("input.json")
            try Data(input.utf8).write(to: inputFile)
            let extracted = store.appendingPathComponent("pymlp-plain")
            try await offThePool {
                _ = try PythonWorkerFixtures.run(PythonWorkerFixtures.python, ["-m", "zipfile", "-e", store.appendingPathComponent("pymlp.mar").path, extracted.path])
            }
            let expected = try await offThePool {
                try PythonWorkerFixtures.run(PythonWorkerFixtures.python, [
                    PythonWorkerFixtures.path("run_handler.py"), extracted.path, "mlp_handler.py", "body", inputFile.path,
                    "application/json",
                ])
            }
            // Concurrent requests: batches of up to 4 form, each request gets its own answer.
            let replies = try await withThrowingTaskGroup(of: TestServer.Reply.self) { group in
                for _ in 0..<8 { group.addTask { try await server.predict("pymlp", json: input) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for reply in replies {
                #expect(reply.status == 200)
                #expect(reply.text == String(decoding: expected, as: UTF8.self))
            }
            #expect(await PythonWorkerFixtures.eventually { PythonWorkerFixtures.workerProcesses().count == 1 })
            #expect(try await server.manage("DELETE", "/models/pymlp").status == 200)
            #expect(await PythonWorkerFixtures.eventually { PythonWorkerFixtures.workerProcesses().isEmpty })
        }
    }

    @Test func anEagerModelIsServedByABuiltinHandler() async throws {
        try await TestServer.with(models: []) { server in
            let store = server.modelStore
            let work = store.appendingPathComponent("eager-work")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            try await offThePool {
                _ = try PythonWorkerFixtures.run(
                    PythonWorkerFixtures.python, [PythonWorkerFixtures.path("make_python_models.py"), work.path])
                try PythonWorkerFixtures.archive(
                    "eager", handler: "image_classifier", serializedFile: work.appendingPathComponent("tiny_cnn_state.pt").path,
                    modelFile: PythonWorkerFixtures.path("tiny_cnn.py"),
                    extraFiles: [work.appendingPathComponent("index_to_name.json").path], into: store)
            }
            try await register(server, "url=eager.mar&initial_workers=1")
            let image = TestServer.fixture("EmberTorchTests/Fixtures/images/small.jpg")
            let extracted = store.appendingPathComponent("eager-plain")
            try await offThePool {
                _ = try PythonWorkerFixtures.run(PythonWorkerFixtures.python, ["-m", "zipfile", "-e", store.appendingPathComponent("eager.mar").path, extracted.path])
            }
            let expected = try await offThePool {
                try PythonWorkerFixtures.run(PythonWorkerFixtures.python, [
                    PythonWorkerFixtures.path("run_handler.py"), extracted.path, "image_classifier", "data", image.path,
                ])
            }
            let reply = try await server.request(
                "POST", port: server.inference, "/predictions/eager", body: try Data(contentsOf: image))
            #expect(reply.status == 200)
            #expect(reply.text == String(decoding: expected, as: UTF8.self))
            #expect(reply.json?["class_0"] != nil || reply.text.contains("class_"))
        }
    }

    @Test func handlerFailuresFailTheirBatchAndTheWorkerComesBack() async throws {
        try await TestServer.with(models: []) { server in
            let store = server.modelStore
            try await offThePool {
                try PythonWorkerFixtures.archive(
                    "behave", handler: PythonWorkerFixtures.path("behaviour_handler.py"), into: store)
            }
            try await register(server, "url=behave.mar&initial_workers=1&response_timeout=3")
            func act(_ action: String) async throws -> TestServer.Reply {
                try await server.predict("behave", json: "{\"action\": \"\(action)\"}")
            }
            func pid() async throws -> Int? {
                let reply = try await act("ok")
                guard reply.status == 200, case .int(let pid)? = reply.json?["pid"] else { return nil }
                return pid
            }
            let first = try #require(try await pid())

            let status = try await act("status")
            #expect(status.status == 507)
            #expect(status.text == "Invalid response")

            let raised = try await act("raise")
            #expect(raised.status == 503)
            #expect(raised.json?["message"] == "Prediction failed")
            #expect(try await pid() == first)

            let streamed = try await act("stream")
            #expect(streamed.status == 200)
            #expect(streamed.text == "hello hello world")

            #expect(try await act("metric").status == 200)
            // The worker prints its [METRICS] line before it answers; the log thread reads it soon after.
            #expect(await PythonWorkerFixtures.eventually(timeout: .seconds(5)) {
                let metrics = try? await server.request("GET", port: server.metricsPort, "/metrics")
                return metrics?.text.contains("EmberTestCount{ModelName=\"behave\",Level=\"Model\",") == true
            })

            let exited = try await act("exit")
            #expect(exited.status == 500)
            #expect(exited.json?["message"] == "Worker died.")
            var second: Int?
            #expect(await PythonWorkerFixtures.eventually {
                second = try? await pid()
                return second != nil
            })
            #expect(second != first)

            let started = ContinuousClock.now
            let hung = try await act("sleep")
            #expect(hung.status == 500)
            #expect(ContinuousClock.now - started >= .seconds(3))
            var third: Int?
            #expect(await PythonWorkerFixtures.eventually {
                third = try? await pid()
                return third != nil
            })
            #expect(third != second)
            // The hung process was killed and reaped: only the replacement is left.
            #expect(await PythonWorkerFixtures.eventually {
                PythonWorkerFixtures.workerProcesses() == [Int32(third ?? 0)]
            })
        }
    }

    @Test func scalingFollowsWithProcessesAndNoneOutliveUnregister() async throws {
        try await TestServer.with(models: []) { server in
            let store = server.modelStore
            try await offThePool {
                try PythonWorkerFixtures.archive(
                    "scaled", handler: PythonWorkerFixtures.path("behaviour_handler.py"), into: store)
            }
            try await register(server, "url=scaled.mar&initial_workers=1")
            // Stopped by a flag, not by cancelling the task: cancelling a URLSession request in flight
            // on Linux can leave its continuation unresumed, and the test then waits forever.
            let loadDone = StopFlag()
            let load = Task {
                var statuses: [Int] = []
                let giveUp = ContinuousClock.now + .seconds(120)
                while !loadDone.isSet, ContinuousClock.now < giveUp {
                    statuses.append((try? await server.predict("scaled", json: "{\"action\": \"ok\"}"))?.status ?? 0)
                }
                return statuses
            }
            let up = try await server.manage("PUT", "/models/scaled?min_worker=4&max_worker=4&synchronous=true")
            #expect(up.status == 200)
            #expect(await PythonWorkerFixtures.eventually { PythonWorkerFixtures.workerProcesses().count == 4 })
            let down = try await server.manage("PUT", "/models/scaled?min_worker=1&max_worker=1&synchronous=true")
            #expect(down.status == 200)
            #expect(await PythonWorkerFixtures.eventually { PythonWorkerFixtures.workerProcesses().count == 1 })
            loadDone.set()
            let statuses = await load.value
            #expect(!statuses.isEmpty)
            #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Set(statuses))")
            #expect(try await server.manage("DELETE", "/models/scaled").status == 200)
            #expect(await PythonWorkerFixtures.eventually {
                PythonWorkerFixtures.workerProcesses().isEmpty && PythonWorkerFixtures.zombieChildren() == 0
            })
        }
    }

    @Test func anInterpreterWithoutTorchServeIsRefusedWithAnInstallHint() async throws {
        try await TestServer.with(models: [], extraConfiguration: "python_executable=/nonexistent/python3") { server in
            let store = server.modelStore
            try await offThePool {
                try PythonWorkerFixtures.archive(
                    "nots", handler: PythonWorkerFixtures.path("behaviour_handler.py"), into: store)
            }
            let reply = try await server.manage("POST", "/models?url=nots.mar&initial_workers=1&synchronous=true")
            #expect(reply.status == 500)
            #expect(reply.text.contains("pip install --no-deps torchserve==0.12.0"))
            #expect(reply.text.contains("python_executable"))
            #expect(try await server.manage("GET", "/models").json == ["models": []])
        }
    }

    @Test(arguments: [false, true]) func requirementsAreInstalledOnlyWhenAskedFor(install: Bool) async throws {
        try await TestServer.with(models: [], extraConfiguration: "install_py_dep_per_model=\(install)") { server in
            let store = server.modelStore
            let work = store.appendingPathComponent("deps-work")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            try await offThePool {
                _ = try PythonWorkerFixtures.run(PythonWorkerFixtures.python, [PythonWorkerFixtures.path("make_wheel.py"), work.path])
                try PythonWorkerFixtures.archive(
                    "deps", handler: PythonWorkerFixtures.path("dep_handler.py"),
                    requirementsFile: work.appendingPathComponent("requirements.txt").path, into: store)
            }
            try await register(server, "url=deps.mar&initial_workers=1")
            let reply = try await server.predict("deps", json: "{}")
            if install {
                #expect(reply.status == 200)
                #expect(reply.json?["value"] == 42)
            } else {
                // Not installed: the handler's import fails, as on TorchServe with the default setting.
                #expect(reply.status == 503)
            }
        }
    }

    @Test func aHandlerThatCannotLoadFailsTheRegistration() async throws {
        try await TestServer.with(models: []) { server in
            let store = server.modelStore
            try await offThePool {
                try PythonWorkerFixtures.archive("broken", handler: PythonWorkerFixtures.path("broken_handler.py"), into: store)
            }
            let reply = try await server.manage("POST", "/models?url=broken.mar&initial_workers=1&synchronous=true")
            #expect(reply.status == 500)
            #expect(reply.text.contains("Failed to start workers"))
            // The Python error that stopped the worker, as the worker printed it.
            #expect(reply.text.contains("ModuleNotFoundError: No module named 'ember_no_such_module'"), "\(reply.text)")
            #expect(try await server.manage("GET", "/models").json == ["models": []])
            #expect(await PythonWorkerFixtures.eventually { PythonWorkerFixtures.workerProcesses().isEmpty })
        }
    }
}

/// A flag one task sets and another polls.
private final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
