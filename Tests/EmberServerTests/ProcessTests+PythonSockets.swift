import Foundation
import Testing

/// What a server killed with SIGKILL leaves of its Python workers: its socket directory only (the
/// workers die with it), and the next server started removes that.
extension ProcessTests {
    @Test func aKilledServersWorkerSocketsAreRemovedByTheNextServer() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            try await offThePool {
                try PythonWorkerFixtures.archive("behave", handler: PythonWorkerFixtures.path("behaviour_handler.py"), into: store)
            }
            let config = store.appendingPathComponent("test.properties")
            try EmberProcess.writeConfiguration(
                to: config, extra: ["default_workers_per_model=1", "python_executable=\(PythonWorkerFixtures.python)"])
            // The servers' temporary directory is the store: the test sees exactly what they leave.
            func start(_ name: String, models: [String]) throws -> EmberProcess {
                try ember.start(
                    ["--start", "--foreground", "--model-store", store.path, "--ts-config", config.path, "--ncs", "--disable-token-auth"]
                        + (models.isEmpty ? [] : ["--models"] + models),
                    environment: ["TMPDIR": store.path], log: store.appendingPathComponent("\(name).log"), stdout: .log)
            }
            func socketDirectories() -> [String] {
                ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? []).filter {
                    $0.hasPrefix("ember-") && $0.hasSuffix(".sockets")
                }
            }

            let first = try start("first", models: ["behave.mar"])
            #expect(try await first.waitFor("Model server started\\.", timeout: 120) != nil)
            #expect(try await first.waitFor("Python worker loaded the model", timeout: 120) != nil)
            let directory = "ember-\(first.pid).sockets"
            #expect(socketDirectories() == [directory])
            let sockets = try FileManager.default.contentsOfDirectory(atPath: store.appendingPathComponent(directory).path)
            #expect(sockets.count == 1 && sockets.allSatisfy { $0.hasPrefix("sock.") }, "\(sockets)")

            await first.stop(SIGKILL)
            #expect(socketDirectories() == [directory], "SIGKILL leaves the directory behind")
            // Its worker went with it (the kernel's parent-death signal), so nothing listens there.
            #expect(await PythonWorkerFixtures.eventually {
                !((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).contains { entry in
                    guard Int32(entry) != nil, let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                        return false
                    }
                    return String(decoding: cmdline, as: UTF8.self).contains(directory)
                }
            })

            let second = try start("second", models: [])
            #expect(try await second.waitFor("Model server started\\.", timeout: 60) != nil)
            #expect(socketDirectories() == ["ember-\(second.pid).sockets"])
        }
    }
}
