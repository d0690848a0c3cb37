import EmberArchive
import Foundation
import Logging

/// Registered models: name → versions → archive, settings and worker pool, with TorchServe's
/// management semantics (contract §3): register, scale, describe, list, unregister, set-default.
///
/// Blocking work (extracting archives, waiting for workers) runs on threads of its own, never on
/// the Swift concurrency pool.
public actor ModelRegistry {
    struct Entry {
        let archive: ModelArchive
        let url: String
        let pool: WorkerPool
        var settings: ModelSettings
        let loadedAtStartup: Bool
        /// An archive this server downloaded into the store; deleted when the version goes, as TorchServe does.
        var downloadedFile: String? = nil

        func removeFiles() {
            archive.removeExtractedFiles()
            if let downloadedFile { try? FileManager.default.removeItem(atPath: downloadedFile) }
        }
    }

    struct Model {
        var defaultVersion: String
        var versions: [String: Entry]
    }

    private var models: [String: Model] = [:] {
        didSet {
            directory.publish(
                models.mapValues { model in
                    .init(
                        defaultVersion: model.defaultVersion,
                        versions: model.versions.mapValues {
                            .init(pool: $0.pool, minWorkers: $0.settings.minWorkers, loadedAtStartup: $0.loadedAtStartup)
                        })
                })
        }
    }
    /// `models`' pools, for lookups that do not enter the actor (``pool(_:version:)``).
    private nonisolated let directory = PoolDirectory()
    /// name/version pairs being registered, so a concurrent duplicate answers 409.
    private var pending: Set<String> = []
    private let backend: any InferenceBackend
    private let configuration: ServerConfiguration
    private let metrics: ServerMetrics
    private let logger: Logger
    private let extractionParent: URL?
    private let fetcher: (any ArchiveFetcher)?

    public init(
        backend: any InferenceBackend, configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger,
        extractionParent: URL? = nil, fetcher: (any ArchiveFetcher)? = nil
    ) {
        self.fetcher = fetcher
        self.backend = backend
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.extractionParent = extractionParent
    }

    // MARK: Register

    public struct Registration: Sendable {
        public var url: String
        public var modelName: String?
        /// What the register call asked for (the highest or lowest precedence, per setting).
        public var settings: ModelSettings.Partial
        public var synchronous: Bool
        public var atStartup: Bool

        public init(
            url: String, modelName: String? = nil, settings: ModelSettings.Partial = .init(), synchronous: Bool = true,
            atStartup: Bool = false
        ) {
            self.url = url
            self.modelName = modelName
            self.settings = settings
            self.synchronous = synchronous
            self.atStartup = atStartup
        }
    }

    /// Registers an archive; answers TorchServe's status and message. A version that fails to start is
    /// removed again, its files deleted: nothing is left half-registered.
    public func register(_ registration: Registration) async throws(ServerError) -> ManagementResult {
        let (path, downloaded) = try await locate(registration.url)
        let downloadedFile = downloaded ? path : nil
        func discard(_ archive: ModelArchive) async {
            await Blocking.run {
                archive.removeExtractedFiles()
                if let downloadedFile { try? FileManager.default.removeItem(atPath: downloadedFile) }
            }
        }
        let archive: ModelArchive
        do {
            archive = try await openArchive(path)
        } catch {
            if downloaded { await Blocking.run { try? FileManager.default.removeItem(atPath: path) } }
            throw error
        }
        let name = registration.modelName ?? archive.modelName
        let version = archive.modelVersion
        let key = name + "\u{0}" + version
        guard ModelName.isValid(name) else {
            await discard(archive)
            throw ServerError(.modelNameInvalid,
                "Model name \(name) is not valid: use letters, digits, '_', '-' and '.', starting with a letter or digit.")
        }
        guard models[name]?.versions[version] == nil, !pending.contains(key) else {
            await discard(archive)
            throw ServerError(.conflict, "Model version \(version) is already registered for model \(name)")
        }
        pending.insert(key)
        defer { pending.remove(key) }

        let settings = ModelSettings.resolve(
            registration: registration.settings, config: archive.config,
            overrides: configuration.models[name]?[version], server: configuration, atStartup: registration.atStartup)
        do throws(ServerError) {
            try checkLimits(settings, name: name, version: version)
        } catch {
            await discard(archive)
            throw error
        }
        let pool = makePool(name: name, version: version, archive: archive, settings: settings)
        let entry = Entry(
            archive: archive, url: registration.url, pool: pool, settings: settings,
            loadedAtStartup: registration.atStartup, downloadedFile: downloadedFile)
        var model = models[name] ?? Model(defaultVersion: version, versions: [:])
        if configuration.models[name]?[version]?.defaultVersion == true { model.defaultVersion = version }
        model.versions[version] = entry
        models[name] = model
        logger.info(
            "model registered",
            metadata: ["model.name": "\(name)", "model.version": "\(version)", "workers": "\(settings.minWorkers)"])

        guard settings.minWorkers > 0 else {
            return .completed(
                "Model \"\(name)\" Version: \(version) registered with 0 initial workers. "
                    + "Use scale workers API to add workers for the model.")
        }
        pool.scale(min: settings.minWorkers, max: settings.maxWorkers)
        guard registration.synchronous else { return .accepted("Processing worker updates...") }
        let readiness = await Blocking.run { pool.waitUntilReady(timeout: settings.startupTimeout) }
        if readiness != .ready {
            await remove(name: name, version: version)
            let reason = if case .failed(let reason) = readiness { reason } else { "workers not ready within startup_timeout" }
            throw ServerError(.workersFailedToStart,
                "Failed to start workers for model \(name) version: \(version): \(reason)")
        }
        return .completed("Model \"\(name)\" Version: \(version) registered with \(settings.minWorkers) initial workers")
    }

    /// The archive's path in the store, downloading an allow-listed URL first (true when downloaded).
    private func locate(_ url: String) async throws(ServerError) -> (path: String, downloaded: Bool) {
        switch try ArchiveLocation.resolve(url, modelStore: configuration.modelStore, allowedURLs: configuration.allowedURLs) {
        case .local(let path):
            return (path, false)
        case .remote(let remote, let fileName):
            guard let fetcher, let store = configuration.modelStore else {
                throw ServerError(.downloadFailed, "Failed to download archive from: \(url)")
            }
            let destination = URL(fileURLWithPath: store).appendingPathComponent(fileName)
            guard !FileManager.default.fileExists(atPath: destination.path) else {
                throw ServerError(.internalError, "Model file already exists \(fileName)")
            }
            let allowed = configuration.allowedURLs
            let outcome: Result<Void, ServerError> = await Blocking.run {
                do throws(ServerError) {
                    try fetcher.fetch(remote, to: destination, allowedURLs: allowed)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try outcome.get()
            return (destination.path, true)
        }
    }

    private func openArchive(_ path: String) async throws(ServerError) -> ModelArchive {
        let parent = extractionParent
        let result: Result<ModelArchive, any Error> = await Blocking.run {
            Result { try ModelArchive.open(at: path, extractionParent: parent) }
        }
        switch result {
        case .success(let archive): return archive
        case .failure(let error as ArchiveError):
            throw ServerError(error.kind == .unsupportedHandler ? .badRequest : .invalidModel, error.message)
        case .failure(let error):
            throw ServerError(.invalidModel, "\(error)")
        }
    }

    private func makePool(name: String, version: String, archive: ModelArchive, settings: ModelSettings) -> WorkerPool {
        let observer = metrics.poolObserver(model: name, version: version)
        return WorkerPool(
            modelName: name, modelVersion: version, archive: archive, backend: backend,
            settings: settings, idleSpin: .microseconds(configuration.workerIdleSpinMicroseconds), observer: observer,
            logger: logger)
    }

    // MARK: Lookup

    private func entry(_ name: String, _ version: String?) throws(ServerError) -> Entry {
        guard let model = models[name] else { throw .modelNotFound(name) }
        let wanted = version ?? model.defaultVersion
        guard let entry = model.versions[wanted] else { throw .versionNotFound(name, wanted) }
        return entry
    }

    /// The pool serving `name` (default version when `version` is nil). Nonisolated: every prediction
    /// looks its pool up, and a hop onto the actor's executor and back cost more than the lookup.
    public nonisolated func pool(_ name: String, version: String?) throws(ServerError) -> WorkerPool {
        try directory.pool(name, version: version)
    }

    /// The version `version` resolves to (the default when nil) and every registered version, sorted.
    public func versions(_ name: String, resolving version: String?) throws(ServerError) -> (resolved: String, all: [String]) {
        let entry = try entry(name, version)
        return (entry.archive.modelVersion, models[name]?.versions.keys.sorted() ?? [])
    }

    public nonisolated func requireModel(_ name: String) throws(ServerError) {
        guard directory.contains(name) else { throw .modelNotFound(name) }
    }

    // MARK: Scale

    public func scale(name: String, version: String?, min: Int, max: Int, synchronous: Bool) async throws(ServerError)
        -> ManagementResult
    {
        guard min >= 0 else { throw .badRequest("min_worker must be 0 or more.") }
        var entry = try entry(name, version)
        let resolvedVersion = entry.archive.modelVersion
        entry.settings.minWorkers = min
        entry.settings.maxWorkers = Swift.max(min, max)
        try checkLimits(entry.settings, name: name, version: resolvedVersion)
        models[name]?.versions[resolvedVersion]?.settings = entry.settings
        entry.pool.scale(min: min, max: Swift.max(min, max))
        guard synchronous else { return .accepted("Processing worker updates...") }
        let pool = entry.pool
        let timeout = entry.settings.startupTimeout
        switch await Blocking.run({ pool.waitUntilReady(timeout: timeout) }) {
        case .ready: break
        case .timedOut: return .inProgress("Workers scaling in progress...")
        case .failed(let reason):
            throw ServerError(.workersFailedToStart,
                "Failed to start workers for model \(name) version: \(version ?? "null"): \(reason)")
        }
        let suffix = version.map { ", version: \($0)" } ?? ""
        return .completed("Workers scaled to \(min) for model: \(name)\(suffix)")
    }

    /// Every setting within its range, and the workers within `max_workers_per_model` and `max_workers`.
    private func checkLimits(_ settings: ModelSettings, name: String, version: String) throws(ServerError) {
        try settings.validate(maxWorkersPerModel: configuration.maxWorkersPerModel)
        let others = models.reduce(0) { sum, model in
            model.value.versions.reduce(sum) { sum, pair in
                model.key == name && pair.key == version ? sum : sum + pair.value.settings.minWorkers
            }
        }
        try WorkerCaps.checkTotal(adding: settings.minWorkers, others: others, cap: configuration.maxWorkers)
    }

    // MARK: Unregister, set-default

    public func unregister(name: String, version: String?) async throws(ServerError) -> ManagementResult {
        guard let model = models[name] else { throw .modelNotFound(name) }
        let wanted = version ?? model.defaultVersion
        guard model.versions[wanted] != nil else { throw .versionNotFound(name, wanted) }
        if wanted == model.defaultVersion, model.versions.count > 1 {
            throw ServerError(.cannotRemoveDefaultVersion, "Cannot remove default version for model \(name)")
        }
        await remove(name: name, version: wanted)
        return .completed("Model \"\(name)\" unregistered")
    }

    /// Takes a version out of the registry, drains and stops its pool, deletes its extracted files.
    private func remove(name: String, version: String) async {
        guard let entry = models[name]?.versions.removeValue(forKey: version) else { return }
        if models[name]?.versions.isEmpty == true { models[name] = nil }
        let timeout = configuration.unregisterModelTimeout
        await Blocking.run {
            entry.pool.shutdown(timeout: .seconds(timeout))
            entry.removeFiles()
        }
        logger.info("model unregistered", metadata: ["model.name": "\(name)", "model.version": "\(version)"])
    }

    public func setDefault(name: String, version: String) throws(ServerError) -> ManagementResult {
        guard var model = models[name] else { throw .modelNotFound(name) }
        guard model.versions[version] != nil else {
            throw ServerError(.versionNotFound, "Model version \(version) does not exist for model \(name)")
        }
        model.defaultVersion = version
        models[name] = model
        return .completed("Default version successfully updated for model \"\(name)\" to \"\(version)\"")
    }

    /// Stops every pool (server shutdown), draining in-flight requests within `timeout`.
    public func shutdownAll(timeout: Duration) async {
        let entries = models.values.flatMap { $0.versions.values }
        await Blocking.run {
            DispatchQueue.concurrentPerform(iterations: entries.count) { entries[$0].pool.shutdown(timeout: timeout) }
            for entry in entries { entry.archive.removeExtractedFiles() }
        }
        models.removeAll()
    }

    // MARK: Health

    /// TorchServe's `/ping`: unhealthy when some default version has fewer ready workers than its
    /// minimum. Nonisolated, as every health route: probes come often and need no actor hop.
    public nonisolated func isHealthy() -> Bool { directory.isHealthy }

    /// Every start-up model has its minimum workers ready.
    public nonisolated func isReady() -> Bool { directory.isReady }

    public nonisolated func isModelReady(_ name: String) throws(ServerError) -> Bool {
        let version = try directory.version(name, nil)
        return version.pool.readyWorkerCount >= Swift.max(1, version.minWorkers)
    }

    // MARK: Describe and list

    public enum Target: Sendable { case defaultVersion, version(String), all }

    public func describe(name: String, target: Target) throws(ServerError) -> JSONValue {
        guard let model = models[name] else { throw .modelNotFound(name) }
        let entries: [Entry]
        switch target {
        case .defaultVersion: entries = [try entry(name, nil)]
        case .version(let version): entries = [try entry(name, version)]
        case .all: entries = model.versions.keys.sorted().compactMap { model.versions[$0] }
        }
        return .array(entries.map { ModelDescription.json(for: $0.description(name: name)) })
    }

    /// One page of `limit` names after the first `offset`. TorchServe adds `nextPageToken` when
    /// `offset + limit` is within the list; written so that no client value can overflow.
    public func list(limit: Int, offset: Int) -> JSONValue {
        let names = models.keys.sorted()
        let limit = Swift.max(0, limit)
        let offset = Swift.max(0, offset)
        let page = names.dropFirst(offset).prefix(limit)
        var pairs: [(String, JSONValue)] = []
        if limit <= names.count, offset <= names.count - limit {
            pairs.append(("nextPageToken", .string(String(offset + limit))))
        }
        pairs.append((
            "models",
            .array(page.compactMap { name -> JSONValue? in
                guard let model = models[name], let entry = model.versions[model.defaultVersion] else { return nil }
                return ["modelName": .string(name), "modelUrl": .string(entry.url)]
            })
        ))
        return .object(pairs)
    }

    /// Every version with its URL, settings and whether it is the default (configuration snapshots).
    public func snapshot() -> ModelSnapshot {
        ModelSnapshot(
            versions: models.flatMap { name, model in
                model.versions.map { version, entry in
                    ModelSnapshot.Version(
                        modelName: name, version: version, isDefault: version == model.defaultVersion, marName: entry.url,
                        settings: entry.settings)
                }
            })
    }
}

extension ModelRegistry.Entry {
    func description(name: String) -> ModelDescription {
        var settings = settings
        (settings.minWorkers, settings.maxWorkers) = pool.workerRange
        return ModelDescription(
            modelName: name, modelVersion: archive.modelVersion, modelUrl: url, runtime: archive.manifest.runtime,
            settings: settings, loadedAtStartup: loadedAtStartup, workers: pool.workerInfo,
            pendingRequests: pool.pendingRequests, loadError: pool.loadError, retriesExhausted: pool.retriesExhausted,
            warmUpTime: pool.tensorMetadata?.warmUpTime)
    }
}
