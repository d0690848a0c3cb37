import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// 10,000 idle connections do not stop the real server from answering a new client.
///
/// The connections are held by a child process (Python), not by the test process: Foundation's
/// `Process.run` walks `/proc/self/fd` and once crashed the test process while this test held 10,000
/// sockets in it and another test started a child.
@Suite(.serialized) struct IdleConnectionsTests {
    /// Opens `wanted` connections to the port in argv[1], prints how many it holds, keeps them until
    /// its standard input closes.
    static let holder = """
        import resource, socket, sys, time
        port, wanted = int(sys.argv[1]), int(sys.argv[2])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        held, attempts = [], 0
        while len(held) < wanted and attempts < wanted * 2:
            attempts += 1
            try:
                held.append(socket.create_connection(("127.0.0.1", port)))
            except OSError:
                time.sleep(0.01)
            if len(held) % 500 == 0:
                time.sleep(0.02)  # let the server drain its accept queue now and then
        print(len(held), flush=True)
        sys.stdin.read()
        """

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
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let config = store.appendingPathComponent("idle.properties")
            try EmberProcess.writeConfiguration(to: config)
            let process = try ember.start(
                [
                    "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar", "--ts-config", config.path,
                    "--ncs", "--disable-token-auth",
                ],
                environment: ["TMPDIR": store.path], log: store.appendingPathComponent("stderr.log"))
            let port = try await process.port("Inference")

            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            holder.arguments = ["-c", Self.holder, String(port), String(wanted)]
            let input = Pipe()
            let output = Pipe()
            holder.standardInput = input
            holder.standardOutput = output
            try holder.run()
            defer {
                try? input.fileHandleForWriting.close()
                holder.waitUntilExit()
            }
            let held = try await offThePool {
                String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(Int(held) == wanted, "the holder has \(held) connections")

            let answer = try await EmberProcess.predict(port: port, "mlp", json: "[1, 1, 1, 1]", timeout: 20)
            #expect(answer.status == 200)
            #expect(answer.body.contains("prediction"))
            #expect(process.isRunning)
        }
    }
}
