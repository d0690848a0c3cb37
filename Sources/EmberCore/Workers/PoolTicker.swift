import Foundation
import Synchronization

/// Worker ids as TorchServe numbers them (from 9000, never reused), across all pools.
enum WorkerIDs {
    private static let counter = Atomic<Int>(9000)
    static func next() -> Int { counter.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// One timer per pool, re-armed only when an earlier tick is wanted; idle when nothing is due.
final class PoolTicker: @unchecked Sendable {
    private let lock = NSLock()
    private var armed: PoolInstant?
    private let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "ember.pool.tick"))

    func start(_ onTick: @escaping @Sendable () -> Void) {
        timer.setEventHandler { [weak self] in
            self?.lock.withLock { self?.armed = nil }
            onTick()
        }
        timer.schedule(deadline: .distantFuture)
        timer.resume()
    }

    func arm(at deadline: PoolInstant) {
        lock.withLock {
            if let armed, armed <= deadline { return }
            armed = deadline
            let delay = max(.zero, deadline - PoolInstant.now)
            let (seconds, attoseconds) = delay.components
            let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
            timer.schedule(deadline: .now() + .nanoseconds(nanoseconds))
        }
    }

    func cancel() { timer.cancel() }
}
