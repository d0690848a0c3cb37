import Foundation
import Synchronization

/// `ember --start` in the background: a small process that keeps the server up. It starts
/// `ember --start --foreground` and, when that process dies without being asked to (a native crash
/// in a model, an OOM kill), logs why and starts it again with back-off, restoring the newest
/// configuration snapshot so registered models, versions, workers and defaults come back. After
/// ``maxRestarts`` restarts within ``crashWindow`` it gives up with a message. SIGTERM (`ember --stop`)
/// stops the server and then the supervisor.
enum Supervisor {
    static let maxRestarts = 5
    static let crashWindow: TimeInterval = 300
    /// A server that ran this long counts as healthy again: the back-off starts over.
    static let healthyAfter: TimeInterval = 60
    /// Set in the server's environment: the supervisor owns the pid file.
    static let supervisedVariable = "EMBER_SUPERVISED"

    static var isSupervised: Bool { ProcessInfo.processInfo.environment[supervisedVariable] == "1" }

    private final class Child: Sendable {
        let stopping = Atomic<Bool>(false)
        let pid = Atomic<Int32>(0)
    }

    /// Runs until the server is stopped (0) or keeps crashing (1). Blocking: call it off the concurrency pool.
    static func run(arguments: [String]) -> Int32 {
        ServerProcess.writePID()
        defer { ServerProcess.removePIDIfOurs() }
        let child = Child()
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                child.stopping.store(true, ordering: .sequentiallyConsistent)
                let pid = child.pid.load(ordering: .sequentiallyConsistent)
                if pid > 0 { kill(pid, SIGTERM) }
            }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        var restarts: [Date] = []
        var delay: TimeInterval = 1
        var serverArguments = arguments
        while true {
            let started = Date()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = serverArguments + ["--start", "--foreground"]
            var environment = ProcessInfo.processInfo.environment
            environment[supervisedVariable] = "1"
            // Swift's crash reporter would inherit the listening sockets and hold the ports while it
            // symbolicates (minutes, for a process with many threads): the restart must bind at once.
            if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                say("cannot start the server: \(error)")
                return 1
            }
            child.pid.store(process.processIdentifier, ordering: .sequentiallyConsistent)
            say("server process \(process.processIdentifier) started")
            // A stop that came while the server was starting.
            if child.stopping.load(ordering: .sequentiallyConsistent) { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            child.pid.store(0, ordering: .sequentiallyConsistent)
            let reason =
                process.terminationReason == .uncaughtSignal
                ? "was killed by signal \(process.terminationStatus)\(signalName(process.terminationStatus))"
                : "exited with status \(process.terminationStatus)"
            if child.stopping.load(ordering: .sequentiallyConsistent) {
                say("server process \(process.processIdentifier) \(reason) after a stop request; supervisor exiting")
                return 0
            }
            let now = Date()
            if now.timeIntervalSince(started) >= healthyAfter { delay = 1 }
            restarts = restarts.filter { now.timeIntervalSince($0) < crashWindow } + [now]
            guard restarts.count <= maxRestarts else {
                say("server process \(process.processIdentifier) \(reason); it died \(restarts.count) times within "
                    + "\(Int(crashWindow)) s, not restarting it again (crash loop). See the log above for why.")
                return 1
            }
            serverArguments = restartArguments(arguments)
            say("server process \(process.processIdentifier) \(reason); restarting it in \(Int(delay)) s "
                + "(restart \(restarts.count) of at most \(maxRestarts) within \(Int(crashWindow)) s)")
            let wakeUp = Date().addingTimeInterval(delay)
            while Date() < wakeUp, !child.stopping.load(ordering: .sequentiallyConsistent) { usleep(50_000) }
            if child.stopping.load(ordering: .sequentiallyConsistent) { return 0 }
            delay = min(delay * 2, 30)
        }
    }

    /// The first start's arguments, but for the configuration: when snapshots are on and one was written,
    /// the restart restores it (no `--ts-config`, no `--models`), as TorchServe's restart does.
    static func restartArguments(_ arguments: [String]) -> [String] {
        guard !arguments.contains("--ncs"), !arguments.contains("--no-config-snapshots") else { return arguments }
        let snapshots = ServerProcess.logDirectory.appendingPathComponent("config")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: snapshots.path))?.contains { $0.hasSuffix(".cfg") }
        guard written == true, ProcessInfo.processInfo.environment["TS_CONFIG_FILE"] == nil else { return arguments }
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if ["--ts-config", "-f", "--ts-config-file"].contains(name) {
                if name == argument { index += 1 }  // its value follows
            } else if ["--models", "-m"].contains(name) {
                while index < arguments.count, !arguments[index].hasPrefix("-") { index += 1 }
            } else {
                kept.append(argument)
            }
        }
        return kept
    }

    private static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGKILL: " (SIGKILL: killed, perhaps by the kernel's OOM killer)"
        case SIGSEGV: " (SIGSEGV: a native crash)"
        case SIGABRT: " (SIGABRT: an abort or a Swift runtime trap)"
        case SIGILL: " (SIGILL: a Swift runtime trap)"
        case SIGBUS: " (SIGBUS)"
        case SIGTERM: " (SIGTERM)"
        default: ""
        }
    }

    private static func say(_ message: String) {
        let line = "\(ISO8601DateFormatter().string(from: Date())) ember supervisor: \(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
