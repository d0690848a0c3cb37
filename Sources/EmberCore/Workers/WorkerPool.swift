import EmberArchive
import Foundation
import Logging
import Synchronization

/// One model version's job queue, batcher and workers.
///
/// Every decision is ``StateMachine``'s; this shell holds it under one lock and carries out the
/// actions it returns after releasing the lock. Workers (``PoolWorker``) are threads of their own,
/// each sleeping on its own semaphore; the model loads once, on a loader thread, shared by them all.
public final class WorkerPool: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var batchSize: Int
        public var maxBatchDelay: Duration
        public var responseTimeout: Duration
        public var jobQueueSize: Int
        public var intraOpThreads: Int
        public var device: String
        /// How long a worker polls for work after a batch before it sleeps.
        public var idleSpin: Duration

        public init(
            batchSize: Int = 1, maxBatchDelay: Duration = .milliseconds(100), responseTimeout: Duration = .seconds(120),
            jobQueueSize: Int = 100, intraOpThreads: Int = 1, device: String = "cpu", idleSpin: Duration = .zero
        ) {
            self.batchSize = batchSize
            self.maxBatchDelay = maxBatchDelay
            self.responseTimeout = responseTimeout
            self.jobQueueSize = jobQueueSize
            self.intraOpThreads = intraOpThreads
            self.device = device
            self.idleSpin = idleSpin
        }
    }

    /// What describe shows of a worker.
    public struct WorkerInfo: Sendable, Equatable {
        public var id: Int
        public var startTime: Date
        public var isReady: Bool
    }

    /// Observations for the metrics layer, called outside the pool's lock.
    public struct Observer: Sendable {
        public var batch: @Sendable (_ size: Int, _ queueWaits: [Duration], _ inference: Duration) -> Void
        public var queueDepth: @Sendable (Int) -> Void
        /// The model loaded, in this long.
        public var loaded: @Sendable (Duration) -> Void
        /// A queued request was withdrawn (its client went away).
        public var cancelled: @Sendable () -> Void

        public init(
            batch: @escaping @Sendable (Int, [Duration], Duration) -> Void = { _, _, _ in },
            queueDepth: @escaping @Sendable (Int) -> Void = { _ in },
            loaded: @escaping @Sendable (Duration) -> Void = { _ in },
            cancelled: @escaping @Sendable () -> Void = {}
        ) {
            self.batch = batch
            self.queueDepth = queueDepth
            self.loaded = loaded
            self.cancelled = cancelled
        }
    }

    /// How a wait for the workers ended.
    public enum Readiness: Sendable, Equatable {
        case ready
        /// The model failed to load, for this reason.
        case failed(String)
        /// Workers were still starting when the wait ran out.
        case timedOut
    }

    struct Request {
        let input: InferenceInput
        let versionInURL: Bool
        let continuation: CheckedContinuation<Result<InferenceOutput, ServerError>, Never>
    }

    typealias Machine = StateMachine<Request>

    /// TorchServe's retry back-off after a failed load or a crashed worker, in seconds (Fibonacci, capped).
    static let retryBackoff = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]

    public let modelName: String
    public let modelVersion: String
    public let settings: Settings
    private let archive: ModelArchive
    private let backend: any InferenceBackend
    private let logger: Logger
    private let observer: Observer
    /// Guards `machine`, `model` and `workers`; `waitUntilReady` and `shutdown` wait on it, woken by
    /// `.notifyWaiters` only (workers never wait on it).
    private let condition = NSCondition()
    private var machine: Machine
    private var model: (any LoadedModel)?
    private var workers: [Int: any PoolWorker] = [:]
    private let jobIDs = Atomic<UInt64>(0)
    private let ticker = Ticker()
    /// Maps the machine's instants to wall-clock dates for describe.
    private let epoch = (date: Date(), instant: ContinuousClock.now)

    public init(
        modelName: String, modelVersion: String, archive: ModelArchive, backend: any InferenceBackend,
        settings: Settings, observer: Observer = Observer(), logger: Logger
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.archive = archive
        self.backend = backend
        self.settings = settings
        self.observer = observer
        self.machine = Machine(
            policy: BatchPolicy(batchSize: settings.batchSize, maxBatchDelay: settings.maxBatchDelay),
            responseTimeout: max(.seconds(1), settings.responseTimeout), queueCapacity: settings.jobQueueSize,
            makeWorkerID: WorkerIDs.next)
        var logger = logger
        logger[metadataKey: "model.name"] = "\(modelName)"
        logger[metadataKey: "model.version"] = "\(modelVersion)"
        self.logger = logger
        ticker.start { [weak self] in self?.update { $0.tick(now: $1) } }
    }

    /// Runs one event through the machine under the lock, then carries out its actions.
    private func update(
        answers: BatchOutcome? = nil, reportingDepth: Bool = false,
        _ event: (inout Machine, ContinuousClock.Instant) -> Machine.Actions
    ) {
        let now = ContinuousClock.now
        condition.lock()
        let actions = event(&machine, now)
        let (depth, workers) = (machine.queue.count, self.workers)
        condition.unlock()
        execute(actions, workers: workers, depth: depth, reportingDepth: reportingDepth, answers: answers)
    }

    // MARK: Requests

    /// Queues one request and waits for its answer. Refused at once (503) when the version has no
    /// worker or its queue is full. Cancelling the task withdraws the request while it is queued.
    public func submit(_ input: InferenceInput, versionInURL: Bool = false) async -> Result<InferenceOutput, ServerError> {
        let id = jobIDs.wrappingAdd(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let request = Request(input: input, versionInURL: versionInURL, continuation: continuation)
                update(reportingDepth: true) { $0.submit(request, id: id, now: $1) }
                // Cancelled before the job was queued: the handler found nothing to withdraw.
                if Task.isCancelled { cancel(id) }
            }
        } onCancel: {
            cancel(id)
        }
    }

    private func cancel(_ id: Machine.JobID) { update { $0.cancel(id, now: $1) } }

    // MARK: Scaling and readiness

    /// Sets the worker range: starts workers up to `min`, retires the newest beyond `max` (each
    /// finishes its batch first). Returns once the change is made; see ``waitUntilReady(timeout:)``.
    public func scale(min newMin: Int, max newMax: Int) { update { $0.scale(min: newMin, max: newMax, now: $1) } }

    /// Retries a failed load now, while workers are wanted.
    public func retryLoad() { update { $0.retryLoad(now: $1) } }

    /// Waits until every active worker is ready, the model failed to load, or `timeout` passes.
    /// Blocking: call it off the concurrency pool.
    public func waitUntilReady(timeout: Duration) -> Readiness {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let readiness = machine.readiness { return readiness }
            if !condition.wait(until: deadline) { return machine.readiness ?? .timedOut }
        }
    }

    /// Stops taking requests, lets queued and in-flight ones finish (bounded by `timeout`), then
    /// unloads the model. Requests still unanswered at the deadline fail with 503. Blocking.
    public func shutdown(timeout: Duration) {
        let deadline = Date().addingTimeInterval(timeout.seconds + 0.001)
        condition.lock()
        machine.beginShutdown()
        while !machine.isDrained, condition.wait(until: deadline) {}
        condition.unlock()
        update { $0.stop(now: $1) }
        ticker.cancel()
    }

    // MARK: Describe

    public var workerInfo: [WorkerInfo] {
        condition.withLock {
            machine.activeWorkers.map {
                WorkerInfo(id: $0.id, startTime: epoch.date + ($0.created - epoch.instant).seconds, isReady: $0.isReady)
            }
        }
    }

    public var workerRange: (min: Int, max: Int) { condition.withLock { (machine.minWorkers, machine.maxWorkers) } }

    public var pendingRequests: Int { condition.withLock { machine.queue.count } }

    /// Workers ready to take a batch.
    public var readyWorkerCount: Int { condition.withLock { machine.activeWorkers.filter(\.isReady).count } }

    /// The last load failure, if loading failed.
    public var loadError: String? { condition.withLock { machine.loadError } }

    // MARK: Actions

    private func execute(
        _ actions: Machine.Actions, workers: [Int: any PoolWorker], depth: Int, reportingDepth: Bool,
        answers: BatchOutcome?
    ) {
        // Once per event that queued or dispatched.
        var depthToReport = reportingDepth
        for action in actions {
            switch action {
            case .run(let batch, let id):
                depthToReport = true
                guard let worker = workers[id] else {
                    update { $0.workerExited(id, now: $1) }
                    continue
                }
                worker.run(batch.map(\.job.input))
            case .complete(let jobs, let started):
                complete(jobs, started: started, outcome: answers)
            case .fail(let jobs, let failure):
                if failure == .cancelled { observer.cancelled() }
                for entry in jobs { entry.job.continuation.resume(returning: .failure(error(for: failure, entry.job))) }
            case .startWorker(let id):
                startWorker(id)
            case .stopWorker(let id):
                let worker = condition.withLock { self.workers.removeValue(forKey: id) }
                worker?.stop()
            case .load:
                let thread = Thread { [self] in loadModel() }
                thread.name = "ember-load-\(modelName)"
                thread.start()
            case .unload:
                let model = condition.withLock { () -> (any LoadedModel)? in
                    defer { self.model = nil }
                    return self.model
                }
                model?.unload()
            case .scheduleTick(let instant):
                ticker.arm(at: instant)
            case .notifyWaiters:
                condition.broadcast()
            }
        }
        if depthToReport { observer.queueDepth(depth) }
    }

    private func error(for failure: Machine.Failure, _ request: Request) -> ServerError {
        switch failure {
        case .noWorker: noWorkerFailure(versionInURL: request.versionInURL)
        case .workerDied: .workerDied
        case .cancelled: .requestCancelled
        }
    }

    /// TorchServe's message for "no worker / queue full" (contract §2.9).
    private func noWorkerFailure(versionInURL: Bool) -> ServerError {
        let subject = versionInURL ? "Model \"\(modelName)\" Version \(modelVersion)\"" : "Model \"\(modelName)\""
        return ServerError(
            status: 503, type: "ServiceUnavailableException",
            message: "\(subject) has no worker to serve inference request. Please use scale workers API to add workers. "
                + "If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize")
    }

    private func complete(_ jobs: [Machine.QueuedJob], started: ContinuousClock.Instant, outcome: BatchOutcome?) {
        let results: [Result<InferenceOutput, ServerError>]
        switch outcome?.answers {
        case .success(let answers) where answers.count == jobs.count:
            results = answers
        case .success(let answers):
            logger.error("handler answered \(answers.count) results for a batch of \(jobs.count)")
            let mismatch = ServerError(status: 503, type: "InternalServerException", message: "number of batch response mismatched")
            results = Array(repeating: .failure(mismatch), count: jobs.count)
        case .failure:
            results = Array(repeating: .failure(.predictionFailed), count: jobs.count)
        case nil:
            results = Array(repeating: .failure(.workerDied), count: jobs.count)
        }
        observer.batch(jobs.count, jobs.map { started - $0.arrival }, outcome?.inferenceTime ?? .zero)
        for (entry, result) in zip(jobs, results) { entry.job.continuation.resume(returning: result) }
    }

    private func startWorker(_ id: Int) {
        let worker: InProcessWorker? = condition.withLock {
            // Stopped before this action ran (the pool shut down): nothing to start.
            guard machine.hasWorker(id), let model else { return nil }
            let worker = InProcessWorker(
                id: id, model: model, intraOpThreads: settings.intraOpThreads, idleSpin: settings.idleSpin)
            workers[id] = worker
            return worker
        }
        worker?.start(events: self)
    }

    private func loadModel() {
        let started = ContinuousClock.now
        logger.info("loading model")
        do {
            let loaded = try backend.load(archive, device: settings.device)
            condition.withLock { model = loaded }
            let duration = ContinuousClock.now - started
            observer.loaded(duration)
            logger.info("model loaded", metadata: ["duration": "\(duration)"])
            update { $0.loadSucceeded(now: $1) }
        } catch {
            update { machine, now in
                let actions = machine.loadFailed(reason: "\(error)", now: now)
                if case .failed(_, let failures, _) = machine.load {
                    logger.error(
                        "model failed to load",
                        metadata: ["error": "\(error)", "retry.seconds": "\(Machine.backoff(afterFailures: failures))"])
                }
                return actions
            }
        }
    }
}

extension WorkerPool: PoolWorkerEvents {
    func workerReady(_ id: Int) {
        logger.debug("worker ready", metadata: ["worker.id": "\(id)"])
        update { $0.workerReady(id, now: $1) }
    }

    func workerFinished(_ id: Int, _ outcome: BatchOutcome) {
        if case .failure(let error) = outcome.answers {
            logger.warning("batch failed", metadata: ["worker.id": "\(id)", "error": "\(error)"])
        }
        update(answers: outcome) { $0.batchFinished(id, now: $1) }
    }

    func workerExited(_ id: Int, reason: String) {
        logger.error("worker exited", metadata: ["worker.id": "\(id)", "reason": "\(reason)"])
        update { $0.workerExited(id, now: $1) }
    }
}

extension ServerError {
    /// The request was withdrawn because its client went away; nobody reads the answer.
    static var requestCancelled: ServerError {
        ServerError(status: 499, type: "RequestCancelledException", message: "Request cancelled by the client")
    }
}

/// Worker ids as TorchServe numbers them (from 9000, never reused), across all pools.
private enum WorkerIDs {
    private static let counter = Atomic<Int>(9000)
    static func next() -> Int { counter.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// One timer per pool, re-armed only when an earlier tick is wanted; idle when nothing is due.
private final class Ticker: @unchecked Sendable {
    private let lock = NSLock()
    private var armed: ContinuousClock.Instant?
    private let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "ember.pool.tick"))

    func start(_ onTick: @escaping @Sendable () -> Void) {
        timer.setEventHandler { [weak self] in
            self?.lock.withLock { self?.armed = nil }
            onTick()
        }
        timer.schedule(deadline: .distantFuture)
        timer.resume()
    }

    func arm(at deadline: ContinuousClock.Instant) {
        lock.withLock {
            if let armed, armed <= deadline { return }
            armed = deadline
            let delay = max(.zero, deadline - ContinuousClock.now)
            let (seconds, attoseconds) = delay.components
            let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
            timer.schedule(deadline: .now() + .nanoseconds(nanoseconds))
        }
    }

    func cancel() { timer.cancel() }
}
