import EmberCore
import Foundation
import Testing

@testable import EmberServer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ember --start` in the background keeps the server up: kill -9 of the server, and the supervisor
/// logs why it died and starts it again at once on its last snapshot; `ember --stop` stops both.
@Suite(.serialized) struct SupervisorProcessTests {
    /// Every match of `pattern`'s first group in the file, once at least `count` are there.
    static func matches(_ pattern: String, in file: URL, count: Int, timeout: TimeInterval) async throws -> [String] {
        let expression = try NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        var found: [String] = []
        while Date() < deadline {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            found = expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range(at: 1), in: text).map { String(text[$0]) }
            }
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        return found
    }

    @Test func aKilledServerIsRestartedOnItsSnapshotAndStopStopsBoth() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let directory = store.appendingPathComponent("cwd")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let config = store.appendingPathComponent("supervised.properties")
            try EmberProcess.writeConfiguration(to: config)
            let logs = store.appendingPathComponent("logs")
            let environment = ["TMPDIR": store.path, "LOG_LOCATION": logs.path]
            let started = try await offThePool {
                try ember.run([
                    "--start", "--model-store", store.path, "--models", "mlp.mar", "--ts-config", config.path,
                    "--disable-token-auth", "--enable-model-api",
                ], environment: environment, in: directory).status
            }
            let log = logs.appendingPathComponent("ember.log")
            #expect(started == 0, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            ember.atEnd { _ = try? await offThePool { try ember.run(["--stop"], environment: environment, in: directory) } }

            let first = try #require(try await Self.matches("server process ([0-9]+) started", in: log, count: 1, timeout: 10).first)
            let firstPID = try #require(Int32(first))
            let port = try #require(
                try await Self.matches("Management API bind to: http://127.0.0.1:([0-9]+)", in: log, count: 1, timeout: 10).last
                    .flatMap { Int($0) })
            let registered = try await TestServer.send("POST", port, "/models?url=mlp-v2.mar&model_name=copy&initial_workers=1")
            #expect(registered.status == 200, "\(registered.text)")

            kill(firstPID, SIGKILL)
            let died = try await Self.matches("server process \(firstPID) (was killed by signal 9)", in: log, count: 1, timeout: 10)
            #expect(!died.isEmpty)
            let restarted = try await Self.matches("server process ([0-9]+) started", in: log, count: 2, timeout: 30)
            #expect(restarted.count == 2)
            // Restarted at once (no crash reporter holding the ports) on the snapshot: both models are back.
            let ports = try await Self.matches("Management API bind to: http://127.0.0.1:([0-9]+)", in: log, count: 2, timeout: 60)
            let newPort = try #require(ports.count == 2 ? ports.last.flatMap { Int($0) } : nil, "no second start in the log")
            #expect(try await Self.matches("(Model server started)", in: log, count: 2, timeout: 60).count == 2)
            let listed = try await TestServer.send("GET", newPort, "/models")
            #expect(listed.text.contains("\"copy\"") && listed.text.contains("\"mlp\""), "\(listed.text)")

            let supervisor = try #require(
                (try? String(contentsOf: store.appendingPathComponent(".model_server.pid"), encoding: .utf8))
                    .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            let secondPID = try #require(restarted.last.flatMap { Int32($0) })
            let stopped = try await offThePool { try ember.run(["--stop"], environment: environment, in: directory) }
            #expect(stopped.status == 0)
            #expect(!ServerProcess.isAlive(supervisor))
            #expect(!ServerProcess.isAlive(secondPID))
        }
    }
}

extension TestServer {
    /// One request to a port of a server this test did not build.
    static func send(_ method: String, _ port: Int, _ path: String) async throws -> Reply {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data, headers: [:])
    }
}
