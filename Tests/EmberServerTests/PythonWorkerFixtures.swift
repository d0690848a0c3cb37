import Foundation

/// The project's Python environment (made by `make test` through scripts/install-python-env.sh), the
/// real `torch-model-archiver` in it, and the Python handlers and models in Fixtures/python.
enum PythonWorkerFixtures {
    static let venv = TestServer.testsDirectory.deletingLastPathComponent().appendingPathComponent(".venv/bin")
    static let python = venv.appendingPathComponent("python").path
    static let directory = TestServer.fixture("EmberServerTests/Fixtures/python")

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a program to completion; its stdout. Blocking: call it off the pool.
    static func run(_ executable: String, _ arguments: [String]) throws -> Data {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw Failure(description: "\(executable) is missing: run scripts/install-python-env.sh")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return output
    }

    /// `torch-model-archiver` (TorchServe's own) writes `<name>.mar` into `store`.
    static func archive(
        _ name: String, handler: String, serializedFile: String? = nil, modelFile: String? = nil,
        extraFiles: [String] = [], requirementsFile: String? = nil, configFile: String? = nil, into store: URL
    ) throws {
        var arguments = ["--model-name", name, "--version", "1.0", "--handler", handler, "--export-path", store.path, "--force"]
        if let serializedFile { arguments += ["--serialized-file", serializedFile] }
        if let modelFile { arguments += ["--model-file", modelFile] }
        if let requirementsFile { arguments += ["--requirements-file", requirementsFile] }
        if let configFile { arguments += ["--config-file", configFile] }
        if !extraFiles.isEmpty { arguments += ["--extra-files", extraFiles.joined(separator: ",")] }
        _ = try run(venv.appendingPathComponent("torch-model-archiver").path, arguments)
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The Python worker processes this test process started (their sockets are in our pid's directory).
    static func workerProcesses() -> Set<Int32> {
        let marker = "/ember-\(getpid()).sockets/"
        var found: Set<Int32> = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: cmdline, as: UTF8.self).contains(marker)
            else { continue }
            found.insert(pid)
        }
        return found
    }

    /// Our children that exited and were not reaped (a zombie's cmdline is empty, so
    /// ``workerProcesses()`` does not see them).
    static func zombieChildren() -> Int {
        var count = 0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let stat = FileManager.default.contents(atPath: "/proc/\(entry)/stat") else { continue }
            let text = String(decoding: stat, as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 1, fields[0] == "Z", Int32(fields[1]) == getpid() { count += 1 }
        }
        return count
    }

    /// Waits until `condition` holds (polling), up to `timeout`.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}
