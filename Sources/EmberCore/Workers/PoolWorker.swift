import Foundation
import Logging
import Synchronization

/// What a worker did with one batch.
public struct BatchOutcome: Sendable {
    /// The handler's answers (one per input, in order, unless the handler misbehaved) or its error.
    public var answers: Result<[Result<InferenceOutput, ServerError>], any Error>
    /// How long the model took, as the worker measured it.
    public var inferenceTime: Duration

    public init(answers: Result<[Result<InferenceOutput, ServerError>], any Error>, inferenceTime: Duration) {
        self.answers = answers
        self.inferenceTime = inferenceTime
    }
}

extension BatchOutcome {
    /// One result per request: the handler's answers, or the whole batch failed as TorchServe fails it.
    func results(forBatchOf count: Int) -> [Result<InferenceOutput, ServerError>] {
        switch answers {
        case .success(let answers) where answers.count == count:
            return answers
        case .success:
            let mismatch = ServerError.batchResponseMismatch
            return Array(repeating: .failure(mismatch), count: count)
        case .failure:
            return Array(repeating: .failure(.predictionFailed), count: count)
        }
    }
}

/// Where a worker reports to its pool. Calls may come from any thread, at any time after `start`.
public protocol PoolWorkerEvents: AnyObject, Sendable {
    /// The worker can take batches.
    func workerReady(_ id: Int)
    /// The batch handed to ``PoolWorker/run(_:)`` is done.
    func workerFinished(_ id: Int, _ outcome: BatchOutcome)
    /// One intermediate chunk of the answer to the request `requestID` of the worker's running batch
    /// (a handler's `send_intermediate_predict_response`). The first one answers the request at once
    /// with a ``ResponseStream``; later ones and the final answer go into that stream.
    func workerStreamed(_ id: Int, requestID: String, _ chunk: InferenceOutput)
    /// The worker is gone without being asked to stop (a crashed process). The pool fails only the
    /// batch it held and starts a replacement after the crash back-off.
    func workerExited(_ id: Int, reason: String)
}

/// How the pool drives one worker. The pool's state machine decides; this executes.
///
/// - `start(events:)` launches it; it reports ``PoolWorkerEvents/workerReady(_:)`` once it can take
///   batches. The pool launches workers only once its shared model load succeeded.
/// - `run(_:)` hands it one batch; it must not block the caller, and answers later with exactly one
///   ``PoolWorkerEvents/workerFinished(_:_:)`` (or ``PoolWorkerEvents/workerExited(_:reason:)``).
///   The pool sends at most one batch at a time.
/// - `stop()` asks it to leave: after its batch if it is running one (the pool has already answered
///   or failed that batch's requests and ignores a late answer).
///
/// The loaded model decides which worker the pool makes (``LoadedModel/makeWorker(_:)``): by default an
/// ``InProcessWorker``, a thread calling `LoadedModel.infer` in this process. A process-backed worker
/// (EmberPython's, speaking TorchServe's socket protocol) plugs in without changes to the pool or its
/// state machine: the pool's load step only validates the archive (each process loads its own copy of
/// the model); `start` spawns the process and connects, reporting `workerReady` when the process
/// answers its load request; `run` hands the batch to its I/O thread and returns, the reply arriving
/// there and reported with `workerFinished`; when the socket closes or the process exits unasked, it
/// calls `workerExited`; `stop` terminates and reaps the process.
public protocol PoolWorker: AnyObject, Sendable {
    var id: Int { get }
    func start(events: any PoolWorkerEvents)
    func run(_ batch: [InferenceInput])
    func stop()
}

/// What a loaded model is told when the pool wants one more worker for it.
public struct WorkerContext: Sendable {
    public let id: Int
    public let modelName: String
    public let modelVersion: String
    public let settings: ModelSettings
    /// Where the model runs (`cpu`, `cuda:N`).
    public let device: String
    /// The pool's logger (model name and version in its metadata).
    public let logger: Logger
}

/// A worker thread calling the shared model in-process. It sleeps on its own semaphore, so handing it
/// a batch wakes only it; right after a batch it polls for `idleSpin` first, because a wake-up from
/// sleep costs tens of microseconds and, at low concurrency, the next request often arrives sooner.
/// The poll never lasts longer than the batch it follows took: polling then costs the worker at most
/// as much CPU as its forwards, so a server answering one request at a time stays within about one
/// core (with a 9 µs forward and a 300 µs poll the worker alone used to burn a whole core between
/// requests), and an idle server does not poll at all.
final class InProcessWorker: PoolWorker, @unchecked Sendable {
    let id: Int
    private let model: any LoadedModel
    private let intraOpThreads: Int
    private let idleSpin: Duration
    private let wake = DispatchSemaphore(value: 0)
    private let mailbox = Mutex(Mail())
    /// Whether the mailbox holds something, readable without its lock by the polling worker.
    private let hasMail = Atomic<Bool>(false)

    private struct Mail {
        var batch: [InferenceInput]?
        var stop = false
    }

    init(id: Int, model: any LoadedModel, intraOpThreads: Int, idleSpin: Duration) {
        self.id = id
        self.model = model
        self.intraOpThreads = intraOpThreads
        self.idleSpin = idleSpin
    }

    func start(events: any PoolWorkerEvents) {
        let thread = Thread { [self] in
            // Foundation keeps the name to itself on Linux; the kernel's (15 bytes at most) is what
            // `top -H`, `perf` and `gdb` show.
            try? "ember-w\(id)".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            serve(events)
        }
        thread.name = "ember-worker-\(id)"
        thread.start()
    }

    func run(_ batch: [InferenceInput]) {
        mailbox.withLock { mail in
            mail.batch = batch
            hasMail.store(true, ordering: .releasing)
        }
        wake.signal()
    }

    func stop() {
        mailbox.withLock { mail in
            mail.stop = true
            hasMail.store(true, ordering: .releasing)
        }
        wake.signal()
    }

    private func serve(_ events: any PoolWorkerEvents) {
        model.prepareWorkerThread(intraOpThreads: intraOpThreads)
        events.workerReady(id)
        var spinDeadline: ContinuousClock.Instant?
        while true {
            if let deadline = spinDeadline {
                while !hasMail.load(ordering: .acquiring), ContinuousClock.now < deadline { sched_yield() }
            }
            wake.wait()
            let mail = mailbox.withLock { mail in
                let taken = mail
                mail.batch = nil
                hasMail.store(mail.stop, ordering: .relaxed)
                return taken
            }
            if mail.stop { return }
            guard let batch = mail.batch else { continue }
            let started = ContinuousClock.now
            let answers = Result { try model.infer(batch) }
            let finished = ContinuousClock.now
            events.workerFinished(id, BatchOutcome(answers: answers, inferenceTime: finished - started))
            let spin = min(idleSpin, finished - started)
            spinDeadline = spin > .zero ? finished + spin : nil
        }
    }
}
