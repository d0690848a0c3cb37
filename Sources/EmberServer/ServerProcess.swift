import ArgumentParser
import Foundation

/// Running the server in the background, as `torchserve --start` does, and stopping it.
enum ServerProcess {
    /// TorchServe's pid file: `$TMPDIR/.model_server.pid`.
    static var pidFile: URL {
        FileManager.default.temporaryDirectory.appendingPathComponent(".model_server.pid")
    }

    static var logDirectory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["LOG_LOCATION"] ?? "logs")
    }

    static func runningPID() -> pid_t? {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        return isAlive(pid) ? pid : nil
    }

    /// Running, and not a zombie: a background process whose parent has gone is reaped by init, which
    /// in a container may never do it.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    static func startInBackground(arguments: [String]) throws {
        if runningPID() != nil {
            print("Ember is already running, please use ember --stop to stop Ember.")
            throw ExitCode.failure
        }
        if FileManager.default.fileExists(atPath: pidFile.path) {
            print("Removing orphan pid file.")
            try? FileManager.default.removeItem(at: pidFile)
        }
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        let logURL = logDirectory.appendingPathComponent("ember.log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let process = Process()
        // This very executable, wherever it was started from.
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        // The supervisor runs the server and restarts it when it dies (Supervisor.swift).
        process.arguments = arguments.filter { $0 != "--start" && $0 != "--foreground" } + ["--supervise"]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Wait for the listeners, as torchserve's launcher waits for "Model server started".
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let text = try? String(contentsOf: logURL, encoding: .utf8), text.contains("Model server started.") {
                print("Model server started. Logs: \(logURL.path)")
                return
            }
            if !process.isRunning {
                print("Ember failed to start; see \(logURL.path)")
                throw ExitCode.failure
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        print("Ember did not report a start within 120 s; see \(logURL.path)")
        throw ExitCode.failure
    }

    static func stop(foreground: Bool) throws {
        // As torchserve --stop: the key file of the stop command's working directory goes too.
        try? FileManager.default.removeItem(atPath: TokenFile.fileName)
        guard let pid = runningPID() else {
            try? FileManager.default.removeItem(at: pidFile)
            print("Ember is not currently running.")
            return
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, isAlive(pid) { Thread.sleep(forTimeInterval: 0.1) }
        try? FileManager.default.removeItem(at: pidFile)
        print("Ember has stopped.")
    }

    /// The pid file holds the supervisor's pid when there is one (it stops the server on SIGTERM).
    static func writePID() {
        guard !Supervisor.isSupervised else { return }
        try? String(getpid()).write(to: pidFile, atomically: true, encoding: .utf8)
    }

    static func removePIDIfOurs() {
        guard !Supervisor.isSupervised else { return }
        if let text = try? String(contentsOf: pidFile, encoding: .utf8),
            text.trimmingCharacters(in: .whitespacesAndNewlines) == String(getpid())
        {
            try? FileManager.default.removeItem(at: pidFile)
        }
    }
}
