import EmberCore
import ServiceLifecycle

/// Drains and stops the worker pools when the group shuts down; listed first, so it stops last,
/// after the listeners have finished their in-flight requests.
struct PoolShutdownService: Service {
    let registry: ModelRegistry
    let timeout: Duration
    /// Runs once the listeners have stopped, before the pools go (the shutdown snapshot).
    var beforeShutdown: @Sendable () async -> Void = {}

    func run() async throws {
        try? await gracefulShutdown()
        await beforeShutdown()
        await registry.shutdownAll(timeout: timeout)
    }
}
