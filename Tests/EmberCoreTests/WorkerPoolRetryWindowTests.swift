@testable import EmberCore
import Testing

/// `maxRetryTimeoutInSec` on the pool's fake clock: failures are retried with back-off only within the
/// window that opens at the first failure since a worker was last ready; past it the pool gives up.
@Suite struct WorkerPoolRetryWindowTests {
    typealias Machine = WorkerPool.StateMachine

    final class IDs {
        var next = 9000
    }

    let base = PoolInstant.now
    func at(_ milliseconds: Int) -> PoolInstant { base + .milliseconds(milliseconds) }

    func machine(window: Duration) -> Machine {
        let ids = IDs()
        return Machine(
            policy: BatchPolicy(batchSize: 1, maxBatchDelay: .milliseconds(100)), responseTimeout: .seconds(120),
            queueCapacity: 100, maxRetryTimeout: window,
            makeWorkerID: {
                defer { ids.next += 1 }
                return ids.next
            })
    }

    func started(_ actions: Machine.Actions) -> [Int] {
        actions.compactMap { if case .startWorker(let id) = $0 { id } else { nil } }
    }

    func failed(_ actions: Machine.Actions) -> [(ids: [Machine.JobID], failure: Machine.Failure)] {
        actions.compactMap { if case .fail(let jobs, let failure) = $0 { (jobs.map(\.id), failure) } else { nil } }
    }

    func ticks(_ actions: Machine.Actions) -> [PoolInstant] {
        actions.compactMap { if case .scheduleTick(let instant) = $0 { instant } else { nil } }
    }

    /// One loaded, ready worker (9000) at t=0.
    func ready(window: Duration) -> Machine {
        var machine = machine(window: window)
        _ = machine.scale(min: 1, max: 1, now: at(0))
        #expect(started(machine.loadSucceeded(now: at(0))) == [9000])
        _ = machine.workerReady(9000, now: at(0))
        #expect(machine.readiness == .ready)
        return machine
    }

    @Test func aWorkerThatKeepsCrashingIsRestartedOnlyWithinTheWindowThenGivenUp() {
        // Two workers: 9001 stays up, the other keeps crashing (while another is ready, a worker that
        // dies starting is a crash, not a failed load).
        var machine = machine(window: .seconds(5))
        _ = machine.scale(min: 2, max: 2, now: at(0))
        #expect(started(machine.loadSucceeded(now: at(0))) == [9000, 9001])
        _ = machine.workerReady(9000, now: at(0))
        _ = machine.workerReady(9001, now: at(0))
        // The first failure at t=1 s opens the window (until t=6 s).
        #expect(ticks(machine.workerExited(9000, reason: "exit 1", now: at(1000))) == [at(2000)])
        #expect(started(machine.tick(now: at(2000))) == [9002])
        #expect(ticks(machine.workerExited(9002, reason: "exit 1", now: at(2500))) == [at(3500)])
        #expect(started(machine.tick(now: at(3500))) == [9003])
        #expect(ticks(machine.workerExited(9003, reason: "exit 1", now: at(4000))) == [at(6000)])
        #expect(started(machine.tick(now: at(6000))) == [9004], "the retry was decided inside the window")
        // This failure is 5 s after the first: no restart, nothing scheduled.
        #expect(ticks(machine.workerExited(9004, reason: "exit 1", now: at(6000))).isEmpty)
        #expect(started(machine.tick(now: at(60_000))).isEmpty)
        let reason = try? #require(machine.retriesExhausted)
        #expect(reason?.contains("maxRetryTimeoutInSec (5 s)") == true)
        #expect(reason?.contains("exit 1") == true)
        #expect(machine.readiness == .failed(reason ?? ""))
        // Describe still lists the worker given up on, not ready, as TorchServe lists a stopped
        // worker thread; the live one keeps serving.
        #expect(machine.activeWorkers.map(\.id) == [9001, 9005])
        #expect(machine.activeWorkers.map(\.isReady) == [true, false])
        #expect(failed(machine.submit(1, now: at(60_001))).isEmpty)
        // The last live worker crashes too: its batch fails, and requests are refused at once with 503.
        #expect(failed(machine.workerExited(9001, now: at(60_002))).map(\.failure) == [.workerDied(worker: 9001)])
        #expect(started(machine.tick(now: at(120_000))).isEmpty)
        #expect(failed(machine.submit(2, now: at(120_001))).map(\.failure) == [.noWorker])
    }

    @Test func aWorkerThatBecomesReadyClosesTheWindow() {
        var machine = ready(window: .seconds(3))
        _ = machine.workerExited(9000, now: at(1000))
        #expect(started(machine.tick(now: at(2000))) == [9001])
        _ = machine.workerReady(9001, now: at(2100))
        // A crash long after the first one, but the first since a worker was ready: retried.
        #expect(ticks(machine.workerExited(9001, now: at(10_000))) == [at(11_000)])
        #expect(started(machine.tick(now: at(11_000))) == [9002])
        #expect(machine.retriesExhausted == nil)
    }

    @Test func givingUpFailsTheQueueWhenNoLiveWorkerIsLeftButNotWhileOneServes() {
        var machine = machine(window: .zero)
        _ = machine.scale(min: 2, max: 2, now: at(0))
        #expect(started(machine.loadSucceeded(now: at(0))) == [9000, 9001])
        _ = machine.workerReady(9000, now: at(0))
        _ = machine.workerReady(9001, now: at(0))
        _ = machine.submit(1, now: at(1))  // on 9000
        _ = machine.submit(2, now: at(1))  // on 9001
        _ = machine.submit(3, now: at(1))  // queued
        // A zero window: the first failure already gives up (TorchServe never retries then).
        let first = machine.workerExited(9000, now: at(2))
        #expect(failed(first).map(\.ids) == [[1]])
        #expect(machine.retriesExhausted != nil)
        #expect(machine.queue.map(\.id) == [3], "9001 still serves the queue")
        #expect(failed(machine.batchFinished(9001, now: at(3))).isEmpty)
        #expect(machine.workers.first { $0.id == 9001 }?.isBusy == true, "job 3 went to 9001")
        _ = machine.submit(4, now: at(4))
        let second = machine.workerExited(9001, now: at(5))
        #expect(failed(second).map(\.ids) == [[3], [4]])
        #expect(failed(second).map(\.failure) == [.workerDied(worker: 9001), .noWorker])
        #expect(started(machine.tick(now: at(100_000))).isEmpty)
    }

    @Test func aLoadThatKeepsFailingStopsBeingRetriedAfterTheWindow() {
        var machine = machine(window: .seconds(2))
        _ = machine.scale(min: 1, max: 1, now: at(0))
        _ = machine.loadSucceeded(now: at(0))
        // The handler fails to load in its process: the load is retried with back-off...
        _ = machine.workerExited(9000, reason: "the handler failed to load", now: at(10))
        #expect(machine.tick(now: at(1010)).contains { if case .load = $0 { true } else { false } })
        _ = machine.loadSucceeded(now: at(1010))
        _ = machine.workerExited(9001, reason: "the handler failed to load", now: at(1020))
        #expect(machine.tick(now: at(2020)).contains { if case .load = $0 { true } else { false } })
        _ = machine.loadSucceeded(now: at(2020))
        // ...until a failure 2 s after the first.
        let last = machine.workerExited(9002, reason: "the handler failed to load", now: at(2030))
        #expect(ticks(last).isEmpty)
        #expect(!machine.tick(now: at(50_000)).contains { if case .load = $0 { true } else { false } })
        #expect(machine.readiness == .failed("the handler failed to load"))
        #expect(machine.retriesExhausted != nil)
    }

    @Test func aScaleCallReplacesTheWorkersGivenUpOnWithAFreshWindow() {
        var machine = ready(window: .zero)
        _ = machine.workerExited(9000, now: at(1000))
        #expect(machine.retriesExhausted != nil)
        #expect(started(machine.scale(min: 1, max: 1, now: at(2000))) == [9002])
        #expect(machine.retriesExhausted == nil)
        #expect(machine.activeWorkers.map(\.id) == [9002])
        _ = machine.workerReady(9002, now: at(2100))
        #expect(machine.readiness == .ready)
    }
}
