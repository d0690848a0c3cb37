import EmberCore
import ServiceLifecycle

/// A built server: its services in one ServiceGroup, and what callers need while it runs.
public struct EmberServerServices: Sendable {
    /// In the group's order: the pool shutdown first, so it stops last, after the three listeners
    /// (inference, management, metrics) have finished their in-flight requests; the drain last, so
    /// readiness turns false before any listener stops. The key file watcher, when the keys come from
    /// the operator's file, follows the pool shutdown.
    public let services: [any Service]
    /// Runs `services`; `triggerGracefulShutdown()` or one of the options' signals drains and stops it.
    public let group: ServiceGroup
    public let registry: ModelRegistry
    /// The bound ports, once every listener accepts connections.
    public let ports: ListenerPorts
}
