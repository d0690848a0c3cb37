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
    public let modelName: String
    public let modelVersion: String
    public let settings: ModelSettings
    /// Where the model runs (`cpu`, `cuda:N`).
    public let device: String
    /// How long a worker polls for work after a batch before it sleeps.
    public let idleSpin: Duration
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
    private let ticker = PoolTicker()
    /// Requests and batches with their durations (the Open Inference Protocol's statistics).
    public let statistics = ModelStatistics()
    /// Maps the machine's instants to wall-clock dates for describe.
    private let epoch = (date: Date(), instant: ContinuousClock.now)

    public init(
        modelName: String, modelVersion: String, archive: ModelArchive, backend: any InferenceBackend,
        settings: ModelSettings, device: String = "cpu", idleSpin: Duration = .zero, observer: Observer = Observer(),
        logger: Logger
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.archive = archive
        self.backend = backend
        self.settings = settings
        self.device = device
        self.idleSpin = idleSpin
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

    /// The loaded model's tensors (Open Inference Protocol metadata); nil until it has loaded.
    public var tensorMetadata: TensorMetadata? { condition.withLock { model?.tensorMetadata } }

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
                switch failure {
                case .cancelled: observer.cancelled()
                case .workerDied(let worker):
                    logger.error(
                        "batch lost: its worker exceeded responseTimeout or exited, and is replaced",
                        metadata: ["worker.id": "\(worker)", "batch.size": "\(jobs.count)"])
                case .noWorker: break
                }
                let now = ContinuousClock.now
                statistics.recordFailures(jobs.map { now - $0.arrival })
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
                // The weights go with the last reference: this one, and each worker's until its thread ends.
                condition.withLock { self.model = nil }
            case .scheduleTick(let instant):
                ticker.arm(at: instant)
            case .notifyWaiters:
                condition.broadcast()
            }
        }
        if depthToReport { observer.queueDepth(depth) }
    }

    private func complete(_ jobs: [Machine.QueuedJob], started: ContinuousClock.Instant, outcome: BatchOutcome?) {
        if case .success(let answers) = outcome?.answers, answers.count != jobs.count {
            logger.error("handler answered \(answers.count) results for a batch of \(jobs.count)")
        }
        let results = outcome?.results(forBatchOf: jobs.count) ?? Array(repeating: .failure(.workerDied), count: jobs.count)
        let waits = jobs.map { started - $0.arrival }
        observer.batch(jobs.count, waits, outcome?.inferenceTime ?? .zero)
        let now = ContinuousClock.now
        statistics.recordBatch(
            waits: waits, totals: jobs.map { now - $0.arrival }, succeeded: results.map { (try? $0.get()) != nil },
            forward: outcome?.inferenceTime ?? .zero)
        for (entry, result) in zip(jobs, results) { entry.job.continuation.resume(returning: result) }
    }

    private func startWorker(_ id: Int) {
        let worker: InProcessWorker? = condition.withLock {
            // Stopped before this action ran (the pool shut down): nothing to start.
            guard machine.hasWorker(id), let model else { return nil }
            let worker = InProcessWorker(
                id: id, model: model, intraOpThreads: settings.intraOpThreads, idleSpin: idleSpin)
            workers[id] = worker
            return worker
        }
        worker?.start(events: self)
    }

    private func loadModel() {
        let started = ContinuousClock.now
        logger.info("loading model")
        do {
            let loaded = try backend.load(archive, device: device)
            condition.withLock { model = loaded }
            let duration = ContinuousClock.now - started
            observer.loaded(duration)
            if let warmUp = loaded.tensorMetadata?.warmUpTime { observer.warmedUp(warmUp) }
            logger.info("model loaded", metadata: ["duration": "\(duration)"])
            update { $0.loadSucceeded(now: $1) }
        } catch {
            var retry = Duration.zero
            update { machine, now in
                let actions = machine.loadFailed(reason: "\(error)", now: now)
                if case .failed(_, _, let retryAt) = machine.load { retry = retryAt - now }
                return actions
            }
            logger.error("model failed to load", metadata: ["error": "\(error)", "retry.seconds": "\(retry.seconds)"])
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
