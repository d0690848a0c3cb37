/// The ports the five listeners (three HTTP, two gRPC) bound (an address's port 0 picks a free one), and the moment all of
/// them are bound.
public actor ListenerPorts {
    public enum Listener: Sendable, CaseIterable {
        case inference, management, metrics, grpcInference, grpcManagement
    }

    public struct Bound: Sendable, Equatable {
        public let inference: Int
        public let management: Int
        public let metrics: Int
        public let grpcInference: Int
        public let grpcManagement: Int
    }

    private var ports: [Listener: Int] = [:]
    private var bound: Bound?
    private var announcing = false
    private var waiters: [CheckedContinuation<Bound, Never>] = []
    /// Runs once, when the last listener is bound, before ``ready()`` returns.
    private let onAllBound: @Sendable (Bound) async -> Void

    init(onAllBound: @escaping @Sendable (Bound) async -> Void) {
        self.onAllBound = onAllBound
    }

    func record(_ listener: Listener, port: Int) async {
        ports[listener] = port
        guard !announcing, let inference = ports[.inference], let management = ports[.management],
            let metrics = ports[.metrics], let grpcInference = ports[.grpcInference],
            let grpcManagement = ports[.grpcManagement]
        else { return }
        announcing = true
        let all = Bound(
            inference: inference, management: management, metrics: metrics, grpcInference: grpcInference,
            grpcManagement: grpcManagement)
        await onAllBound(all)
        bound = all
        for waiter in waiters { waiter.resume(returning: all) }
        waiters.removeAll()
    }

    /// Returns once every listener is bound and the start-up work (the start-up snapshot) is done.
    public func ready() async -> Bound {
        if let bound { return bound }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
