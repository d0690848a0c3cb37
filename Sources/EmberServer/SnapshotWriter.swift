import EmberCore
import Foundation
import Logging

/// Writes configuration snapshots one after the other, each with the registry's state when its turn
/// comes, so the newest file always holds the newest state. Names get strictly increasing time stamps.
actor SnapshotWriter {
    let store: SnapshotStore
    let configuration: ServerConfiguration
    let registry: ModelRegistry
    let logger: Logger
    private var last: Task<Void, Never>?
    private var lastMilliseconds = 0

    init(store: SnapshotStore, configuration: ServerConfiguration, registry: ModelRegistry, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
    }

    /// Returns once this snapshot (and every one asked for before it) is on disk.
    func write(_ kind: SnapshotStore.Kind) async {
        let previous = last
        let task = Task {
            await previous?.value
            await self.perform(kind)
        }
        last = task
        await task.value
    }

    private func perform(_ kind: SnapshotStore.Kind) async {
        let models = await registry.snapshot()
        var milliseconds = Int((Date().timeIntervalSince1970 * 1000).rounded(.down))
        if milliseconds <= lastMilliseconds { milliseconds = lastMilliseconds + 1 }
        lastMilliseconds = milliseconds
        let (store, configuration) = (self.store, self.configuration)
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000 + 0.0001)
        // Two fsyncs: on a blocking thread, not the concurrency pool.
        let written = await Blocking.run { Result { try store.write(kind, configuration: configuration, models: models, at: date) } }
        do {
            let file = try written.get()
            logger.debug("configuration snapshot written", metadata: ["file": "\(file.path)"])
        } catch {
            logger.error("cannot write a configuration snapshot", metadata: ["error": "\(error)"])
        }
    }
}
