import Foundation
import Synchronization

/// One model version's request and batch counts with their cumulative durations, as the Open
/// Inference Protocol's statistics extension reports them. Every request through the version's
/// queue counts, whatever protocol it came by.
public final class ModelStatistics: Sendable {
    /// A count and the nanoseconds it took altogether.
    public struct Total: Sendable, Equatable {
        public var count: Int = 0
        public var nanoseconds: Int = 0

        mutating func add(_ duration: Swift.Duration) {
            count &+= 1
            nanoseconds &+= Int(clamping: duration.components.seconds &* 1_000_000_000 &+ duration.components.attoseconds / 1_000_000_000)
        }
    }

    public struct Snapshot: Sendable, Equatable {
        /// Requests answered, from their arrival in the queue to their answer.
        public var success = Total()
        public var failure = Total()
        /// Time in the queue, per successful request.
        public var queue = Total()
        /// The model's forward, per successful request (its batch's forward time).
        public var computeInfer = Total()
        /// Requests run, and batches (model executions) they ran in.
        public var inferenceCount = 0
        public var executionCount = 0
        /// Milliseconds since 1970 of the last answer; 0 before the first.
        public var lastInference = 0
        /// Per batch size: the batches of that size and their forward time.
        public var batches: [Int: Total] = [:]
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// A batch that ran: each request's queue wait and whether it succeeded, and the forward time.
    public func recordBatch(waits: [Swift.Duration], totals: [Swift.Duration], succeeded: [Bool], forward: Swift.Duration) {
        let now = Int(Date().timeIntervalSince1970 * 1000)
        state.withLock { stats in
            for index in totals.indices {
                if succeeded[index] {
                    stats.success.add(totals[index])
                    stats.queue.add(waits[index])
                    stats.computeInfer.add(forward)
                } else {
                    stats.failure.add(totals[index])
                }
            }
            stats.inferenceCount &+= totals.count
            stats.executionCount &+= 1
            stats.batches[totals.count, default: Total()].add(forward)
            stats.lastInference = now
        }
    }

    /// Requests that failed without running (no worker, cancelled, lost with their worker).
    public func recordFailures(_ totals: [Swift.Duration]) {
        state.withLock { stats in for total in totals { stats.failure.add(total) } }
    }
}
