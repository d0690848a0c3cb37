import Foundation
import Testing

/// What a server killed with SIGKILL leaves of its Python workers: its socket directory only (the
/// workers die with it), and the next server started removes that.
extension ProcessTests {
    @Test func aKilledServersWorkerSocketsAreRemovedByTheNextServer() async throws {
        let binary = try #require(Self.emberBinary(), "build the ember executable first")
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await offThePool {
            try PythonWorkerFixtures.archive("behave", handler: PythonWorkerFixtures.path("behaviour_handler.py"), into: store)
        }
        let config = store.appendingPathComponent("test.properties")
        try Data("""
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            default_workers_per_model=1
            python_executable=\(PythonWorkerFixtures.python)
            """.utf8).write(to: config)
        // The servers' temporary directory is the store: the test sees exactly what they leave.
        func start(_ name: String, models: [String]) throws -> (Process, URL) {
            let log = store.appendingPathComponent("\(name).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = binary
            process.arguments =
                ["--start", "--foreground", "--model-store", store.path, "--ts-config", config.path, "--ncs", "--disable-token-auth"]
                + (models.isEmpty ? [] : ["--models"] + models)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": store.path]) { $1 }
            try process.run()
            return (process, log)
        }
        func socketDirectories() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? []).filter {
                $0.hasPrefix("ember-") && $0.hasSuffix(".sockets")
            }
        }

        let (first, firstLog) = try start("first", models: ["behave.mar"])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        #expect(try await Self.waitFor("Model server started\\.", in: firstLog, timeout: 120) != nil)
        #expect(try await Self.waitFor("Python worker loaded the model", in: firstLog, timeout: 120) != nil)
        let directory = "ember-\(first.processIdentifier).sockets"
        #expect(socketDirectories() == [directory])
        let sockets = try FileManager.default.contentsOfDirectory(atPath: store.appendingPathComponent(directory).path)
        #expect(sockets.count == 1 && sockets.allSatisfy { $0.hasPrefix("sock.") }, "\(sockets)")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
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

        let (second, secondLog) = try start("second", models: [])
        defer {
            if second.isRunning {
                second.terminate()
                second.waitUntilExit()
            }
        }
        #expect(try await Self.waitFor("Model server started\\.", in: secondLog, timeout: 60) != nil)
        #expect(socketDirectories() == ["ember-\(second.processIdentifier).sockets"])
    }
}
