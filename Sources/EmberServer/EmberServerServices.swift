import EmberCore
import ServiceLifecycle

/// A built server: its services in one ServiceGroup, and what callers need while it runs.
public struct EmberServerServices: Sendable {
    /// In the group's order: the pool shutdown first, so it stops last, after the three listeners
    /// (inference, management, metrics) have finished their in-flight requests.
    public let services: [any Service]
    /// Runs `services`; `triggerGracefulShutdown()` or one of the options' signals drains and stops it.
    public let group: ServiceGroup
    public let registry: ModelRegistry
    /// The bound ports, once every listener accepts connections.
    public let ports: ListenerPorts
}
