import Synchronization

/// The registry's pools by model name and version, readable from any thread without entering the
/// registry's actor: the prediction path looks its pool up here and the health routes answer from it
/// (one short lock, no executor hop). ``ModelRegistry`` replaces the whole table whenever its models
/// or their worker minimums change.
final class PoolDirectory: Sendable {
    struct Model {
        var defaultVersion: String
        var versions: [String: Version]
    }

    struct Version {
        var pool: WorkerPool
        var minWorkers: Int
        var loadedAtStartup: Bool

        /// Has its minimum of ready workers.
        var isHealthy: Bool { pool.readyWorkerCount >= minWorkers }
    }

    private let table = Mutex<[String: Model]>([:])

    func publish(_ models: [String: Model]) { table.withLock { $0 = models } }

    private var models: [String: Model] { table.withLock { $0 } }

    /// The pool serving `name` (its default version when `version` is nil).
    func pool(_ name: String, version: String?) throws(ServerError) -> WorkerPool {
        try self.version(name, version).pool
    }

    func version(_ name: String, _ version: String?) throws(ServerError) -> Version {
        let found: Result<Version, ServerError> = table.withLock { table in
            guard let model = table[name] else { return .failure(.modelNotFound(name)) }
            let wanted = version ?? model.defaultVersion
            guard let entry = model.versions[wanted] else { return .failure(.versionNotFound(name, wanted)) }
            return .success(entry)
        }
        return try found.get()
    }

    func contains(_ name: String) -> Bool { table.withLock { $0[name] != nil } }

    /// TorchServe's `/ping`: unhealthy when some default version has fewer ready workers than its minimum.
    var isHealthy: Bool {
        models.values.allSatisfy { model in model.versions[model.defaultVersion]?.isHealthy ?? true }
    }

    /// Every start-up model has its minimum workers ready.
    var isReady: Bool {
        models.values.allSatisfy { model in model.versions.values.filter(\.loadedAtStartup).allSatisfy(\.isHealthy) }
    }
}
