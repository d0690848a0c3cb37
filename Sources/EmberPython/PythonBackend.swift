import EmberArchive
import EmberCore
import Foundation
import Logging
import Synchronization

/// Serves archives whose handler is Python through TorchServe's own worker, one process per pool
/// worker. `load` only validates (the interpreter imports `ts`; each process loads its own copy).
public final class PythonBackend: InferenceBackend {
    public let executable: String
    /// Whether an archive's `requirements.txt` is installed (`install_py_dep_per_model`).
    public let installsDependencies: Bool
    private let maxResponseSize: Int
    private let environment: [String: String]
    private let metrics: PythonMetricsSink?
    private let logger: Logger
    private let probed = Mutex<PythonInterpreter?>(nil)

    /// - Parameters:
    ///   - executable: the interpreter (``PythonInterpreter/defaultExecutable(configured:workingDirectory:)``).
    ///   - metrics: where the workers' `[METRICS]` lines go; `reserved` names are left to the server.
    public init(
        executable: String, maxResponseSize: Int, installsDependencies: Bool = false, metrics: MetricsRegistry? = nil,
        reservedMetricNames: Set<String> = [], environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) {
        self.executable = executable
        self.installsDependencies = installsDependencies
        self.maxResponseSize = maxResponseSize
        self.environment = environment
        self.metrics = metrics.map { PythonMetricsSink(registry: $0, reserved: reservedMetricNames) }
        self.logger = logger
        // At server start: make this server's socket directory and remove those of dead servers.
        if case .failure(let error) = WorkerSocketDirectory.current {
            logger.warning("cannot make the Python workers' socket directory", metadata: ["error": "\(error)"])
        }
    }

    public func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel {
        guard let handler = archive.pythonHandler else {
            throw ServerError(.invalidModel, "the archive's handler is declarative, not Python")
        }
        let interpreter = try interpreter()
        logger.notice(
            "serving the archive with Python workers: its handler runs as Python code",
            metadata: [
                "model.name": "\(archive.modelName)", "model.version": "\(archive.modelVersion)",
                "handler": "\(handler)", "interpreter": "\(interpreter.executable)",
            ])
        let dependencies = try installRequirements(of: archive, with: interpreter)
        var environment = self.environment
        if let dependencies {
            environment["PYTHONPATH"] = [dependencies.path, environment["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":")
        }
        let sink = metrics
        return PythonLoadedModel(
            interpreter: interpreter, archive: archive, handler: handler, maxResponseSize: maxResponseSize,
            environment: environment, dependencies: dependencies, metricsLine: { line in sink?.record(line) })
    }

    /// `pip install --target` into a directory of this model version's own (TorchServe installs into
    /// the model's directory), put first on its workers' `PYTHONPATH`; nil when there is nothing to do.
    private func installRequirements(of archive: ModelArchive, with interpreter: PythonInterpreter) throws -> URL? {
        guard let name = archive.manifest.model.requirementsFile, let file = archive.files[name] else { return nil }
        guard installsDependencies else {
            logger.info(
                "not installing the archive's \(name): install_py_dep_per_model is false",
                metadata: ["model.name": "\(archive.modelName)"])
            return nil
        }
        let target = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ember-deps-\(archive.modelName)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        logger.info("installing the archive's \(name)", metadata: ["model.name": "\(archive.modelName)", "target": "\(target.path)"])
        let outcome = try ChildProcess.run(
            arguments: [
                interpreter.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
                "--target", target.path, "-r", file.path,
            ],
            environment: environment, timeout: .seconds(600))
        guard outcome.succeeded else {
            try? FileManager.default.removeItem(at: target)
            let tail = outcome.output.split(separator: "\n").suffix(3).joined(separator: " ")
            throw ServerError(
                .invalidModel,
                "Custom pip package installation failed for model \(archive.modelName) (\(outcome.timedOut ? "timed out" : outcome.status)): \(tail)")
        }
        return target
    }

    /// Probed once; a failure is probed again at the next registration (the user may have installed it).
    private func interpreter() throws -> PythonInterpreter {
        if let known = probed.withLock({ $0 }) { return known }
        let found = try PythonInterpreter.probe(executable)
        probed.withLock { $0 = found }
        return found
    }
}

/// A Python archive ready to be served: each worker the pool asks for is a new process.
final class PythonLoadedModel: LoadedModel {
    private let interpreter: PythonInterpreter
    private let archive: ModelArchive
    private let handler: String
    private let maxResponseSize: Int
    private let environment: [String: String]
    /// The installed `requirements.txt`, removed with the model.
    private let dependencies: URL?
    private let metricsLine: @Sendable (String) -> Void

    init(
        interpreter: PythonInterpreter, archive: ModelArchive, handler: String, maxResponseSize: Int,
        environment: [String: String], dependencies: URL?, metricsLine: @escaping @Sendable (String) -> Void
    ) {
        self.dependencies = dependencies
        self.interpreter = interpreter
        self.archive = archive
        self.handler = handler
        self.maxResponseSize = maxResponseSize
        self.environment = environment
        self.metricsLine = metricsLine
    }

    deinit {
        if let dependencies { try? FileManager.default.removeItem(at: dependencies) }
    }

    func prepareWorkerThread(intraOpThreads: Int) {}

    /// Never called: every worker of this model is a ``PythonWorker``.
    func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>] {
        throw ServerError.internalError("a Python model has no in-process worker")
    }

    func makeWorker(_ context: WorkerContext) -> (any PoolWorker)? {
        let gpu = context.device.hasPrefix("cuda:") ? Int32(context.device.dropFirst(5)) ?? -1 : -1
        var environment = self.environment
        if environment["OMP_NUM_THREADS"] == nil { environment["OMP_NUM_THREADS"] = String(max(1, context.settings.intraOpThreads)) }
        let launch = PythonWorkerLaunch(
            interpreter: interpreter.executable, tsPackageDirectory: interpreter.tsPackageDirectory,
            load: LoadRequest(
                modelName: context.modelName, modelPath: archive.directory.path,
                batchSize: Int32(clamping: context.settings.batchSize), handler: handler, gpuID: gpu),
            environment: environment, startupTimeout: context.settings.startupTimeout, maxResponseSize: maxResponseSize,
            logger: context.logger, metricsLine: metricsLine)
        do {
            return try PythonWorker(id: context.id, launch: launch)
        } catch {
            return UnstartableWorker(id: context.id, reason: "\(error)")
        }
    }
}

/// A worker whose resources could not be made: it reports its exit at once (the pool retries later).
final class UnstartableWorker: PoolWorker {
    let id: Int
    let reason: String

    init(id: Int, reason: String) {
        self.id = id
        self.reason = reason
    }

    func start(events: any PoolWorkerEvents) { events.workerExited(id, reason: reason) }
    func run(_ batch: [InferenceInput]) {}
    func stop() {}
}
