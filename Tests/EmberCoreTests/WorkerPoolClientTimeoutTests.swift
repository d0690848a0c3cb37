@testable import EmberCore
import Testing

/// `clientTimeoutInMills` on the pool's fake clock: a job that waited that long leaves the queue unrun.
extension WorkerPoolStateMachineTests {
    @Test func aJobQueuedForTheClientTimeoutFailsAtItsDeadlineWithoutRunning() {
        var machine = ready(clientTimeout: .milliseconds(50))
        #expect(work(machine.submit(named("a", 1), now: at(0))) == [.run(["a"], worker: 9000)])
        // Queued behind a: the next tick is b's deadline, not the response timeout.
        #expect(steps(machine.submit(named("b", 2), now: at(10))) == [.tick(at(60))])
        #expect(work(machine.submit(named("c", 3), now: at(40))).isEmpty)
        #expect(work(machine.tick(now: at(60))) == [.fail(["b"], .queueTimeout)])
        #expect(machine.queue.map(\.id) == [3])
        // c waited 30 ms when the worker came free: it runs.
        #expect(work(machine.batchFinished(9000, now: at(70))) == [.complete(["a"]), .run(["c"], worker: 9000)])
    }

    @Test func jobsPastTheClientTimeoutWhenAWorkerFreesUpAreFailedNotDispatched() {
        var machine = ready(clientTimeout: .milliseconds(50))
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 10)
        _ = submit(&machine, "c", id: 3, at: 20)
        // A submit also expires what is over the limit; at 55 nothing is yet.
        #expect(work(machine.submit(named("d", 4), now: at(55))).isEmpty)
        // No tick delivered in between (a loaded machine): at 100 b and c are over the limit, d is not.
        #expect(
            work(machine.batchFinished(9000, now: at(100)))
                == [.complete(["a"]), .fail(["b", "c"], .queueTimeout), .run(["d"], worker: 9000)])
    }

    @Test func withoutAClientTimeoutAQueuedJobWaitsForItsWorker() {
        var machine = ready()
        _ = submit(&machine, "a", id: 1, at: 0)
        _ = submit(&machine, "b", id: 2, at: 0)
        #expect(work(machine.tick(now: at(60_000))).isEmpty)
        #expect(work(machine.batchFinished(9000, now: at(60_001))) == [.complete(["a"]), .run(["b"], worker: 9000)])
    }
}
