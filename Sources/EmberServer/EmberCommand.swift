import ArgumentParser
import EmberCore
import Foundation

/// `ember`: starts and stops the server, with `torchserve`'s flags.
public struct EmberCommand: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "ember",
        abstract: "Serve TorchScript models with TorchServe's APIs, archives and configuration.",
        discussion: """
            Ember accepts torchserve's flags. It serves the inference API (default 127.0.0.1:8080), the \
            management API (:8081) and Prometheus metrics (:8082) from one process.

            Examples:
              ember --start --model-store model_store --models all --ts-config config.properties
              ember --start --foreground --model-store model_store --models mlp=mlp.mar --ncs
              ember --stop

            Without --foreground the server runs in the background (logs in $LOG_LOCATION, default ./logs) \
            and `ember --stop` stops it.
            """,
        version: "Ember Version is \(version)"
    )

    @Flag(name: .customLong("start"), help: "Start the server (the default action).")
    public var start = false

    @Flag(name: .customLong("stop"), help: "Stop the server started in the background.")
    public var stop = false

    @Option(name: [.customLong("ts-config"), .customShort("f"), .customLong("ts-config-file")],
            help: ArgumentHelp("The configuration file (Java properties, TorchServe's keys).", valueName: "file"))
    public var tsConfig: String?

    @Option(name: [.customLong("model-store"), .customShort("s")],
            help: ArgumentHelp("Directory with the model archives (required here or as model_store).", valueName: "dir"))
    public var modelStore: String?

    @Option(name: [.customLong("models"), .customShort("m")], parsing: .upToNextOption,
            help: ArgumentHelp("Models to load at start: `all`, `name=file.mar` or `file.mar`, space-separated.",
                               valueName: "model"))
    public var models: [String] = []

    @Option(name: [.customLong("workflow-store"), .customShort("w")], help: .hidden)
    public var workflowStore: String?

    @Option(name: .customLong("log-config"), help: ArgumentHelp("Accepted for compatibility; Ember logs to stderr.", visibility: .hidden))
    public var logConfig: String?

    @Option(name: [.customLong("cpp-log-config")], help: .hidden)
    public var cppLogConfig: String?

    @Option(name: [.customLong("plugins-path"), .customLong("ppath")], help: .hidden)
    public var pluginsPath: String?

    @Flag(name: .customLong("foreground"), help: "Run in the foreground and log to the console.")
    public var foreground = false

    @Flag(name: [.customLong("ncs"), .customLong("no-config-snapshots")],
          help: "Do not write configuration snapshots, nor restore the last one.")
    public var noConfigSnapshots = false

    @Flag(name: [.customLong("disable-token-auth"), .customLong("dt")], help: "Do not require API tokens.")
    public var disableTokenAuth = false

    @Flag(name: [.customLong("enable-model-api"), .customLong("mapi")],
          help: "Allow registering and unregistering models through the management API.")
    public var enableModelAPI = false

    /// The background process `ember --start` leaves behind: it runs and restarts the server.
    @Flag(name: .customLong("supervise"), help: .hidden)
    public var supervise = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    public init() {}

    public func validate() throws {
        if start && stop { throw ValidationError("--start and --stop cannot be used together.") }
    }

    /// Starts or stops the server (see `main.swift` for why this is not `run()`).
    public func execute() async throws {
        if stop {
            try ServerProcess.stop(foreground: foreground)
            return
        }
        if supervise {
            let arguments = Array(CommandLine.arguments.dropFirst()).filter {
                !["--supervise", "--start", "--foreground"].contains($0)
            }
            let status = await Blocking.run { Supervisor.run(arguments: arguments) }
            if status != 0 { throw ExitCode(status) }
        } else if foreground {
            try await ServerLauncher(command: self).runForeground()
        } else {
            try ServerProcess.startInBackground(arguments: Array(CommandLine.arguments.dropFirst()))
        }
    }
}
