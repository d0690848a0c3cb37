import Foundation
import Testing

/// The inference listener's own connection handling (InferenceConnectionHandler) over a raw socket:
/// what a client library would hide.
@Suite struct InferenceConnectionTests {
    static let mlpBody = #"{"data": [0.5, -1.0, 2.0, 0.25]}"#

    static func post(_ json: String, close: Bool = false) -> String {
        "POST /predictions/mlp HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + (close ? "Connection: close\r\n" : "") + "Content-Length: \(json.utf8.count)\r\n\r\n" + json
    }

    static func ping(close: Bool = false) -> String {
        "GET /ping HTTP/1.1\r\nHost: test\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
    }

    /// Reads until the server closes the connection (or `timeout`).
    static func readAll(_ fd: Int32, timeout: Int) -> String {
        var timeval = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// The answers in a byte stream of several, split at their status lines.
    static func answers(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0 }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndConnectionCloseIsHonoured() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let fd = try #require(RawSocket.connect(port: server.inference))
            defer { close(fd) }
            // Awaited answers (predictions) and immediate ones (/ping) in one write: each must wait for
            // the one before it.
            let requests = Self.post(Self.mlpBody) + Self.ping() + Self.post("[1, 2]") + Self.post(Self.mlpBody)
                + Self.ping(close: true) + Self.ping()
            #expect(RawSocket.send(fd, Array(requests.utf8)))
            let answers = Self.answers(try await offThePool { Self.readAll(fd, timeout: 30) })
            // The request after `Connection: close` is never answered: the server closed after the fifth.
            try #require(answers.count == 5, "\(answers)")
            #expect(answers[0].hasPrefix("200 ") && answers[0].contains("\"prediction\""))
            #expect(answers[1].hasPrefix("200 ") && answers[1].contains("Healthy"))
            #expect(answers[2].hasPrefix("400 "), "a wrong shape is refused in its place: \(answers[2])")
            #expect(answers[3].hasPrefix("200 ") && answers[3].contains("\"prediction\""))
            #expect(answers[4].hasPrefix("200 ") && answers[4].contains("Healthy"))
            #expect(answers[4].lowercased().contains("connection: close"))
            // Each answer carries its own request id.
            let ids = answers.compactMap { answer in
                answer.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }
            }
            #expect(Set(ids).count == 5)
        }
    }

    @Test func malformedRequestIsRefusedWith400AndTheServerKeepsServing() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let fd = try #require(RawSocket.connect(port: server.inference))
            defer { close(fd) }
            #expect(RawSocket.send(fd, Array("NOT HTTP AT ALL\r\n\r\n".utf8)))
            let answer = try await offThePool { Self.readAll(fd, timeout: 10) }
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(answer)")
            let next = try #require(RawSocket.connect(port: server.inference))
            defer { close(next) }
            #expect(RawSocket.send(next, Array(Self.ping(close: true).utf8)))
            #expect(try await offThePool { Self.readAll(next, timeout: 10) }.contains("Healthy"))
        }
    }

    @Test func answersCarryDateAndServerHeaders() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let fd = try #require(RawSocket.connect(port: server.inference))
            defer { close(fd) }
            #expect(RawSocket.send(fd, Array((Self.post(Self.mlpBody) + Self.ping(close: true)).utf8)))
            let answers = Self.answers(try await offThePool { Self.readAll(fd, timeout: 30) })
            try #require(answers.count == 2)
            for answer in answers {
                let head = answer.lowercased()
                #expect(head.contains("\r\nserver: ember\r\n"))
                #expect(head.range(of: #"\r\ndate: [a-z]{3}, \d{2} [a-z]{3} \d{4} \d{2}:\d{2}:\d{2} gmt\r\n"#, options: .regularExpression) != nil)
                #expect(head.contains("\r\ncontent-length: "))
            }
        }
    }

    /// The listener's own HTTP/1 encoding (InferenceHTTPCodec): HEAD's answer has GET's head and no
    /// body (the pipelined request after it is read as a request, not as a body), a target in absolute
    /// form is routed by its path, and status lines carry their reason phrases.
    @Test func headAnswersWithoutABodyAndAnAbsoluteTargetIsRouted() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let fd = try #require(RawSocket.connect(port: server.inference))
            defer { close(fd) }
            let requests = "HEAD /ping HTTP/1.1\r\nHost: test\r\n\r\n"
                + "GET http://test/ping HTTP/1.1\r\nHost: test\r\n\r\n"
                + "GET /nothing/here HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
            #expect(RawSocket.send(fd, Array(requests.utf8)))
            let answers = Self.answers(try await offThePool { Self.readAll(fd, timeout: 30) })
            try #require(answers.count == 3, "\(answers)")
            #expect(answers[0].hasPrefix("200 OK\r\n"), "\(answers[0])")
            #expect(answers[0].lowercased().contains("\r\ncontent-length: 26\r\n"), "\(answers[0])")
            #expect(answers[0].hasSuffix("\r\n\r\n") && !answers[0].contains("Healthy"), "\(answers[0])")
            #expect(answers[1].hasPrefix("200 OK\r\n") && answers[1].contains("Healthy"), "\(answers[1])")
            #expect(answers[2].hasPrefix("404 Not Found\r\n") && answers[2].contains("ResourceNotFoundException"))
        }
    }

    /// A full queue is refused at once with TorchServe's 503, counted as a request, and the server
    /// keeps serving (the refusal is answered while the request is read: InferenceRoutes.immediate).
    @Test func aFullQueueIsRefusedAtOnceAndCounted() async throws {
        // slow: one worker, batch 1, jobQueueSize 3 (TestServer.makeModelStore).
        try await TestServer.with(models: ["slow.mar"]) { server in
            func post(_ path: String, _ json: String) -> [UInt8] {
                Array(
                    ("POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(json.utf8.count)\r\n\r\n" + json).utf8)
            }
            // One request keeps the worker busy (5,000 rounds, about 1.5 s here), three fill the queue.
            var held: [Int32] = []
            defer { for fd in held { close(fd) } }
            for rounds in [5000, 1, 1, 1] {
                let fd = try #require(RawSocket.connect(port: server.inference))
                held.append(fd)
                #expect(RawSocket.send(fd, post("/predictions/slow", "[\(rounds), 21]")))
                try await Task.sleep(for: .milliseconds(rounds > 1 ? 150 : 20))
            }
            let refused = try await server.predict("slow", json: "[1, 21]")
            let versioned = try await server.predict("slow/1.0", json: "[1, 21]")
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.json?["type"] == "ServiceUnavailableException")
            #expect(refused.text.contains(#"Model \"slow\" has no worker"#), "\(refused.text)")
            let oip = try await server.request(
                "POST", port: server.inference, "/v2/models/slow/infer", body: Data(#"{"inputs": []}"#.utf8),
                contentType: "application/json")
            #expect(oip.status == 503, "\(oip.text)")
            #expect(oip.text.contains(#""error""#) && oip.text.contains("has no worker"), "\(oip.text)")
            let kserve = try await server.request(
                "POST", port: server.inference, "/v1/models/slow:predict", body: Data(#"{"instances": [[1, 21]]}"#.utf8),
                contentType: "application/json")
            #expect(kserve.status == 503, "\(kserve.text)")
            #expect(kserve.text.contains(#""error""#) && kserve.text.contains("has no worker"), "\(kserve.text)")
            #expect(versioned.status == 503)
            #expect(versioned.text.contains(#"Model \"slow\" Version 1.0\" has no worker"#), "\(versioned.text)")
            // Every one was counted: the four held and the four refused.
            let metrics = try await server.request("GET", port: server.metricsPort, "/metrics").text
            let counted = metrics.split(separator: "\n").filter {
                $0.hasPrefix("ts_inference_requests_total{") && $0.contains("model_name=\"slow\"")
            }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
            #expect(counted == 8, "\(metrics.split(separator: "\n").filter { $0.contains("ts_inference_requests") })")
            // The held requests are answered (or time out past the slow model's 3 s on a loaded machine).
            for fd in held {
                let answer = try await offThePool { RawSocket.readResponse(fd, timeout: 40) }
                #expect(answer.hasPrefix("HTTP/1.1 200") || answer.hasPrefix("HTTP/1.1 500"), "\(answer.prefix(120))")
            }
            #expect(try await server.predict("slow", json: "[1, 21]").status == 200)
            // The version's time-in-pool histogram has every one: held, refused (at zero) and the last.
            let after = try await server.request("GET", port: server.metricsPort, "/metrics").text
            #expect(
                after.contains("ember_request_latency_seconds_count{model_name=\"slow\",model_version=\"1.0\",} 9.0\n"),
                "\(after.split(separator: "\n").filter { $0.contains("ember_request_latency_seconds_count") })")
        }
    }

    /// `Expect: 100-continue` (curl sends it for bodies over 1 KiB) gets its interim answer before the
    /// body is sent, then the final one.
    @Test func expectContinueIsAnsweredBeforeTheBody() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let fd = try #require(RawSocket.connect(port: server.inference))
            defer { close(fd) }
            let body = Self.mlpBody
            let head = "POST /predictions/mlp HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            #expect(RawSocket.send(fd, Array(head.utf8)))
            let interim = try await offThePool { RawSocket.readResponse(fd, timeout: 10) }
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(interim)")
            #expect(RawSocket.send(fd, Array(body.utf8)))
            let answer = try await offThePool { RawSocket.readResponse(fd, timeout: 30) }
            #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer.prefix(200))")
            #expect(answer.contains("\"prediction\""))
        }
    }
}
