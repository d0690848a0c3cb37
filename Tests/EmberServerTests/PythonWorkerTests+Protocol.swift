import EmberCore
import Foundation
import Testing

/// What a handler sees of its request and how its answers travel: every request header, intermediate
/// responses streamed as they come, and the restart bound of `maxRetryTimeoutInSec`. In the serialized
/// ``PythonWorkerTests`` suite, since those count worker processes.
extension PythonWorkerTests {
    private func registerBehaviour(_ server: TestServer, _ name: String, configFile: String? = nil) async throws {
        let store = server.modelStore
        try await offThePool {
            try PythonWorkerFixtures.archive(
                name, handler: PythonWorkerFixtures.path("behaviour_handler.py"), configFile: configFile, into: store)
        }
        let reply = try await server.manage("POST", "/models?url=\(name).mar&initial_workers=1&synchronous=true")
        try #require(reply.status == 200, "register \(name): \(reply.status) \(reply.text)")
    }

    @Test func everyRequestHeaderReachesTheHandler() async throws {
        try await TestServer.with(models: []) { server in
            try await registerBehaviour(server, "headers")
            let body = #"{"action": "headers", "names": ["X-Ember-Test", "Content-Type", "Host", "X-Absent"]}"#
            let reply = try await server.request(
                "POST", port: server.inference, "/predictions/headers", body: Data(body.utf8),
                contentType: "application/json", headers: ["X-Ember-Test": "forty two"])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json?["X-Ember-Test"] == "forty two")
            #expect(reply.json?["Content-Type"] == "application/json")
            #expect(reply.json?["Host"] == .string("127.0.0.1:\(server.inference)"))
            #expect(reply.json?["X-Absent"] == .null)
        }
    }

    @Test func intermediateResponsesReachAGRPCClientOneMessageEach() async throws {
        let python = try await offThePool { try OIPClientTests.python() }
        try await TestServer.with(models: []) { server in
            try await registerBehaviour(server, "streams")
            let arguments = [
                GRPCClientTests.script, "--mode", "stream", "--inference", "127.0.0.1:\(server.grpcInference)",
                "--management", "127.0.0.1:\(server.grpcManagement)", "--protos", GRPCClientTests.protos.path,
            ]
            let result = try await offThePool { try OIPClientTests.run(python, arguments) }
            #expect(result.status == 0, "\(result.text)")
            #expect(result.text.contains("1 ok, 0 failing"), "\(result.text)")
        }
    }

    @Test func intermediateResponsesReachTheClientAsTheyAreSent() async throws {
        try await TestServer.with(models: []) { server in
            try await registerBehaviour(server, "streams")
            // The handler sends "first ", then waits for this file before it sends the rest: the
            // test creates it only once "first " has arrived, so a buffered answer would time out.
            let go = server.modelStore.appendingPathComponent("go-\(UUID().uuidString)").path
            let body = #"{"action": "stream_wait", "go": "\#(go)"}"#
            let port = server.inference
            let (head, chunks) = try await offThePool { () throws -> (String, [String]) in
                guard let fd = RawSocket.connect(port: port) else { throw PythonWorkerFixtures.Failure(description: "connect") }
                defer { close(fd) }
                let request =
                    "POST /predictions/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                guard RawSocket.send(fd, Array(request.utf8)) else { throw PythonWorkerFixtures.Failure(description: "send") }
                var received = ChunkedReader(fd: fd)
                let early = received.read(until: { $0.contains("first ") }, timeout: 30)
                #expect(early.contains("first "), "the first chunk did not arrive on its own: \(early)")
                #expect(!early.contains("second"))
                FileManager.default.createFile(atPath: go, contents: nil)
                let all = received.read(until: { $0.hasSuffix("\r\n0\r\n\r\n") }, timeout: 30)
                return try ChunkedReader.decode(all)
            }
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("transfer-encoding: chunked"))
            #expect(chunks == ["first ", "second ", "last"])
        }
    }

    @Test func aWorkerThatKeepsCrashingIsGivenUpAfterMaxRetryTimeout() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ember-retry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let config = work.appendingPathComponent("model-config.yaml")
        try Data("maxRetryTimeoutInSec: 3\n".utf8).write(to: config)
        try await TestServer.with(models: []) { server in
            try await registerBehaviour(server, "fragile", configFile: config.path)
            #expect(try await server.manage("GET", "/models/fragile").json?[0]?["maxRetryTimeoutInSec"] == 3)
            // From now on every start of this model exits before it is ready.
            let broke = try await server.predict("fragile", json: #"{"action": "break"}"#)
            #expect(broke.status == 500)
            var described: JSONValue?
            #expect(await PythonWorkerFixtures.eventually(timeout: .seconds(60)) {
                described = try? await server.manage("GET", "/models/fragile").json?[0]
                guard case .string(let status)? = described?["status"] else { return false }
                return status.contains("maxRetryTimeoutInSec (3 s)")
            })
            #expect(described?["workers"]?[0]?["status"] == "UNLOADING")
            // Given up: no process is restarted, predictions get 503 at once, ping is unhealthy.
            #expect(await PythonWorkerFixtures.eventually { PythonWorkerFixtures.workerProcesses().isEmpty })
            let refused = try await server.predict("fragile", json: #"{"action": "ok"}"#)
            #expect(refused.status == 503)
            #expect(refused.text.contains("has no worker"))
            #expect(try await server.request("GET", port: server.inference, "/ping").status == 500)
            try await Task.sleep(for: .seconds(3))
            #expect(PythonWorkerFixtures.workerProcesses().isEmpty)
            #expect(try await server.manage("DELETE", "/models/fragile").status == 200)
        }
    }
}

/// Reads a raw HTTP/1.1 response as it arrives, and decodes a chunked body.
private struct ChunkedReader {
    let fd: Int32
    var received: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// Reads until `done` holds for what arrived so far, the peer closes, or `timeout` seconds pass.
    mutating func read(until done: (String) -> Bool, timeout: Int) -> String {
        var interval = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        let deadline = Date().addingTimeInterval(TimeInterval(timeout))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !done(String(decoding: received, as: UTF8.self)), Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count > 0 { received += buffer[0..<count] }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// The head and each chunk of a chunked response (bytes, so CRLF is never one character).
    static func decode(_ response: String) throws -> (String, [String]) {
        let bytes = Array(response.utf8)
        let crlf: [UInt8] = [13, 10]
        func find(_ from: Int) -> Int? {
            var index = from
            while index + 1 < bytes.count {
                if bytes[index] == crlf[0], bytes[index + 1] == crlf[1] { return index }
                index += 1
            }
            return nil
        }
        guard let headEnd = response.range(of: "\r\n\r\n") else {
            throw PythonWorkerFixtures.Failure(description: "no head: \(response)")
        }
        let head = String(response[..<headEnd.lowerBound])
        var position = head.utf8.count + 4
        var chunks: [String] = []
        while let lineEnd = find(position) {
            guard let size = Int(String(decoding: bytes[position..<lineEnd], as: UTF8.self), radix: 16) else {
                throw PythonWorkerFixtures.Failure(description: "bad chunk size at \(position) in \(response)")
            }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw PythonWorkerFixtures.Failure(description: "short chunk") }
            chunks.append(String(decoding: bytes[start..<start + size], as: UTF8.self))
            position = start + size + 2
        }
        return (head, chunks)
    }
}
