import EmberArchive
import EmberCore
import EmberHTTP
import EmberTorch
import Foundation
import Logging
import ServiceLifecycle
import TorchBackend
import UnixSignals

/// Runs the server in the foreground: configuration, start-up models, the three listeners and the
/// worker pools in one ServiceGroup; SIGINT/SIGTERM drain and exit 0.
struct ServerLauncher {
    let command: EmberCommand

    func runForeground() async throws {
        let level = Logger.Level(rawValue: command.logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "ember")
        logger.logLevel = level
        let snapshots = command.noConfigSnapshots
            ? nil : SnapshotStore(directory: ServerProcess.logDirectory.appendingPathComponent("config"))
        let (configuration, persisted, restored) = try loadConfiguration(snapshots: snapshots, logger: logger)
        // Read and checked before any model loads: a missing or bad PEM file stops the start with its name.
        let tls = try configuration.tlsFiles().map {
            try TLSCredentials.load(certificateFile: $0.certificate, privateKeyFile: $0.privateKey)
        }
        // One inter-op thread: parallelism comes from workers and their intra-op threads.
        try? TorchRuntime.setInterOpThreads(1)
        // Workers parallelise; OpenBLAS's own threads would only spin on the same cores (unless the
        // operator asked for them with OPENBLAS_NUM_THREADS).
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { TorchRuntime.limitBLASThreads(1) }

        let startup = ContinuousClock.now
        let tokens = try TokenFile.start(configuration: configuration, logger: logger)
        let accessLog = level <= .info ? AccessLog() : nil
        defer { accessLog?.close() }
        let metrics = ServerMetrics()
        let server = try await buildServer(
            configuration: configuration, backend: serverBackend(configuration: configuration, metrics: metrics, logger: logger),
            fetcher: HTTPArchiveFetcher(), logger: logger,
            options: ServerOptions(
                tls: tls, tokens: tokens, snapshots: snapshots.map { .init(store: $0, configuration: persisted) },
                restoredModels: restored, accessLog: accessLog, metrics: metrics, gracefulShutdownSignals: [.sigterm, .sigint],
                onReady: { [logger] _ in
                    logger.info("listeners ready", metadata: ["startup": "\(ContinuousClock.now - startup)"])
                    // Written straight to the descriptor so the line is never held in a buffer.
                    FileHandle.standardOutput.write(Data("Model server started.\n".utf8))
                }))
        ServerProcess.writePID()
        defer { ServerProcess.removePIDIfOurs() }
        do {
            try await server.group.run()
        } catch {
            logger.critical("server stopped on an error", metadata: ["error": "\(error)"])
            throw error
        }
        logger.info("Ember has stopped.")
    }

    /// TorchServe's order: `TS_CONFIG_FILE`, `--ts-config`, the newest snapshot (unless `--ncs`; its
    /// models replace `--models`), `./config.properties`, defaults; then the command line's switches.
    ///
    /// `persisted` is what snapshots record: the configuration without `--disable-token-auth` and
    /// `--enable-model-api`. Unlike TorchServe, a switch that loosens security lasts one run; a
    /// restart without it (which restores the snapshot) is locked down again.
    private func loadConfiguration(snapshots: SnapshotStore?, logger: Logger) throws
        -> (configuration: ServerConfiguration, persisted: ServerConfiguration, restored: ModelSnapshot?)
    {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        var restored: SnapshotStore.Restored?
        var fileModels: ModelSnapshot?
        if let path = environment["TS_CONFIG_FILE"] ?? command.tsConfig {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ConfigurationError("--ts-config file not found: \(path)")
            }
            configuration = try ServerConfiguration(contentsOf: path)
            // TorchServe loads a configuration file's `model_snapshot` (KServe's storage layout relies on it).
            if command.models.isEmpty, let models = try ConfigFileModels.snapshot(inFile: path) {
                fileModels = models
            }
        } else if let snapshot = snapshots?.latest() {
            logger.info("Restoring the configuration snapshot \(snapshot.file.path)")
            configuration = try ServerConfiguration(properties: snapshot.properties)
            restored = snapshot
        } else if FileManager.default.fileExists(atPath: "config.properties") {
            configuration = try ServerConfiguration(contentsOf: "config.properties")
        }
        if let store = command.modelStore { configuration.modelStore = store }
        if !command.models.isEmpty, restored == nil {
            configuration.loadModels = command.models.flatMap(ServerConfiguration.modelList)
        }
        let persisted = configuration
        if command.enableModelAPI { configuration.enableModelAPI = true }
        // TorchServe: a TS_DISABLE_TOKEN_AUTHORIZATION variable wins over the flag.
        if command.disableTokenAuth, !configuration.environmentKeys.contains("disable_token_authorization") {
            configuration.disableTokenAuthorization = true
        }
        guard let store = configuration.modelStore else { throw ConfigurationError("Missing mandatory parameter --model-store") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: store, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigurationError("--model-store directory not found: \(store)")
        }
        for key in configuration.unknownKeys {
            logger.warning("unknown configuration key ignored", metadata: ["key": "\(key)"])
        }
        for key in configuration.ignoredKeys {
            logger.debug("TorchServe configuration key has no effect in Ember", metadata: ["key": "\(key)"])
        }
        let nativeProtocols = configuration.ignoredKeys.filter { ["service_envelope", "ts_open_inference_protocol"].contains($0) }
            + (ProcessInfo.processInfo.environment["TS_OPEN_INFERENCE_PROTOCOL"] != nil ? ["TS_OPEN_INFERENCE_PROTOCOL"] : [])
        for key in nativeProtocols {
            logger.info(
                "setting not needed: the inference listener speaks the Open Inference Protocol (/v2) and KServe v1 natively",
                metadata: ["key": "\(key)"])
        }
        return (configuration, persisted, restored?.models ?? fileModels)
    }
}
