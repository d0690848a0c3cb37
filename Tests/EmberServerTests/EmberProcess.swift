import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `ember` executable as a child of a test. Children are started inside `EmberProcess.with`,
/// which stops each one still running when the body ends, passed or failed (SIGTERM, SIGKILL after a
/// grace period), and waits until Foundation has reaped it: no test leaves an orphan behind.
/// The ports are the ones the server announces on standard error (`Inference API bind to: …`).
final class EmberProcess: @unchecked Sendable {
    let process: Process
    /// The child's standard error (and standard output, with `.log`): where it announces its ports.
    let log: URL

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var terminationStatus: Int32 { process.terminationStatus }
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Where the child's standard output goes.
    enum Output {
        case discard
        case file(URL)
        /// Into `log`, with standard error.
        case log
    }

    static func binary() -> URL? {
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0])
        let root = TestServer.testsDirectory.deletingLastPathComponent()
        let candidates = [
            argv0.deletingLastPathComponent(), argv0.deletingLastPathComponent().deletingLastPathComponent(),
            root.appendingPathComponent(".build/debug"),
        ]
        return candidates.map { $0.appendingPathComponent("ember") }.first {
            FileManager.default.isExecutableFile(atPath: $0.path)
        }
    }

    /// A `config.properties` with every listener on an ephemeral port (the `https` ones among
    /// "inference", "management", "metrics" as https://), then `extra` lines.
    static func writeConfiguration(to file: URL, https: Set<String> = [], extra: [String] = []) throws {
        let listeners = ["inference", "management", "metrics"].map {
            "\($0)_address=\(https.contains($0) ? "https" : "http")://127.0.0.1:0"
        }
        let lines = listeners + ["grpc_inference_port=0", "grpc_management_port=0"] + extra
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
    }

    /// Reads a growing log file until `pattern` shows up.
    static func waitFor(_ pattern: String, in file: URL, timeout: TimeInterval) async throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            if let range = text.range(of: pattern, options: .regularExpression) { return String(text[range]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Runs `body` with a way to start children; stops and reaps them all when it ends.
    static func with<T>(_ body: (Children) async throws -> T) async throws -> T {
        let children = Children(binary: try #require(binary(), "build the ember executable first"))
        do {
            let result = try await body(children)
            await children.end()
            return result
        } catch {
            await children.end()
            throw error
        }
    }

    /// The `ember` children of one test; `start` and `atEnd` from the test's own task only.
    final class Children: @unchecked Sendable {
        let binary: URL
        private var started: [EmberProcess] = []
        private var atEnd: [() async -> Void] = []

        fileprivate init(binary: URL) { self.binary = binary }

        /// Launches `ember arguments` with `environment` over this process's own; standard error to `log`.
        func start(
            _ arguments: [String], environment: [String: String] = [:], in workingDirectory: URL? = nil, log: URL,
            stdout: Output = .discard
        ) throws -> EmberProcess {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            if let workingDirectory { process.currentDirectoryURL = workingDirectory }
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let errors = try FileHandle(forWritingTo: log)
            process.standardError = errors
            switch stdout {
            case .discard: process.standardOutput = FileHandle.nullDevice
            case .log: process.standardOutput = errors
            case .file(let file):
                _ = FileManager.default.createFile(atPath: file.path, contents: nil)
                process.standardOutput = try FileHandle(forWritingTo: file)
            }
            let child = EmberProcess(process: process, log: log)
            try process.run()
            started.append(child)
            return child
        }

        /// Runs `ember arguments` to completion: its exit status, and its output when `capture` is set
        /// (not for `--start` in the background: the server it leaves would hold the pipe). Blocking:
        /// call it off the pool.
        func run(
            _ arguments: [String], environment: [String: String] = [:], in workingDirectory: URL? = nil, capture: Bool = false
        ) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            if let workingDirectory { process.currentDirectoryURL = workingDirectory }
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let pipe = Pipe()
            process.standardOutput = capture ? pipe : FileHandle.nullDevice
            process.standardError = capture ? pipe : FileHandle.nullDevice
            try process.run()
            let output = capture ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: output, as: UTF8.self))
        }

        /// Work for the end of the body, before the children are stopped (`ember --stop`, say).
        func atEnd(_ work: @escaping () async -> Void) { atEnd.append(work) }

        fileprivate func end() async {
            let (work, children) = (atEnd, started)
            (atEnd, started) = ([], [])
            for item in work.reversed() { await item() }
            for child in children where child.isRunning { kill(child.pid, SIGTERM) }
            for child in children { await child.reap(grace: 30) }
        }
    }

    private init(process: Process, log: URL) {
        self.process = process
        self.log = log
    }

    /// The port `listener` ("Inference", "Management", "Metrics") announces in the log.
    func port(_ listener: String, scheme: String = "http", timeout: TimeInterval = 60) async throws -> Int {
        let line = try #require(
            try await Self.waitFor("\(listener) API bind to: \(scheme)://127.0.0.1:[0-9]+", in: log, timeout: timeout),
            "no \(listener) API port: \(logText)")
        return try #require(line.split(separator: ":").last.flatMap { Int($0) })
    }

    /// A JSON prediction over HTTP (URLSession): its status and body.
    static func predict(port: Int, _ model: String, json: String, timeout: TimeInterval = 30) async throws
        -> (status: Int, body: String)
    {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/predictions/\(model)")))
        request.httpMethod = "POST"
        request.httpBody = Data(json.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = timeout
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func waitFor(_ pattern: String, timeout: TimeInterval) async throws -> String? {
        try await Self.waitFor(pattern, in: log, timeout: timeout)
    }

    /// Waits up to `timeout` for the child to exit on its own; whether it did.
    @discardableResult func waitForExit(timeout: TimeInterval = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return !isRunning
    }

    /// Sends `signal` and waits until the child has exited; SIGKILL if it is still there after `grace`.
    func stop(_ signal: Int32 = SIGTERM, grace: TimeInterval = 30) async {
        if isRunning { kill(pid, signal) }
        await reap(grace: grace)
    }

    /// Waits until the child has exited; SIGKILL if it is still there after `grace`.
    private func reap(grace: TimeInterval) async {
        if await waitForExit(timeout: grace) { return }
        kill(pid, SIGKILL)
        while isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    }
}
