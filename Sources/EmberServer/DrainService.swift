import Logging
import ServiceLifecycle
import Synchronization

/// Whether the server is draining: set at the start of a graceful shutdown (SIGTERM), read by readiness.
public final class ServerDrain: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public var isDraining: Bool { draining.load(ordering: .acquiring) }
    func begin() { draining.store(true, ordering: .releasing) }
}

/// Listed last in the group, so the graceful shutdown reaches it first: readiness turns false, then for
/// `delay` (`drain_delay_seconds`) everything keeps serving while load balancers (a Kubernetes Service's
/// endpoints) stop sending new requests; only then do the listeners stop and finish what is in flight.
struct DrainService: Service {
    let drain: ServerDrain
    let delay: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        drain.begin()
        logger.notice("draining: readiness is false", metadata: ["delay": "\(delay)"])
        // Cancelled (a second signal, or the group's cancellation): stop waiting.
        if delay > .zero { try? await Task.sleep(for: delay) }
    }
}
