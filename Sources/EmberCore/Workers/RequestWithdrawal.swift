import Synchronization

/// How a queued request leaves its pool's queue when its client goes away, without cancelling a task.
///
/// One per connection (the HTTP listener makes it and binds it to the connection's task with
/// ``current``): a connection serves one request at a time, and the request being served arms it with
/// its pool and job id while it waits. When the client leaves, ``withdraw()`` (called by a channel
/// handler on the event loop) takes the job out of the queue directly: the waiting request is answered
/// with ``ServerError/requestCancelled`` through its continuation, as a cancelled task's would be, and
/// the connection's task is never cancelled (a cancelled task stays cancelled, so cancelling a
/// connection's task would also fail whatever it did next).
public final class RequestWithdrawal: Sendable {
    /// The withdrawal of the connection the current task serves, if the listener watches it.
    @TaskLocal public static var current: RequestWithdrawal?

    private struct State {
        var gone = false
        var armed: (pool: WorkerPool, job: UInt64)?
    }

    private let state = Mutex(State())

    public init() {}

    /// The client went away: the armed job (if any) leaves its queue; any later one at once.
    public func withdraw() {
        let armed = state.withLock { state in
            state.gone = true
            defer { state.armed = nil }
            return state.armed
        }
        if let armed { armed.pool.withdraw(armed.job) }
    }

    /// Whether the client has gone.
    public var isWithdrawn: Bool { state.withLock { $0.gone } }

    /// Arms the withdrawal for one queued job; false when the client has already gone (nothing armed).
    func arm(_ pool: WorkerPool, job: UInt64) -> Bool {
        state.withLock { state in
            guard !state.gone else { return false }
            state.armed = (pool, job)
            return true
        }
    }

    /// The job has its answer: a later withdrawal has nothing to take.
    func disarm(job: UInt64) {
        state.withLock { state in
            if state.armed?.job == job { state.armed = nil }
        }
    }
}
