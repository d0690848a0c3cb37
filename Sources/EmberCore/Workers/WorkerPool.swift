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
    /// Guards `machine`, `requests`, `model` and `workers`; `waitUntilReady` and `shutdown` wait on it,
    /// woken by `.notifyWaiters` only (workers never wait on it).
    private let condition = NSCondition()
    private var machine: Machine
    /// What each job id the machine holds stands for, until the machine completes or fails it.
    private var requests: [Machine.JobID: Request] = [:]
    private var model: (any LoadedModel)?
    private var workers: [Int: any PoolWorker] = [:]
    private let jobIDs = Atomic<UInt64>(0)
    private let ticker = PoolTicker()
    /// Requests and batches with their durations (the Open Inference Protocol's statistics).
    public let statistics = ModelStatistics()
    /// Maps the machine's instants to wall-clock dates for describe.
    private let epoch = (date: Date(), instant: PoolInstant.now)

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
            maxRetryTimeout: settings.maxRetryTimeout, clientTimeout: settings.clientTimeout, makeWorkerID: WorkerIDs.next)
        var logger = logger
        logger[metadataKey: "model.name"] = "\(modelName)"
        logger[metadataKey: "model.version"] = "\(modelVersion)"
        self.logger = logger
        ticker.start { [weak self] in self?.update { $0.tick(now: $1) } }
    }

    /// Runs one event through the machine under the lock, then carries out its actions.
    private func update(
        answers: BatchOutcome? = nil, reportingDepth: Bool = false,
        _ event: (inout Machine, PoolInstant) -> Machine.Actions
    ) {
        condition.lock()
        // Read under the lock, so events reach the machine in time order: a job queued by another
        // thread never looks as if it arrived after the batch that took it started.
        let now = PoolInstant.now
        let steps = event(&machine, now).map(prepare)
        let (depth, workers) = (machine.queue.count, self.workers)
        condition.unlock()
        execute(steps, workers: workers, depth: depth, reportingDepth: reportingDepth, answers: answers)
    }

    /// An action with the requests it names looked up, so it can be carried out without the lock.
    private enum Step {
        case run([InferenceInput], worker: Int)
        case complete([(request: Request, arrival: PoolInstant)], batchStarted: PoolInstant)
        case fail([(request: Request, arrival: PoolInstant)], Machine.Failure)
        case other(Machine.Action)
    }

    /// Lock held. A completed or failed job leaves `requests`; a dispatched one stays until then.
    private func prepare(_ action: Machine.Action) -> Step {
        switch action {
        case .run(let batch, let worker):
            return .run(batch.compactMap { requests[$0.id]?.input }, worker: worker)
        case .complete(let jobs, let started):
            return .complete(take(jobs), batchStarted: started)
        case .fail(let jobs, let failure):
            return .fail(take(jobs), failure)
        default:
            return .other(action)
        }
    }

    /// Lock held. Removes finished jobs' requests, each with its arrival.
    private func take(_ jobs: [Machine.QueuedJob]) -> [(request: Request, arrival: PoolInstant)] {
        jobs.compactMap { job in requests.removeValue(forKey: job.id).map { ($0, job.arrival) } }
    }

    // MARK: Requests

    /// Queues one request and waits for its answer. Refused at once (503) when the version has no
    /// worker or its queue is full; answered 503 without running when it waits in the queue longer
    /// than `clientTimeoutInMills`. Withdrawn while it is queued when the task is cancelled or when the
    /// connection's ``RequestWithdrawal`` (``RequestWithdrawal/current``) reports its client gone.
    public func submit(_ input: InferenceInput, versionInURL: Bool = false) async -> Result<InferenceOutput, ServerError> {
        let id = jobIDs.wrappingAdd(1, ordering: .relaxed).newValue
        let withdrawal = RequestWithdrawal.current
        let started = ContinuousClock.now
        defer {
            withdrawal?.disarm(job: id)
            observer.answered(ContinuousClock.now - started)
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let request = Request(input: input, versionInURL: versionInURL, continuation: continuation)
                update(reportingDepth: true) { machine, now in
                    requests[id] = request
                    return machine.submit(id, now: now)
                }
                // Cancelled before the job was queued: the handler found nothing to withdraw.
                if Task.isCancelled { cancel(id) }
                // The client left before the job was queued (or leaves from now on: then it withdraws it).
                if let withdrawal, !withdrawal.arm(self, job: id) { cancel(id) }
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// The refusal a request submitted now would get at once (no worker, the queue full), counted as
    /// `submit` counts it; nil: it would be queued. Lets a listener answer 503 without a task or a
    /// copy of the body: under overload a refusal then costs about what `/ping` does.
    public func refusal(versionInURL: Bool = false) -> ServerError? {
        guard condition.withLock({ machine.refusesJobs }) else { return nil }
        statistics.recordFailures([.zero])
        observer.answered(.zero)
        return noWorkerFailure(versionInURL: versionInURL)
    }

    private func cancel(_ id: Machine.JobID) { update { $0.cancel(id, now: $1) } }

    /// A ``RequestWithdrawal``'s client went away: the job leaves the queue if it is still there.
    func withdraw(_ id: Machine.JobID) { cancel(id) }

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

    /// Why the pool stopped restarting failing workers (past `maxRetryTimeoutInSec`), if it has.
    public var retriesExhausted: String? { condition.withLock { machine.retriesExhausted } }

    // MARK: Actions

    private func execute(
        _ steps: [Step], workers: [Int: any PoolWorker], depth: Int, reportingDepth: Bool, answers: BatchOutcome?
    ) {
        // Once per event that queued or dispatched.
        var depthToReport = reportingDepth
        for step in steps {
            switch step {
            case .run(let inputs, let id):
                depthToReport = true
                guard let worker = workers[id] else {
                    update { $0.workerExited(id, now: $1) }
                    continue
                }
                worker.run(inputs)
            case .complete(let taken, let started):
                complete(taken, started: started, outcome: answers)
            case .fail(let taken, let failure):
                switch failure {
                case .cancelled: observer.cancelled()
                case .workerDied(let worker):
                    logger.error(
                        "batch lost: its worker exceeded responseTimeout or exited, and is replaced",
                        metadata: ["worker.id": "\(worker)", "batch.size": "\(taken.count)"])
                case .noWorker: break
                case .queueTimeout:
                    // Debug only: under overload this is every expired request.
                    logger.debug("requests waited past clientTimeoutInMills: answered 503", metadata: ["count": "\(taken.count)"])
                }
                let now = PoolInstant.now
                statistics.recordFailures(taken.map { now - $0.arrival })
                for (request, _) in taken {
                    let failure = error(for: failure, request)
                    if let stream = request.stream { stream.finish(failure) } else { request.continuation.resume(returning: .failure(failure)) }
                }
            case .other(let action):
                perform(action)
            }
        }
        if depthToReport { observer.queueDepth(depth) }
    }

    /// The actions that name no request.
    private func perform(_ action: Machine.Action) {
        switch action {
        case .run, .complete, .fail:
            break  // prepared into steps
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

    private func complete(
        _ taken: [(request: Request, arrival: PoolInstant)], started: PoolInstant, outcome: BatchOutcome?
    ) {
        if case .success(let answers) = outcome?.answers, answers.count != taken.count {
            logger.error("handler answered \(answers.count) results for a batch of \(taken.count)")
        }
        let results = outcome?.results(forBatchOf: taken.count) ?? Array(repeating: .failure(.workerDied), count: taken.count)
        let queueWaits = taken.map { started - $0.arrival }
        observer.batch(taken.count, queueWaits, outcome?.inferenceTime ?? .zero)
        let now = PoolInstant.now
        statistics.recordBatch(
            waits: queueWaits, totals: taken.map { now - $0.arrival }, succeeded: results.map { (try? $0.get()) != nil },
            forward: outcome?.inferenceTime ?? .zero)
        for (((request, _), result), wait) in zip(zip(taken, results), queueWaits) {
            if let stream = request.stream {
                // Answered at its first chunk: the final answer is the stream's last chunk.
                switch result {
                case .success(let output):
                    stream.yield(output.body)
                    stream.finish()
                case .failure(let error):
                    stream.finish(error)
                }
                continue
            }
            request.continuation.resume(
                returning: result.map { output in
                    var output = output
                    output.queueTime = wait
                    return output
                })
        }
    }

    private func startWorker(_ id: Int) {
        let worker: (any PoolWorker)? = condition.withLock {
            // Stopped before this action ran (the pool shut down): nothing to start.
            guard machine.hasWorker(id), let model else { return nil }
            let context = WorkerContext(
                id: id, modelName: modelName, modelVersion: modelVersion, settings: settings, device: device,
                logger: logger)
            let worker =
                model.makeWorker(context)
                ?? InProcessWorker(id: id, model: model, intraOpThreads: settings.intraOpThreads, idleSpin: idleSpin)
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
    public func workerReady(_ id: Int) {
        logger.debug("worker ready", metadata: ["worker.id": "\(id)"])
        update { $0.workerReady(id, now: $1) }
    }

    public func workerFinished(_ id: Int, _ outcome: BatchOutcome) {
        if case .failure(let error) = outcome.answers {
            logger.warning("batch failed", metadata: ["worker.id": "\(id)", "error": "\(error)"])
        }
        update(answers: outcome) { $0.batchFinished(id, now: $1) }
    }

    public func workerStreamed(_ id: Int, requestID: String, _ chunk: InferenceOutput) {
        let (stream, opened): (ResponseStream?, Request?) = condition.withLock {
            machine.batchProgressed(id, now: PoolInstant.now)
            guard let batch = machine.batch(of: id),
                let job = batch.first(where: { requests[$0.id]?.input.requestID == requestID }),
                var request = requests[job.id]
            else { return (nil, nil) }  // timed out, withdrawn, or a late chunk from a replaced worker
            if let stream = request.stream { return (stream, nil) }
            let stream = ResponseStream()
            request.stream = stream
            requests[job.id] = request
            return (stream, request)
        }
        guard let stream else { return }
        stream.yield(chunk.body)
        if let opened {
            var head = chunk
            head.body = []
            head.stream = stream
            opened.continuation.resume(returning: .success(head))
        }
    }

    public func workerExited(_ id: Int, reason: String) {
        logger.error("worker exited", metadata: ["worker.id": "\(id)", "reason": "\(reason)"])
        update { $0.workerExited(id, reason: reason, now: $1) }
    }
}
