import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a client does cannot hold resources or hide answers: a client that leaves takes its request out
/// of the queue, an oversized body still gets its 413 read, an oversized answer fails only its request.
@Suite(.serialized) struct RobustnessTests {
    static func metrics(_ server: TestServer) async throws -> String {
        try await server.request("GET", port: server.metricsPort, "/metrics").text
    }

    @Test func aClientThatLeavesTakesItsRequestOutOfTheQueue() async throws {
        try await TestServer.with(models: ["slow.mar"]) { server in
            func post(_ json: String) -> [UInt8] {
                Array(("POST /predictions/slow HTTP/1.1\r\nHost: ember\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(json.utf8.count)\r\n\r\n" + json).utf8)
            }
            // 1,500 rounds of the slow model (about 0.6 s here) keep its one worker busy.
            let busy = try #require(RawSocket.connect(port: server.inference))
            defer { close(busy) }
            #expect(RawSocket.send(busy, post("[1500, 21]")))
            try await Task.sleep(for: .milliseconds(100))
            // Queued behind it, and gone at once: whether the server reads the request and the end of the
            // connection together or the request has queued first, it is withdrawn, not run.
            let leaving = try #require(RawSocket.connect(port: server.inference))
            #expect(RawSocket.send(leaving, post("[1, 2]")))
            try await Task.sleep(for: .milliseconds(20))
            close(leaving)
            let cancelled = #"ember_requests_cancelled_total{model_name="slow",model_version="1.0",} 1.0"#
            var text = ""
            for _ in 0..<100 where !text.contains(cancelled) {
                try await Task.sleep(for: .milliseconds(50))
                text = try await Self.metrics(server)
            }
            #expect(text.contains(cancelled), "\(text.split(separator: "\n").filter { $0.contains("cancelled") || $0.contains("batch_size_count") })")
            #expect(try await server.manage("GET", "/models/slow").json?[0]?["jobQueueStatus"]?["pendingRequests"] == 0)
            // Answered, or past the model's 3 s responseTimeout on a loaded machine: either way not stuck.
            let answer = try await offThePool { RawSocket.readResponse(busy, timeout: 15) }
            #expect(answer.hasPrefix("HTTP/1.1 200") || answer.hasPrefix("HTTP/1.1 500"), "\(answer.prefix(100))")
            if answer.hasPrefix("HTTP/1.1 200") {
                // One batch ran: the first request's, never the one whose client left.
                let after = try await Self.metrics(server)
                #expect(after.contains(#"ember_batch_size_count{model_name="slow",model_version="1.0",} 1.0"#))
            }
        }
    }

    @Test func aClientStillWritingAnOversizedBodyReadsThe413() async throws {
        // max_request_size is 1,000,000 in the tests' server; 12 MB are sent, three times each with and
        // without `Connection: close` (Python's urllib sends it).
        try await TestServer.with(models: ["mlp.mar"]) { server in
            for attempt in 1...6 {
                let connection = attempt % 2 == 0 ? "Connection: close\r\n" : ""
                let reply = try await offThePool {
                    let fd = try #require(RawSocket.connect(port: server.inference))
                    defer { close(fd) }
                    let size = 12_000_000
                    let head = "POST /predictions/mlp HTTP/1.1\r\nHost: ember\r\nContent-Type: application/json\r\n"
                        + connection + "Content-Length: \(size)\r\n\r\n"
                    _ = RawSocket.send(fd, Array(head.utf8))
                    let chunk = [UInt8](repeating: UInt8(ascii: "1"), count: 1 << 20)
                    var sent = 0
                    while sent < size, RawSocket.send(fd, Array(chunk.prefix(size - sent))) { sent += min(chunk.count, size - sent) }
                    return (sent, RawSocket.readResponse(fd, timeout: 15))
                }
                #expect(reply.0 == 12_000_000, "attempt \(attempt): the server stopped reading after \(reply.0) bytes")
                #expect(reply.1.hasPrefix("HTTP/1.1 413"), "attempt \(attempt): \(reply.1.prefix(200))")
                #expect(reply.1.contains("RequestEntityTooLargeException"))
            }
            #expect(try await server.predict("mlp", json: "[1, 1, 1, 1]").status == 200)
        }
    }

    @Test func anAnswerOverMaxResponseSizeFailsOnlyItsRequest() async throws {
        try await TestServer.with(models: ["mlp.mar", "slow.mar"], extraConfiguration: "max_response_size=60") { server in
            let large = try await server.predict("mlp", json: "[1, 1, 1, 1]")
            #expect(large.status == 500)
            #expect(large.text.contains("more than max_response_size (60 bytes)"), "\(large.text)")
            #expect(try await server.predict("slow", json: "[1, 2]").status == 200)
            // The worker that made the large answer keeps serving.
            #expect(try await server.predict("mlp", json: "[1, 1, 1, 1]").status == 500)
            let described = try await server.manage("GET", "/models/mlp")
            #expect(described.json?[0]?["workers"]?[0]?["status"] == "READY")
        }
    }

    /// TorchServe's families (contract §4.4): type, unit, label names in order, and the version as the
    /// URL gave it (`default` without one) on every per-model ts_* series.
    @Test func everyTorchServeFamilyHasItsTypeUnitAndLabels() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            for _ in 0..<3 { #expect(try await server.predict("mlp", json: "[1, 1, 1, 1]").status == 200) }
            let versioned = try await server.request(
                "POST", port: server.inference, "/predictions/mlp/1.0", body: Data("[1, 1, 1, 1]".utf8),
                contentType: "application/json")
            #expect(versioned.status == 200)
            let text = try await Self.metrics(server)
            let host = ["Level", "Hostname"]
            let model = ["model_name", "model_version", "hostname"]
            let backend = ["ModelName", "Level", "Hostname"]
            let families: [(name: String, type: String, unit: String, labels: [String])] = [
                ("Requests2XX", "counter", "Count", host), ("Requests4XX", "counter", "Count", host),
                ("Requests5XX", "counter", "Count", host),
                ("ts_inference_requests_total", "counter", "Count", model),
                ("ts_inference_latency_microseconds", "counter", "Microseconds", model),
                ("ts_queue_latency_microseconds", "counter", "Microseconds", model),
                ("QueueTime", "gauge", "Milliseconds", host), ("WorkerThreadTime", "gauge", "Milliseconds", host),
                ("WorkerLoadTime", "gauge", "Milliseconds", ["WorkerName"] + host),
                ("CPUUtilization", "gauge", "Percent", host), ("MemoryUsed", "gauge", "Megabytes", host),
                ("MemoryAvailable", "gauge", "Megabytes", host), ("MemoryUtilization", "gauge", "Percent", host),
                ("DiskUsage", "gauge", "Gigabytes", host), ("DiskUtilization", "gauge", "Percent", host),
                ("DiskAvailable", "gauge", "Gigabytes", host),
                ("HandlerTime", "gauge", "ms", backend), ("PredictionTime", "gauge", "ms", backend),
            ]
            let lines = text.split(separator: "\n").map(String.init)
            for family in families {
                #expect(lines.contains("# HELP \(family.name) Torchserve prometheus \(family.type) metric with unit: \(family.unit)"))
                #expect(lines.contains("# TYPE \(family.name) \(family.type)"))
                for sample in lines where sample.hasPrefix(family.name + "{") {
                    let names = Self.labels(sample).map(\.name)
                    #expect(names == family.labels, "\(sample)")
                }
            }
            for name in ["ts_inference_requests_total", "ts_inference_latency_microseconds", "ts_queue_latency_microseconds"] {
                let versions = Set(lines.filter { $0.hasPrefix(name + "{") }.compactMap {
                    Self.labels($0).first { $0.name == "model_version" }?.value
                })
                #expect(versions == ["default", "1.0"], "\(name): \(versions)")
            }
            #expect(text.contains(#"ts_inference_requests_total{model_name="mlp",model_version="default",hostname="test-host",} 3.0"#))
            #expect(lines.contains { $0.hasPrefix(#"HandlerTime{ModelName="mlp",Level="Model",Hostname="test-host",}"#) })
            #expect(lines.contains { $0.hasPrefix(#"Requests2XX{Level="Host",Hostname="test-host",}"#) })
            #expect(lines.contains { $0.hasPrefix(#"DiskAvailable{Level="Host",Hostname="test-host",}"#) })
        }
    }

    /// `name{a="x",b="y",} value` → [(a, x), (b, y)].
    static func labels(_ sample: String) -> [(name: String, value: String)] {
        guard let start = sample.firstIndex(of: "{"), let end = sample.lastIndex(of: "}") else { return [] }
        let inside = String(sample[sample.index(after: start)..<end])
        return inside.split(separator: ",").compactMap { (pair: Substring) -> (name: String, value: String)? in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            return (parts[0], parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
    }
}
