import Synchronization

/// The registry's pools by model name and version, readable from any thread without entering the
/// registry's actor: the prediction path looks its pool up here (one short lock, no executor hop).
/// ``ModelRegistry`` replaces the whole table whenever its models change.
final class PoolDirectory: Sendable {
    struct Model {
        var defaultVersion: String
        var versions: [String: WorkerPool]
    }

    private let table = Mutex<[String: Model]>([:])

    func publish(_ models: [String: Model]) { table.withLock { $0 = models } }

    /// The pool serving `name` (its default version when `version` is nil).
    func pool(_ name: String, version: String?) throws(ServerError) -> WorkerPool {
        let found: Result<WorkerPool, ServerError> = table.withLock { table in
            guard let model = table[name] else { return .failure(.modelNotFound(name)) }
            let wanted = version ?? model.defaultVersion
            guard let pool = model.versions[wanted] else { return .failure(.versionNotFound(name, wanted)) }
            return .success(pool)
        }
        return try found.get()
    }
}
