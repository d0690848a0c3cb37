import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The inputs that used to kill the server or mislead its clients, against the real `ember`
/// executable (a trap would end the process, not just fail a request): each is refused or answered
/// exactly, and the process is still there and serving afterwards.
@Suite(.serialized) struct HostileInputProcessTests {
    struct Reply {
        let status: Int
        let text: String
        var json: JSONValue? { try? JSONValue.parse(text) }
    }

    static func send(_ method: String, _ port: Int, _ path: String, json: String? = nil) async throws -> Reply {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, text: String(decoding: data, as: UTF8.self))
    }

    static func threadCount(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
            .flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) }
    }

    @Test func hostileNumbersAreRefusedOrExactAndTheServerKeepsServing() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let config = store.appendingPathComponent("hostile.properties")
            try EmberProcess.writeConfiguration(to: config, extra: ["max_workers_per_model=4"])
            let process = try ember.start(
                [
                    "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar", "intmod.mar",
                    "--ts-config", config.path, "--ncs", "--disable-token-auth", "--enable-model-api",
                ],
                environment: ["TMPDIR": store.path], log: store.appendingPathComponent("stderr.log"))
            let inference = try await process.port("Inference")
            let management = try await process.port("Management")
            #expect(try await process.waitFor("listeners ready", timeout: 60) != nil)

            // Paging past any int: was an overflow trap in offset + limit.
            let paged = try await Self.send("GET", management, "/models?next_page_token=9223372036854775807")
            #expect(paged.status == 400)
            #expect(paged.text.contains("next_page_token must be an integer from -2147483648 to 2147483647"))
            #expect(try await Self.send("GET", management, "/models?next_page_token=2147483647&limit=100").status == 200)

            // 5,000 workers: was 200 and 5,008 threads.
            let threadsBefore = Self.threadCount(process.pid) ?? 0
            let scaled = try await Self.send("PUT", management, "/models/mlp?min_worker=5000&max_worker=5000&synchronous=true")
            #expect(scaled.status == 400)
            #expect(scaled.text.contains("at most 4 workers (max_workers_per_model)"))
            #expect((Self.threadCount(process.pid) ?? 0) < threadsBefore + 10)

            // A JSON number too large for an integer in a registration: was a trap converting it.
            let registered = try await Self.send(
                "POST", management, "/models", json: #"{"url": "mlp.mar", "model_name": "m2", "batch_size": 1e300}"#)
            #expect(registered.status == 400)
            #expect(registered.text.contains("batch_size must be an integer from 1 to 1024"))

            // int64 tensors: Int64.max was a trap on a worker thread, 2^53 + 1 silently arrived as 2^53.
            let largest = try await Self.send("POST", inference, "/predictions/intmod", json: #"{"data": [[9223372036854775807, 2, 3, 4]]}"#)
            #expect(largest.status == 200, "\(largest.text)")
            #expect(largest.json == [[0, 2, 3, 4, 9_223_372_036_854_775_807, 2, 3, 4]])
            let exact = try await Self.send("POST", inference, "/predictions/intmod", json: "[9007199254740993, 1, 2, 3]")
            #expect(exact.json == [5, 1, 2, 3, 9_007_199_254_740_993, 1, 2, 3])
            let beyond = try await Self.send("POST", inference, "/predictions/intmod", json: "[9223372036854775808, 1, 2, 3]")
            #expect(beyond.status == 400)
            #expect(beyond.text.contains("does not fit in int64"))

            // Still the same process, still serving every model.
            #expect(process.isRunning)
            #expect(try await Self.send("POST", inference, "/predictions/mlp", json: "[1, 1, 1, 1]").status == 200)
            #expect(try await Self.send("POST", inference, "/predictions/intmod", json: "[7, 8, 9, 10]").json == [0, 1, 2, 3, 7, 8, 9, 10])
            let listed = try await Self.send("GET", management, "/models")
            #expect(listed.text.contains("intmod") && listed.text.contains("mlp"))
        }
    }
}
