import EmberArchive
import EmberCore
import Foundation
import Logging
import Synchronization
import Testing

/// The seam a process-backed worker plugs into: the loaded model makes the pool's workers. A worker
/// here answers from its own thread, as a process's I/O thread would, and "crashes" on `crash`;
/// `stream` sends a chunk, waits for the test to open ``Worker/gate``, then another and its final answer;
/// `stream-crash` sends a chunk and crashes.
@Suite struct ModelMadeWorkerTests {
    final class Backend: InferenceBackend, @unchecked Sendable {
        let made = Mutex<[Int]>([])
        func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel { Model(backend: self) }
    }

    final class Model: LoadedModel, @unchecked Sendable {
        let backend: Backend
        init(backend: Backend) { self.backend = backend }
        func prepareWorkerThread(intraOpThreads: Int) {}
        func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>] {
            Issue.record("the in-process path ran for a model that makes its own workers")
            return []
        }
        func makeWorker(_ context: WorkerContext) -> (any PoolWorker)? {
            backend.made.withLock { $0.append(context.id) }
            return Worker(id: context.id)
        }
    }

    final class Worker: PoolWorker, @unchecked Sendable {
        let id: Int
        private let events = Mutex<(any PoolWorkerEvents)?>(nil)
        init(id: Int) { self.id = id }
        static let gate = DispatchSemaphore(value: 0)

        static func chunk(_ text: String) -> InferenceOutput {
            InferenceOutput(status: 201, body: Array(text.utf8), contentType: "text/x-chunk")
        }

        func start(events: any PoolWorkerEvents) {
            self.events.withLock { $0 = events }
            Thread { events.workerReady(self.id) }.start()
        }

        func run(_ batch: [InferenceInput]) {
            guard let events = events.withLock({ $0 }) else { return }
            let id = self.id
            Thread {
                if batch.contains(where: { $0.body == Array("crash".utf8) }) {
                    events.workerExited(id, reason: "crashed on purpose")
                    return
                }
                if let request = batch.first(where: { $0.body == Array("stream".utf8) }) {
                    events.workerStreamed(id, requestID: request.requestID, Self.chunk("one "))
                    let opened = Self.gate.wait(timeout: .now() + 60) == .success
                    events.workerStreamed(id, requestID: request.requestID, Self.chunk(opened ? "two " : "gate never opened "))
                    events.workerFinished(id, BatchOutcome(answers: .success([.success(Self.chunk("three"))]), inferenceTime: .zero))
                    return
                }
                if let request = batch.first(where: { $0.body == Array("stream-crash".utf8) }) {
                    events.workerStreamed(id, requestID: request.requestID, Self.chunk("one "))
                    events.workerExited(id, reason: "crashed mid-stream")
                    return
                }
                let answers = batch.map { input in
                    Result<InferenceOutput, ServerError>.success(
                        InferenceOutput(body: Array("worker \(id): ".utf8) + input.body, contentType: nil))
                }
                events.workerFinished(id, BatchOutcome(answers: .success(answers), inferenceTime: .zero))
            }.start()
        }

        func stop() {}
    }

    @Test func theModelsWorkersServeAndACrashFailsOnlyItsBatch() async throws {
        let backend = Backend()
        let pool = WorkerPool(
            modelName: "process", modelVersion: "1.0", archive: try TestArchives.archive(), backend: backend,
            settings: .init(batchSize: 1, maxBatchDelay: .zero, responseTimeout: .seconds(30), jobQueueSize: 10),
            logger: Logger(label: "test"))
        pool.scale(min: 1, max: 1)
        #expect(pool.waitUntilReady(timeout: .seconds(10)) == .ready)
        let first = try #require(backend.made.withLock { $0.first })
        let answer = await pool.submit(InferenceInput(body: Array("hi".utf8), requestID: "1"))
        #expect((try? answer.get())?.body == Array("worker \(first): hi".utf8))

        let crashed = await pool.submit(InferenceInput(body: Array("crash".utf8), requestID: "2"))
        #expect(crashed == .failure(.workerDied))
        // The replacement comes from the model too, after the crash back-off.
        #expect(pool.waitUntilReady(timeout: .seconds(10)) == .ready)
        let made = backend.made.withLock { $0 }
        #expect(made.count == 2)
        let again = await pool.submit(InferenceInput(body: Array("again".utf8), requestID: "3"))
        #expect((try? again.get())?.body == Array("worker \(made[1]): again".utf8))
        pool.shutdown(timeout: .seconds(5))
    }

    @Test func aStreamedAnswerReachesTheCallerAtItsFirstChunk() async throws {
        let backend = Backend()
        let pool = WorkerPool(
            modelName: "process", modelVersion: "1.0", archive: try TestArchives.archive(), backend: backend,
            settings: .init(batchSize: 1, maxBatchDelay: .zero, responseTimeout: .seconds(30), jobQueueSize: 10),
            logger: Logger(label: "test"))
        pool.scale(min: 1, max: 1)
        #expect(pool.waitUntilReady(timeout: .seconds(10)) == .ready)
        // The worker holds its second chunk until the gate opens, after the answer came back: the
        // caller has the first chunk while the handler is still running.
        let head = try await pool.submit(InferenceInput(body: Array("stream".utf8), requestID: "s")).get()
        let stream = try #require(head.stream)
        #expect(head.status == 201)
        #expect(head.contentType == "text/x-chunk")
        #expect(head.body.isEmpty)
        #expect(try await stream.next() == Array("one ".utf8))
        Worker.gate.signal()
        #expect(try await stream.next() == Array("two ".utf8))
        #expect(try await stream.next() == Array("three".utf8))
        #expect(try await stream.next() == nil)

        // A worker that dies mid-stream ends the stream with TorchServe's "Worker died.".
        let broken = try await pool.submit(InferenceInput(body: Array("stream-crash".utf8), requestID: "c")).get()
        let brokenStream = try #require(broken.stream)
        #expect(try await brokenStream.next() == Array("one ".utf8))
        await #expect(throws: ServerError.workerDied) { try await brokenStream.next() }

        // Ordinary answers carry no stream.
        #expect(pool.waitUntilReady(timeout: .seconds(10)) == .ready)
        let plain = try await pool.submit(InferenceInput(body: Array("hi".utf8), requestID: "p")).get()
        #expect(plain.stream == nil)
        pool.shutdown(timeout: .seconds(5))
    }
}
