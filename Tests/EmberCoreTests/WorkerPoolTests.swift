import EmberCore
import Foundation
import Logging
import Testing

@Suite struct WorkerPoolTests {
    /// Workers that sleep as soon as the queue is empty, and workers that poll it for a while first
    /// (`worker_idle_spin_us`): the same behaviour either way.
    static let spins = [0, 3]

    /// A ready pool whose queue-depth and cancellation reports signal `backend.changes`.
    func pool(
        backend: FakeBackend, batchSize: Int = 1, delay: Int = 0, timeout: Int = 120, queue: Int = 100, workers: Int = 1,
        spinMilliseconds: Int = 0, clientTimeout: Duration? = nil, cancelled: @escaping @Sendable () -> Void = {}
    ) throws -> WorkerPool {
        let changes = backend.changes
        let pool = WorkerPool(
            modelName: "fake", modelVersion: "1.0", archive: try TestArchives.archive(), backend: backend,
            settings: .init(
                batchSize: batchSize, maxBatchDelay: .milliseconds(delay), responseTimeout: .seconds(timeout), jobQueueSize: queue,
                clientTimeout: clientTimeout),
            idleSpin: .milliseconds(spinMilliseconds),
            observer: .init(
                queueDepth: { _ in changes.signal() },
                cancelled: {
                    cancelled()
                    changes.signal()
                }),
            logger: Logger(label: "test"))
        pool.scale(min: workers, max: workers)
        #expect(pool.waitUntilReady(timeout: .seconds(10)) == .ready)
        return pool
    }

    func submit(_ pool: WorkerPool, _ text: String) async -> Result<InferenceOutput, ServerError> {
        await pool.submit(InferenceInput(body: Array(text.utf8), requestID: UUID().uuidString))
    }

    @Test(arguments: spins) func concurrentRequestsEachGetTheirOwnAnswerAndFormBatches(spin: Int) async throws {
        let backend = FakeBackend(delay: 0.02)
        let pool = try pool(backend: backend, batchSize: 8, delay: 50, spinMilliseconds: spin)
        let answers = await withTaskGroup(of: (Int, String?).self) { group in
            for number in 0..<64 {
                group.addTask { (number, await submit(pool, String(number)).text) }
            }
            var answers: [Int: String?] = [:]
            for await (number, text) in group { answers[number] = text }
            return answers
        }
        for number in 0..<64 { #expect(answers[number] == String(number * 2)) }
        #expect(backend.batchSizes.reduce(0, +) == 64)
        #expect(backend.batchSizes.contains { $0 > 1 }, "batches: \(backend.batchSizes)")
        #expect(backend.batchSizes.allSatisfy { $0 <= 8 })
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func aLoneRequestDoesNotWaitForTheBatchDelay() async throws {
        // With a 60 s delay, a policy that waited would blow any reasonable bound, however slow the machine.
        let pool = try pool(backend: FakeBackend(), batchSize: 8, delay: 60_000)
        let started = ContinuousClock.now
        #expect(await submit(pool, "21").text == "42")
        #expect(ContinuousClock.now - started < .seconds(20))
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func aFullQueueIsRefusedAtOnce() async throws {
        let backend = FakeBackend()
        let pool = try pool(backend: backend, queue: 2)
        async let first = submit(pool, "gate")
        await backend.changes.wait { backend.batchesRunning == 1 }
        async let second = submit(pool, "2")
        async let third = submit(pool, "3")
        await backend.changes.wait { pool.pendingRequests == 2 }
        let refused = await submit(pool, "4")
        #expect(refused.failure?.code == .noWorker)
        backend.release()
        let results = await [first, second, third]
        #expect(results.map(\.text) == ["opened", "4", "6"])
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func aThrowingBatchFailsOnlyItsRequestsAndTheWorkerKeepsServing() async throws {
        let pool = try pool(backend: FakeBackend())
        let failed = await submit(pool, "boom")
        #expect(failed.failure == .predictionFailed)
        #expect(await submit(pool, "5").text == "10")
        let short = await submit(pool, "short")
        #expect(short.failure == .batchResponseMismatch)
        #expect(short.failure?.message == "number of batch response mismatched")
        #expect(await submit(pool, "4").text == "8")
        let bad = await submit(pool, "bad")
        #expect(bad.failure?.code == .badRequest)
        #expect(await submit(pool, "6").text == "12")
        pool.shutdown(timeout: .seconds(5))
    }

    @Test(arguments: spins) func aBatchPastTheResponseTimeoutFailsWith500AndTheWorkerIsReplaced(spin: Int) async throws {
        let pool = try pool(backend: FakeBackend(), timeout: 1, spinMilliseconds: spin)
        let firstWorker = pool.workerInfo.map(\.id)
        let hung = await submit(pool, "hang")
        #expect(hung.failure == .workerDied)
        #expect(pool.waitUntilReady(timeout: .seconds(5)) == .ready)
        #expect(await submit(pool, "7").text == "14")
        #expect(pool.workerInfo.map(\.id) != firstWorker)
        #expect(pool.workerInfo.count == 1)
        pool.shutdown(timeout: .seconds(5))
    }

    @Test(arguments: spins) func scalingUpAndDownUnderLoadFailsNoRequest(spin: Int) async throws {
        let pool = try pool(backend: FakeBackend(delay: 0.005), batchSize: 4, delay: 5, spinMilliseconds: spin)
        let results = await withTaskGroup(of: Bool.self) { group in
            for client in 0..<8 {
                group.addTask {
                    var ok = true
                    for round in 0..<30 {
                        let number = client * 1000 + round
                        let answer = await submit(pool, String(number)).text
                        ok = ok && answer == String(number * 2)
                    }
                    return ok
                }
            }
            group.addTask {
                for range in [(4, 4), (1, 1), (3, 3), (1, 1)] {
                    try? await Task.sleep(for: .milliseconds(40))
                    pool.scale(min: range.0, max: range.1)
                }
                return true
            }
            var all: [Bool] = []
            for await ok in group { all.append(ok) }
            return all
        }
        #expect(results.allSatisfy { $0 })
        #expect(pool.waitUntilReady(timeout: .seconds(5)) == .ready)
        pool.shutdown(timeout: .seconds(5))
    }

    @Test(arguments: spins) func scalingToZeroAnswers503ButFinishesQueuedWork(spin: Int) async throws {
        let backend = FakeBackend()
        let pool = try pool(backend: backend, spinMilliseconds: spin)
        async let first = submit(pool, "gate")
        await backend.changes.wait { backend.batchesRunning == 1 }
        async let second = submit(pool, "2")
        await backend.changes.wait { pool.pendingRequests == 1 }
        pool.scale(min: 0, max: 0)
        backend.release()
        #expect(await [first, second].map(\.text) == ["opened", "4"])
        // The worker left in the same step that answered the last queued request.
        #expect(pool.workerInfo.isEmpty)
        #expect(await submit(pool, "3").failure?.code == .noWorker)
        pool.shutdown(timeout: .seconds(5))
    }

    @Test(arguments: spins) func shutdownDrainsInFlightRequests(spin: Int) async throws {
        let backend = FakeBackend()
        let pool = try pool(backend: backend, spinMilliseconds: spin)
        async let inFlight = submit(pool, "gate")
        await backend.changes.wait { backend.batchesRunning == 1 }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) { backend.release() }
        pool.shutdown(timeout: .seconds(10))
        #expect(await inFlight.text == "opened")
        #expect(await submit(pool, "9").failure?.code == .noWorker)
    }

    @Test func aFailedLoadIsReportedAndRetried() async throws {
        let backend = FakeBackend(failLoads: 1)
        let pool = WorkerPool(
            modelName: "fake", modelVersion: "1.0", archive: try TestArchives.archive(), backend: backend,
            settings: .init(), logger: Logger(label: "test"))
        pool.scale(min: 1, max: 1)
        #expect(pool.waitUntilReady(timeout: .seconds(5)) == .failed("fake load failure"))
        #expect(pool.loadError != nil)
        // The retry (after 1 s, on the pool's timer) loads it.
        await backend.changes.wait { backend.loadCount == 2 }
        #expect(pool.waitUntilReady(timeout: .seconds(5)) == .ready)
        #expect(backend.loadCount == 2)
        #expect(await submit(pool, "4").text == "8")
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func cancellingAQueuedRequestWithdrawsItBeforeItRuns() async throws {
        let backend = FakeBackend()
        let withdrawals = Withdrawals()
        let pool = try pool(backend: backend, cancelled: { withdrawals.count() })
        async let first = submit(pool, "gate")
        await backend.changes.wait { backend.batchesRunning == 1 }
        let second = Task { await submit(pool, "2") }
        await backend.changes.wait { pool.pendingRequests == 1 }
        second.cancel()
        #expect(await second.value.failure?.code == .requestCancelled)
        #expect(pool.pendingRequests == 0)
        #expect(withdrawals.total == 1)
        backend.release()
        #expect(await first.text == "opened")
        #expect(await submit(pool, "3").text == "6")
        #expect(backend.batchSizes == [1, 1], "the withdrawn request never ran")
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func workerThreadsAreNamedInTheKernel() throws {
        let pool = try pool(backend: FakeBackend(), workers: 2)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = Set(tasks.compactMap { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        })
        for id in pool.workerInfo.map(\.id) { #expect(names.contains("ember-w\(id)")) }
        pool.shutdown(timeout: .seconds(5))
    }
}

final class Withdrawals: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func count() { lock.withLock { value += 1 } }
    var total: Int { lock.withLock { value } }
}
