/// When a worker sends what is queued to the model.
///
/// TorchServe makes a lone request wait the whole `maxBatchDelay` for company. Ember does not:
///
/// - A full batch (`batchSize` requests queued) goes at once.
/// - A worker that is **not under load** sends what is queued at once, even a single request: a
///   request that finds an idle worker and an empty queue is answered after one forward, with no
///   added delay.
/// - A worker **under load** (its previous batch was full, so requests arrive faster than it serves
///   them) waits for the batch to fill, but never past `maxBatchDelay` after the oldest queued
///   request arrived.
///
/// Under sustained load batches fill by themselves: while every worker is busy, requests queue up, and
/// the next free worker takes up to `batchSize` of them at once. The delay only tops up batches that
/// are about to be full anyway.
public struct BatchPolicy: Sendable, Equatable {
    public var batchSize: Int
    public var maxBatchDelay: Duration

    public init(batchSize: Int, maxBatchDelay: Duration) {
        self.batchSize = max(1, batchSize)
        self.maxBatchDelay = max(.zero, maxBatchDelay)
    }

    public enum Decision: Sendable, Equatable {
        /// Take this many requests from the head of the queue and run them.
        case dispatch(Int)
        /// Nothing to do before this instant (unless more requests arrive).
        case wait(until: PoolInstant)
    }

    /// - Parameters:
    ///   - queued: requests waiting (at least 1).
    ///   - oldestArrival: when the request at the head of the queue arrived.
    ///   - underLoad: whether this worker's previous batch was full.
    public func decide(queued: Int, oldestArrival: PoolInstant, now: PoolInstant, underLoad: Bool)
        -> Decision
    {
        if queued >= batchSize { return .dispatch(batchSize) }
        guard underLoad, maxBatchDelay > .zero else { return .dispatch(queued) }
        let deadline = oldestArrival + maxBatchDelay
        return now >= deadline ? .dispatch(queued) : .wait(until: deadline)
    }
}
