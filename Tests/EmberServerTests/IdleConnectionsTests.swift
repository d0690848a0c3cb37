import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// 10,000 idle connections do not stop the real server from answering a new client.
@Suite(.serialized) struct IdleConnectionsTests {
    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static let wanted = 10_000

    /// Raises the soft open-file limit to the hard one (the server inherits it); true when 10,000
    /// connections fit. Machines with a lower hard limit skip the test.
    static let enoughFiles: Bool = {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return limit.rlim_cur >= rlim_t(wanted + 500)
    }()

    @Test(.enabled(if: enoughFiles, "needs an open-file limit above 10,500"))
    func tenThousandIdleConnectionsAndTheServerStillAnswers() async throws {
        let wanted = Self.wanted
        let binary = try #require(ProcessTests.emberBinary(), "build the ember executable first")
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let config = store.appendingPathComponent("idle.properties")
        try Data("inference_address=http://127.0.0.1:0\nmanagement_address=http://127.0.0.1:0\nmetrics_address=http://127.0.0.1:0\n".utf8)
            .write(to: config)
        let log = store.appendingPathComponent("stderr.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar", "--ts-config", config.path,
            "--ncs", "--disable-token-auth",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": store.path]) { $1 }
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let bound = try #require(
            try await ProcessTests.waitFor("Inference API bind to: http://127.0.0.1:[0-9]+", in: log, timeout: 60))
        let port = try #require(bound.split(separator: ":").last.flatMap { Int($0) })

        let sockets = try await offThePool {
            var sockets: [Int32] = []
            var attempts = 0
            while sockets.count < wanted, attempts < wanted * 2 {
                attempts += 1
                if let fd = Self.connect(port: port) { sockets.append(fd) }
                // Let the server drain its accept queue now and then.
                if sockets.count % 500 == 0 { usleep(20_000) }
            }
            return sockets
        }
        defer { for fd in sockets { close(fd) } }
        #expect(sockets.count == wanted)

        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/predictions/mlp")))
        request.httpMethod = "POST"
        request.httpBody = Data("[1, 1, 1, 1]".utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 20
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self).contains("prediction"))
        #expect(process.isRunning)
    }
}
