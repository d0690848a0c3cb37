import Foundation

/// Runs blocking work (archive extraction and deletion, snapshot writes, waiting for workers,
/// draining pools) on a fixed pool of threads and awaits its result, so the Swift concurrency pool
/// never blocks. The pool is bounded: at most ``threadLimit`` threads, started as work arrives and
/// kept; more work waits its turn in arrival order instead of making another thread.
public enum Blocking {
    /// Enough for several registrations waiting on their workers at once while snapshots and
    /// extractions still go ahead; small enough that no client can make the server run out of threads.
    public static let threadLimit = max(8, 4 * ProcessInfo.processInfo.activeProcessorCount)

    static let pool = BlockingPool(threadLimit: threadLimit, name: "ember-blocking")

    @discardableResult
    public static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            pool.submit { continuation.resume(returning: work()) }
        }
    }

    /// Threads the pool has started so far (never more than ``threadLimit``).
    public static var threadCount: Int { pool.threadCount }
}

/// A FIFO of jobs served by up to `threadLimit` threads, each started when work finds no idle one.
final class BlockingPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var next = 0
    private var started = 0
    private var idle = 0
    private let threadLimit: Int
    private let name: String

    init(threadLimit: Int, name: String) {
        self.threadLimit = threadLimit
        self.name = name
    }

    var threadCount: Int { condition.withLock { started } }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let startThread = idle == 0 && started < threadLimit
        if startThread { started += 1 } else { condition.signal() }
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in serve() }
            thread.name = name
            thread.start()
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while next == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[next]
            next += 1
            if next == jobs.count {
                // Drained: forget what ran, so the array does not grow for ever.
                jobs.removeAll(keepingCapacity: true)
                next = 0
            }
            condition.unlock()
            job()
        }
    }
}
