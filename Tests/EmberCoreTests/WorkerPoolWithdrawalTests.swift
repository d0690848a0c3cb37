import EmberCore
import Foundation
import Testing

/// The connection's RequestWithdrawal (no task cancellation) and clientTimeoutInMills, on a real pool.
extension WorkerPoolTests {
    @Test func aWithdrawnConnectionTakesItsQueuedRequestOutWithoutCancellingTheTask() async throws {
        let backend = FakeBackend()
        let withdrawals = Withdrawals()
        let pool = try pool(backend: backend, cancelled: { withdrawals.count() })
        async let first = submit(pool, "gate")
        await backend.changes.wait { backend.batchesRunning == 1 }
        let connection = RequestWithdrawal()
        let second = Task {
            let result = await RequestWithdrawal.$current.withValue(connection) { await submit(pool, "2") }
            return (result, Task.isCancelled)
        }
        await backend.changes.wait { pool.pendingRequests == 1 }
        connection.withdraw()
        let (result, wasCancelled) = await second.value
        #expect(result.failure?.code == .requestCancelled)
        #expect(!wasCancelled, "the request's task is not cancelled")
        #expect(pool.pendingRequests == 0)
        #expect(withdrawals.total == 1)
        // Gone before queueing: withdrawn at once.
        let late = await RequestWithdrawal.$current.withValue(connection) { await submit(pool, "3") }
        #expect(late.failure?.code == .requestCancelled)
        backend.release()
        #expect(await first.text == "opened")
        // Another connection's requests are untouched.
        let other = RequestWithdrawal()
        #expect(await RequestWithdrawal.$current.withValue(other) { await submit(pool, "4") }.text == "8")
        #expect(backend.batchSizes == [1, 1], "the withdrawn requests never ran")
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func aRequestQueuedPastTheClientTimeoutIsRefusedWithoutRunning() async throws {
        let backend = FakeBackend()
        let pool = try pool(backend: backend, clientTimeout: .milliseconds(30))
        async let first = submit(pool, "gate")
        await backend.changes.wait { backend.batchesRunning == 1 }
        let started = ContinuousClock.now
        let second = await submit(pool, "2")
        #expect(ContinuousClock.now - started >= .milliseconds(30))
        #expect(second.failure?.code == .noWorker)
        #expect(second.failure?.message.contains("clientTimeoutInMills (30 ms)") == true, "\(String(describing: second.failure))")
        #expect(pool.pendingRequests == 0)
        backend.release()
        #expect(await first.text == "opened")
        #expect(await submit(pool, "5").text == "10")
        #expect(backend.batchSizes == [1, 1], "the timed-out request never ran")
        pool.shutdown(timeout: .seconds(5))
    }
}
