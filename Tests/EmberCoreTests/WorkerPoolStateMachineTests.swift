@testable import EmberCore
import Testing

/// The pool's decisions on a fake clock: instants are a fixed base plus offsets, jobs are ids that
/// the tests name with strings, and every action is checked as the shell would see it. No threads, no sleeps.
@Suite struct WorkerPoolStateMachineTests {
    typealias Machine = WorkerPool.StateMachine
    typealias Instant = PoolInstant

    /// An action with the jobs reduced to their strings.
    enum Step: Equatable {
        case load, unload, notify
        case start(Int), stop(Int)
        case run([String], worker: Int)
        case complete([String])
        case fail([String], Machine.Failure)
        case tick(Instant)
    }

    final class IDs {
        var next = 9000
    }

    /// The test's name for each job id it submitted.
    final class Names {
        var byID: [Machine.JobID: String] = [:]
    }

    let names = Names()

    /// Records `job` as the name of `id`, for the steps to show.
    func named(_ job: String, _ id: Machine.JobID) -> Machine.JobID {
        names.byID[id] = job
        return id
    }

    func name(_ id: Machine.JobID) -> String { names.byID[id] ?? "#\(id)" }

    let base = PoolInstant.now
    func at(_ milliseconds: Int) -> Instant { base + .milliseconds(milliseconds) }

    func machine(
        batchSize: Int = 1, delay: Duration = .milliseconds(100), timeout: Duration = .seconds(120), queue: Int = 100,
        clientTimeout: Duration? = nil
    ) -> Machine {
        let ids = IDs()
        return Machine(
            policy: BatchPolicy(batchSize: batchSize, maxBatchDelay: delay), responseTimeout: timeout, queueCapacity: queue,
            clientTimeout: clientTimeout,
            makeWorkerID: {
                defer { ids.next += 1 }
                return ids.next
            })
    }

    func steps(_ actions: Machine.Actions) -> [Step] {
        actions.map { action in
            switch action {
            case .load: .load
            case .unload: .unload
            case .notifyWaiters: .notify
            case .startWorker(let id): .start(id)
            case .stopWorker(let id): .stop(id)
            case .run(let batch, let worker): .run(batch.map { name($0.id) }, worker: worker)
            case .complete(let batch, _): .complete(batch.map { name($0.id) })
            case .fail(let batch, let failure): .fail(batch.map { name($0.id) }, failure)
            case .scheduleTick(let instant): .tick(instant)
            }
        }
    }

    /// The actions that touch jobs or workers (no ticks or waiter notifications).
    func work(_ actions: Machine.Actions) -> [Step] {
        steps(actions).filter {
            switch $0 {
            case .notify, .tick: false
            default: true
            }
        }
    }

    /// Submits `job` with the given id (tests pick ids that cancellation can name).
    func submit(_ machine: inout Machine, _ job: String, id: UInt64 = 0, at time: Int) -> [Step] {
        steps(machine.submit(named(job, id), now: at(time)))
    }

    /// A machine with `workers` ready workers (9000, 9001, ...), loaded at t=0.
    func ready(
        workers: Int = 1, batchSize: Int = 1, delay: Duration = .milliseconds(100), timeout: Duration = .seconds(120),
        queue: Int = 100, clientTimeout: Duration? = nil
    ) -> Machine {
        var machine = machine(batchSize: batchSize, delay: delay, timeout: timeout, queue: queue, clientTimeout: clientTimeout)
        #expect(work(machine.scale(min: workers, max: workers, now: at(0))) == [.load])
        #expect(work(machine.loadSucceeded(now: at(0))) == (0..<workers).map { .start(9000 + $0) })
        #expect(machine.readiness == nil)
        for id in 9000..<(9000 + workers) { _ = machine.workerReady(id, now: at(0)) }
        #expect(machine.readiness == .ready)
        return machine
    }

    // MARK: Dispatch

    @Test func aLoneRequestIsDispatchedAtOnce() {
        var machine = ready(batchSize: 8, delay: .seconds(60))
        #expect(submit(&machine, "a", at: 5) == [.run(["a"], worker: 9000), .tick(at(5) + .seconds(120))])
        #expect(machine.queue.isEmpty)
        #expect(work(machine.batchFinished(9000, now: at(6))) == [.complete(["a"])])
    }

    @Test func underLoadAWorkerWaitsForTheBatchUntilTheDelayAfterTheOldestArrival() {
        var machine = ready(batchSize: 4, delay: .milliseconds(100))
        #expect(work(machine.submit(named("a", 1), now: at(0))) == [.run(["a"], worker: 9000)])
        for (index, job) in ["b", "c", "d", "e"].enumerated() {
            #expect(work(machine.submit(named(job, UInt64(index + 2)), now: at(1))).isEmpty)
        }
        // Not under load after a batch of one: the full queue goes at once, and that batch was full.
        #expect(work(machine.batchFinished(9000, now: at(2))) == [.complete(["a"]), .run(["b", "c", "d", "e"], worker: 9000)])
        _ = submit(&machine, "f", id: 6, at: 10)
        _ = submit(&machine, "g", id: 7, at: 11)
        let finished = steps(machine.batchFinished(9000, now: at(20)))
        #expect(finished.contains(.complete(["b", "c", "d", "e"])))
        #expect(finished.contains(.tick(at(110))), "the batch delay runs from f's arrival")
        #expect(!finished.contains { if case .run = $0 { true } else { false } })
        #expect(work(machine.tick(now: at(109))).isEmpty)
        #expect(work(machine.tick(now: at(110))) == [.run(["f", "g"], worker: 9000)])
    }

    @Test func underLoadAFullBatchGoesWithoutWaiting() {
        var machine = ready(batchSize: 2, delay: .seconds(10))
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        _ = submit(&machine, "c", id: 3, at: 0)
        #expect(work(machine.batchFinished(9000, now: at(1))) == [.complete(["a"]), .run(["b", "c"], worker: 9000)])
        _ = submit(&machine, "d", id: 4, at: 2)
        #expect(work(machine.batchFinished(9000, now: at(3))) == [.complete(["b", "c"])])
        #expect(submit(&machine, "e", id: 5, at: 4) == [.run(["d", "e"], worker: 9000)])
    }

    @Test func aFullQueueAndAPoolWithoutWorkersRefuseAtOnce() {
        var machine = ready(queue: 2)
        _ = submit(&machine, "a", id: 1, at: 0)
        #expect(submit(&machine, "b", id: 2, at: 1).isEmpty)
        #expect(submit(&machine, "c", id: 3, at: 1).isEmpty)
        #expect(submit(&machine, "d", id: 4, at: 1) == [.fail(["d"], .noWorker)])
        var empty = self.machine()
        #expect(submit(&empty, "x", at: 0) == [.fail(["x"], .noWorker)])
    }

    @Test func workerIDsStartAt9000AndAreNeverReused() {
        var machine = ready(workers: 2)
        #expect(machine.activeWorkers.map(\.id) == [9000, 9001])
        #expect(work(machine.scale(min: 1, max: 1, now: at(1))) == [.stop(9001)], "the newest retires")
        #expect(work(machine.scale(min: 2, max: 2, now: at(2))) == [.start(9002)])
        #expect(machine.activeWorkers.map(\.id) == [9000, 9002])
    }

    // MARK: Response timeout

    @Test func aBatchPastTheResponseTimeoutFailsAndItsWorkerIsReplacedAndTheLateAnswerIgnored() {
        var machine = ready(timeout: .seconds(1))
        #expect(submit(&machine, "a", id: 1, at: 0) == [.run(["a"], worker: 9000), .tick(at(1000))])
        _ = submit(&machine, "b", id: 2, at: 10)
        #expect(work(machine.tick(now: at(999))).isEmpty)
        #expect(work(machine.tick(now: at(1000))) == [.fail(["a"], .workerDied(worker: 9000)), .stop(9000), .start(9001)])
        #expect(machine.readiness == nil)
        #expect(machine.batchFinished(9000, now: at(1500)).isEmpty, "the abandoned worker's answer is dropped")
        #expect(work(machine.workerReady(9001, now: at(1600))) == [.run(["b"], worker: 9001)])
        #expect(machine.readiness == .ready)
        #expect(machine.activeWorkers.map(\.id) == [9001])
    }

    @Test func eachIntermediateChunkRestartsTheResponseTimeout() {
        var machine = ready(timeout: .seconds(1))
        _ = submit(&machine, "a", id: 1, at: 0)
        machine.batchProgressed(9000, now: at(800))
        // The tick armed for t=1 s finds nothing due and asks for the new deadline.
        #expect(steps(machine.tick(now: at(1000))) == [.tick(at(1800))])
        machine.batchProgressed(9000, now: at(1700))
        #expect(work(machine.tick(now: at(1800))).isEmpty)
        #expect(work(machine.tick(now: at(2700))) == [.fail(["a"], .workerDied(worker: 9000)), .stop(9000), .start(9001)])
        // The next batch's clock starts at its own dispatch, not at the last batch's chunk.
        _ = machine.workerReady(9001, now: at(2800))
        machine.batchProgressed(9001, now: at(2900))  // idle: ignored
        #expect(submit(&machine, "b", id: 2, at: 3000).contains(.tick(at(4000))))
    }

    // MARK: Scaling

    @Test func aRetiringWorkerServesTheQueueWhileNoOtherWorkerIsActive() {
        var machine = ready()
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        _ = submit(&machine, "c", id: 3, at: 0)
        #expect(work(machine.scale(min: 0, max: 0, now: at(1))).isEmpty)
        #expect(machine.readiness == .ready)
        #expect(work(machine.batchFinished(9000, now: at(2))) == [.complete(["a"]), .run(["b"], worker: 9000)])
        #expect(work(machine.batchFinished(9000, now: at(3))) == [.complete(["b"]), .run(["c"], worker: 9000)])
        #expect(work(machine.batchFinished(9000, now: at(4))) == [.complete(["c"]), .stop(9000)])
        #expect(machine.workers.isEmpty)
        #expect(submit(&machine, "d", id: 4, at: 5) == [.fail(["d"], .noWorker)])
    }

    @Test func aRetiringWorkerLeavesTheQueueToAnActiveOne() {
        var machine = ready(workers: 2)
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        _ = submit(&machine, "c", id: 3, at: 0)
        // a went to 9000, b to 9001; 9001, the newest, retires.
        #expect(work(machine.scale(min: 1, max: 1, now: at(1))).isEmpty)
        #expect(work(machine.batchFinished(9001, now: at(2))) == [.complete(["b"]), .stop(9001)])
        #expect(machine.queue.map { name($0.id) } == ["c"])
        #expect(work(machine.batchFinished(9000, now: at(3))) == [.complete(["a"]), .run(["c"], worker: 9000)])
    }

    @Test func scalingUpUnderLoadHandsTheQueueToEachNewWorker() {
        var machine = ready()
        for (id, job) in ["a", "b", "c", "d"].enumerated() { _ = submit(&machine, job, id: UInt64(id), at: 0) }
        #expect(work(machine.scale(min: 3, max: 3, now: at(1))) == [.start(9001), .start(9002)])
        #expect(machine.readiness == nil)
        #expect(work(machine.workerReady(9001, now: at(2))) == [.run(["b"], worker: 9001)])
        #expect(work(machine.workerReady(9002, now: at(3))) == [.run(["c"], worker: 9002)])
        #expect(machine.readiness == .ready)
        #expect(work(machine.batchFinished(9000, now: at(4))) == [.complete(["a"]), .run(["d"], worker: 9000)])
    }

    // MARK: Loading

    @Test func aFailedLoadIsRetriedWithFibonacciBackOffWhileWorkersAreWanted() {
        var machine = machine()
        #expect(work(machine.scale(min: 1, max: 1, now: at(0))) == [.load])
        #expect(steps(machine.loadFailed(reason: "broken", now: at(0))) == [.notify, .tick(at(1000))])
        #expect(machine.readiness == .failed("broken"))
        #expect(work(machine.tick(now: at(999))).isEmpty)
        #expect(work(machine.tick(now: at(1000))) == [.load])
        #expect(steps(machine.loadFailed(reason: "broken", now: at(1000))) == [.notify, .tick(at(2000))])
        #expect(work(machine.tick(now: at(2000))) == [.load])
        #expect(steps(machine.loadFailed(reason: "broken", now: at(2000))) == [.notify, .tick(at(4000))])
        #expect(work(machine.tick(now: at(4000))) == [.load])
        #expect(steps(machine.loadFailed(reason: "broken", now: at(4000))) == [.notify, .tick(at(7000))])
        // No longer wanted: no retry, and no tick asked for it.
        #expect(steps(machine.scale(min: 0, max: 0, now: at(5000))) == [.notify])
        #expect(work(machine.tick(now: at(7000))).isEmpty)
        // Wanted again once the retry is due: it loads at once, and the back-off keeps counting.
        #expect(work(machine.scale(min: 1, max: 1, now: at(8000))) == [.load])
        #expect(steps(machine.loadFailed(reason: "broken", now: at(8000))) == [.notify, .tick(at(13000))])
        #expect(work(machine.retryLoad(now: at(9000))) == [.load], "retryLoad does not wait for the back-off")
        // 9000 was wanted, then dropped by the scale to zero before it could start.
        #expect(work(machine.loadSucceeded(now: at(9100))) == [.start(9001)])
        #expect(machine.readiness == nil)
        _ = machine.workerReady(9001, now: at(9200))
        #expect(machine.readiness == .ready)
    }

    @Test func theModelLoadsOnceForAllWorkers() {
        var machine = machine()
        #expect(work(machine.scale(min: 2, max: 2, now: at(0))) == [.load])
        #expect(work(machine.scale(min: 3, max: 3, now: at(1))).isEmpty)
        #expect(work(machine.loadSucceeded(now: at(2))) == [.start(9000), .start(9001), .start(9002)])
        #expect(work(machine.scale(min: 4, max: 4, now: at(3))) == [.start(9003)])
    }

    // MARK: Cancellation

    @Test func aCancelledQueuedJobIsWithdrawn() {
        var machine = ready()
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        #expect(work(machine.cancel(2, now: at(1))) == [.fail(["b"], .cancelled)])
        #expect(work(machine.cancel(2, now: at(1))).isEmpty, "cancelling twice does nothing")
        #expect(work(machine.cancel(1, now: at(1))).isEmpty, "in flight: answered when its batch finishes")
        #expect(work(machine.batchFinished(9000, now: at(2))) == [.complete(["a"])])
    }

    @Test func aBatchWhoseJobsAreAllCancelledIsNotRun() {
        var machine = ready(batchSize: 2, delay: .milliseconds(100))
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        _ = submit(&machine, "c", id: 3, at: 0)
        #expect(work(machine.batchFinished(9000, now: at(1))) == [.complete(["a"]), .run(["b", "c"], worker: 9000)])
        _ = submit(&machine, "d", id: 4, at: 2)
        // Under load: d waits for company until t=102.
        #expect(work(machine.batchFinished(9000, now: at(3))) == [.complete(["b", "c"])])
        #expect(work(machine.cancel(4, now: at(50))) == [.fail(["d"], .cancelled)])
        #expect(work(machine.tick(now: at(102))).isEmpty)
        // Still under load (its last batch was full): a new lone job waits its own delay.
        #expect(work(machine.submit(named("e", 5), now: at(200))).isEmpty)
        #expect(work(machine.tick(now: at(300))) == [.run(["e"], worker: 9000)])
    }

    // MARK: Worker exits

    @Test func aCrashedWorkerFailsOnlyItsBatchAndRestartsAfterBackOff() {
        var machine = ready(workers: 2)
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        _ = submit(&machine, "c", id: 3, at: 0)
        let exited = steps(machine.workerExited(9000, now: at(10)))
        #expect(exited.contains(.fail(["a"], .workerDied(worker: 9000))))
        #expect(exited.contains(.tick(at(1010))))
        #expect(work(machine.workerExited(9000, now: at(11))).isEmpty, "reported twice")
        #expect(work(machine.tick(now: at(1009))).isEmpty)
        #expect(work(machine.tick(now: at(1010))) == [.start(9002)])
        #expect(work(machine.batchFinished(9001, now: at(1011))) == [.complete(["b"]), .run(["c"], worker: 9001)])
        // Crashing again before it is ready: the back-off grows (1, 1, 2 s), and resets once one is ready.
        #expect(steps(machine.workerExited(9002, now: at(2000))).contains(.tick(at(3000))))
        #expect(work(machine.tick(now: at(3000))) == [.start(9003)])
        #expect(steps(machine.workerExited(9003, now: at(3100))).contains(.tick(at(5100))))
        #expect(work(machine.tick(now: at(5100))) == [.start(9004)])
        _ = machine.workerReady(9004, now: at(5200))
        #expect(steps(machine.workerExited(9004, now: at(6000))).contains(.tick(at(7000))))
    }

    @Test func aWorkerThatDiesBeforeAnyIsReadyFailsTheLoadAndItIsRetried() {
        // A process worker whose handler cannot load: the first one dies while starting.
        var machine = machine()
        _ = machine.scale(min: 1, max: 1, now: at(0))
        _ = machine.loadSucceeded(now: at(0))
        let exited = steps(machine.workerExited(9000, reason: "the handler failed to load", now: at(10)))
        #expect(exited.contains(.unload))
        #expect(exited.contains(.tick(at(1010))))
        #expect(machine.readiness == .failed("the handler failed to load"))
        #expect(work(machine.tick(now: at(1010))) == [.load])
        #expect(work(machine.loadSucceeded(now: at(1020))) == [.start(9001)])
        #expect(machine.readiness == nil)
        _ = machine.workerReady(9001, now: at(1030))
        #expect(machine.readiness == .ready)
        // Once one is ready, a replacement that dies while starting is only a crash.
        _ = machine.scale(min: 2, max: 2, now: at(1040))
        #expect(!steps(machine.workerExited(9002, now: at(1050))).contains(.unload))
        #expect(machine.readiness == nil)
    }

    @Test func aRetiringWorkerThatExitsIsNotReplaced() {
        var machine = ready(workers: 2)
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        _ = machine.scale(min: 1, max: 1, now: at(1))
        #expect(work(machine.workerExited(9001, now: at(2))) == [.fail(["b"], .workerDied(worker: 9001))])
        #expect(machine.workers.map(\.id) == [9000])
    }

    // MARK: Shutdown

    @Test func shutdownDrainsInFlightAndQueuedWork() {
        var machine = ready()
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        machine.beginShutdown()
        #expect(submit(&machine, "c", id: 3, at: 1) == [.fail(["c"], .noWorker)])
        #expect(!machine.isDrained)
        #expect(work(machine.batchFinished(9000, now: at(2))) == [.complete(["a"]), .run(["b"], worker: 9000)])
        let last = steps(machine.batchFinished(9000, now: at(3)))
        #expect(last.contains(.complete(["b"])))
        #expect(last.contains(.notify))
        #expect(machine.isDrained)
        #expect(work(machine.stop(now: at(4))) == [.stop(9000), .unload])
    }

    @Test func shutdownFailsWhatIsLeftAtTheDeadline() {
        var machine = ready()
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        machine.beginShutdown()
        #expect(work(machine.stop(now: at(5000))) == [.stop(9000), .fail(["b", "a"], .noWorker), .unload])
        #expect(machine.batchFinished(9000, now: at(6000)).isEmpty)
        #expect(work(machine.scale(min: 1, max: 1, now: at(7000))).isEmpty)
        #expect(submit(&machine, "c", id: 3, at: 7000) == [.fail(["c"], .noWorker)])
    }

    @Test func aLoadThatFinishesAfterShutdownIsUnloaded() {
        var machine = machine()
        _ = machine.scale(min: 1, max: 1, now: at(0))
        _ = machine.stop(now: at(1))
        #expect(work(machine.loadSucceeded(now: at(2))) == [.unload])
    }
}
