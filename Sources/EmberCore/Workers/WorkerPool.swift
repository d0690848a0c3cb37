import EmberArchive
import Foundation
import Logging
import Synchronization

/// One model version's job queue, batcher and workers.
///
/// Each worker is an OS thread of its own (blocking model calls never run on the Swift concurrency
/// pool or an event loop). The model is loaded once, on a loader thread, and shared by the workers.
/// All state sits behind one `NSCondition`, which workers also wait on for work.
public final class WorkerPool: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var batchSize: Int
        public var maxBatchDelayMilliseconds: Int
        public var responseTimeoutSeconds: Int
        public var jobQueueSize: Int
        public var intraOpThreads: Int
        public var device: String
        /// How long a worker polls the queue after a batch before it sleeps on the condition.
        public var idleSpin: Duration

        public init(
            batchSize: Int = 1, maxBatchDelayMilliseconds: Int = 100, responseTimeoutSeconds: Int = 120,
            jobQueueSize: Int = 100, intraOpThreads: Int = 1, device: String = "cpu", idleSpin: Duration = .zero
        ) {
            self.batchSize = batchSize
            self.maxBatchDelayMilliseconds = maxBatchDelayMilliseconds
            self.responseTimeoutSeconds = responseTimeoutSeconds
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

    /// Observations for the metrics layer.
    public struct Observer: Sendable {
        public var batch: @Sendable (_ size: Int, _ queueWaits: [Duration], _ inference: Duration) -> Void
        public var queueDepth: @Sendable (Int) -> Void
        /// The model loaded, in this long.
        public var loaded: @Sendable (Duration) -> Void

        public init(
            batch: @escaping @Sendable (Int, [Duration], Duration) -> Void = { _, _, _ in },
            queueDepth: @escaping @Sendable (Int) -> Void = { _ in },
            loaded: @escaping @Sendable (Duration) -> Void = { _ in }
        ) {
            self.batch = batch
            self.queueDepth = queueDepth
            self.loaded = loaded
        }
    }

    private struct Job {
        let input: InferenceInput
        let arrival: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<InferenceOutput, ServerError>, Never>
    }

    private enum LoadState {
        case notLoaded
        case loading
        case loaded(any LoadedModel)
        case failed(String)
    }

    // Guarded by the pool's condition lock.
    private final class Worker: @unchecked Sendable {
        let id: Int
        let startTime = Date()
        var ready = false
        var retiring = false
        var abandoned = false
        var lastBatchFull = false
        /// The batch in flight, so a timeout can fail it.
        var inFlight: [Job] = []
        var batchStarted = ContinuousClock.now
        var batchSequence = 0
        /// Counted towards the pool's size: neither leaving nor replaced.
        var isActive: Bool { !retiring && !abandoned }
        /// Until when the worker polls for work instead of sleeping; set after each batch.
        var spinDeadline: ContinuousClock.Instant?

        init(id: Int) { self.id = id }
    }

    public let modelName: String
    public let modelVersion: String
    public private(set) var settings: Settings
    private let archive: ModelArchive
    private let backend: any InferenceBackend
    private let logger: Logger
    private let observer: Observer
    private let condition = NSCondition()
    private let policy: BatchPolicy

    private var queue: [Job] = []
    /// `queue.count`, readable without the lock by workers polling for work.
    private let queuedCount = Atomic<Int>(0)
    private var workers: [Worker] = []
    private var load = LoadState.notLoaded
    private var minWorkers = 0
    private var maxWorkers = 0
    private var loadFailures = 0
    private var stopped = false
    private var draining = false
    /// Whether a watchdog tick is scheduled (see ``watchdogTick()``).
    private var watchdogArmed = false

    private static let workerIDs = WorkerIDs()

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
        self.policy = BatchPolicy(
            batchSize: settings.batchSize, maxBatchDelay: .milliseconds(max(0, settings.maxBatchDelayMilliseconds)))
        var logger = logger
        logger[metadataKey: "model.name"] = "\(modelName)"
        logger[metadataKey: "model.version"] = "\(modelVersion)"
        self.logger = logger
    }

    // MARK: Requests

    /// Queues one request and waits for its answer. Refused at once (503) when the version has no
    /// worker or its queue is full.
    public func submit(_ input: InferenceInput, versionInURL: Bool = false) async -> Result<InferenceOutput, ServerError> {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopped, !draining, maxWorkers > 0 || !workers.isEmpty else {
                continuation.resume(returning: .failure(noWorkerFailure(versionInURL: versionInURL)))
                return
            }
            guard queue.count < settings.jobQueueSize else {
                continuation.resume(returning: .failure(noWorkerFailure(versionInURL: versionInURL)))
                return
            }
            queue.append(Job(input: input, arrival: .now, continuation: continuation))
            queuedCount.store(queue.count, ordering: .relaxed)
            observer.queueDepth(queue.count)
            condition.broadcast()
        }
    }

    private func noWorkerFailure(versionInURL: Bool) -> ServerError {
        .noWorker(model: modelName, version: versionInURL ? modelVersion : nil)
    }

    // MARK: Scaling

    /// Sets the worker range: starts workers up to `min`, retires the newest beyond `max` (each
    /// finishes its batch first). Returns once the change is made; see ``waitUntilReady(timeout:)``.
    public func scale(min newMin: Int, max newMax: Int) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return }
        minWorkers = max(0, newMin)
        maxWorkers = max(minWorkers, newMax)
        let active = activeWorkers
        if active.count > maxWorkers {
            for worker in active.suffix(active.count - maxWorkers) { worker.retiring = true }
            condition.broadcast()
        } else {
            startMissingWorkers()
        }
        if minWorkers > 0, case .notLoaded = load { startLoading() }
    }

    /// How a wait for the workers ended.
    public enum Readiness: Sendable, Equatable {
        case ready
        /// The model failed to load, for this reason.
        case failed(String)
        /// Workers were still starting when the wait ran out.
        case timedOut
    }

    /// Waits until every active worker is ready, the model failed to load, or `timeout` passes.
    public func waitUntilReady(timeout: Duration) -> Readiness {
        let deadline = Date().addingTimeInterval(TimeInterval(timeout.components.seconds))
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .failed(let reason) = load { return .failed(reason) }
            let active = activeWorkers
            if active.count >= minWorkers, active.allSatisfy(\.ready) { return .ready }
            if !condition.wait(until: deadline) { return .timedOut }
        }
    }

    /// Stops taking requests, lets queued and in-flight ones finish (bounded by `timeout`), then
    /// unloads the model. Requests still queued at the deadline fail with 503.
    public func shutdown(timeout: Duration) {
        condition.lock()
        draining = true
        let deadline = Date().addingTimeInterval(TimeInterval(timeout.components.seconds) + 0.001)
        while !queue.isEmpty || workers.contains(where: { !$0.inFlight.isEmpty && !$0.abandoned }) {
            if !condition.wait(until: deadline) { break }
        }
        stopped = true
        minWorkers = 0
        maxWorkers = 0
        let leftovers = queue
        queue.removeAll()
        queuedCount.store(0, ordering: .relaxed)
        for worker in workers { worker.retiring = true }
        condition.broadcast()
        load = .notLoaded
        condition.unlock()
        for job in leftovers { job.continuation.resume(returning: .failure(noWorkerFailure(versionInURL: false))) }
    }

    // MARK: Describe

    public var workerInfo: [WorkerInfo] {
        condition.lock()
        defer { condition.unlock() }
        return activeWorkers.map {
            WorkerInfo(id: $0.id, startTime: $0.startTime, isReady: $0.ready)
        }
    }

    public var workerRange: (min: Int, max: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (minWorkers, maxWorkers)
    }

    public var pendingRequests: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Workers ready to take a batch.
    public var readyWorkerCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return activeWorkers.filter(\.ready).count
    }

    /// The last load failure, if loading failed.
    public var loadError: String? {
        condition.lock()
        defer { condition.unlock() }
        if case .failed(let reason) = load { return reason }
        return nil
    }

    // MARK: Loading (lock held by callers)

    private func startLoading() {
        load = .loading
        let thread = Thread { [self] in loadModel() }
        thread.name = "ember-load-\(modelName)"
        thread.start()
    }

    private func loadModel() {
        let started = ContinuousClock.now
        logger.info("loading model")
        do {
            let model = try backend.load(archive, device: settings.device)
            condition.lock()
            load = .loaded(model)
            loadFailures = 0
            condition.broadcast()
            condition.unlock()
            let duration = ContinuousClock.now - started
            observer.loaded(duration)
            logger.info("model loaded", metadata: ["duration": "\(duration)"])
        } catch {
            condition.lock()
            load = .failed("\(error)")
            loadFailures += 1
            let backoff = Self.retryBackoff[min(loadFailures, Self.retryBackoff.count) - 1]
            condition.broadcast()
            condition.unlock()
            logger.error("model failed to load", metadata: ["error": "\(error)", "retry.seconds": "\(backoff)"])
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(backoff)) { [weak self] in self?.retryLoad() }
        }
    }

    /// TorchServe's retry back-off after a failed load, in seconds (Fibonacci, capped).
    static let retryBackoff = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]

    /// Retries a failed load while workers are wanted.
    public func retryLoad() {
        condition.lock()
        defer { condition.unlock() }
        guard case .failed = load, minWorkers > 0, !stopped else { return }
        startLoading()
    }

    // MARK: Workers

    /// Workers that count towards the pool's size. Lock held.
    private var activeWorkers: [Worker] { workers.filter(\.isActive) }

    /// Starts workers until `minWorkers` are active. Lock held.
    private func startMissingWorkers() {
        let missing = minWorkers - activeWorkers.count
        if missing > 0 {
            for _ in 0..<missing { startWorker() }
        }
    }

    private func startWorker() {
        let worker = Worker(id: Self.workerIDs.next())
        workers.append(worker)
        let thread = Thread { [self] in
            // Foundation keeps the name to itself on Linux; the kernel's (15 bytes at most) is what
            // `top -H`, `perf` and `gdb` show.
            try? "ember-w\(worker.id)".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            runWorker(worker)
        }
        thread.name = "ember-worker-\(worker.id)"
        thread.start()
    }

    private func runWorker(_ worker: Worker) {
        var prepared = false
        condition.lock()
        while true {
            // A retiring worker leaves once another worker can take the queue, or the queue is empty,
            // so scaling down never fails a queued request.
            let othersActive = workers.contains { $0 !== worker && $0.isActive }
            if worker.abandoned || stopped || (worker.retiring && (queue.isEmpty || othersActive)) {
                workers.removeAll { $0 === worker }
                condition.broadcast()
                condition.unlock()
                return
            }
            guard case .loaded(let model) = load else {
                condition.wait()
                continue
            }
            if !prepared {
                condition.unlock()
                model.prepareWorkerThread(intraOpThreads: settings.intraOpThreads)
                prepared = true
                condition.lock()
                worker.ready = true
                condition.broadcast()
                logger.debug("worker ready", metadata: ["worker.id": "\(worker.id)"])
                continue
            }
            guard let oldest = queue.first else {
                if let deadline = worker.spinDeadline, ContinuousClock.now < deadline {
                    condition.unlock()
                    pollForWork(until: deadline)
                    condition.lock()
                    worker.spinDeadline = nil
                } else {
                    condition.wait()
                }
                continue
            }
            let now = ContinuousClock.now
            switch policy.decide(queued: queue.count, oldestArrival: oldest.arrival, now: now, underLoad: worker.lastBatchFull) {
            case .wait(let until):
                _ = condition.wait(until: Date().addingTimeInterval(max(0, (until - now).seconds)))
                continue
            case .dispatch(let count):
                let batch = Array(queue.prefix(count))
                queue.removeFirst(batch.count)
                queuedCount.store(queue.count, ordering: .relaxed)
                observer.queueDepth(queue.count)
                worker.inFlight = batch
                worker.batchStarted = now
                worker.batchSequence += 1
                worker.lastBatchFull = batch.count >= policy.batchSize
                let sequence = worker.batchSequence
                if !watchdogArmed { armWatchdog() }
                condition.unlock()
                let results = run(batch, on: model, worker: worker)
                condition.lock()
                guard !worker.abandoned, worker.batchSequence == sequence, !worker.inFlight.isEmpty else {
                    // Timed out: the jobs were answered and this worker was replaced.
                    continue
                }
                worker.inFlight = []
                if settings.idleSpin > .zero { worker.spinDeadline = .now + settings.idleSpin }
                condition.broadcast()
                condition.unlock()
                for (job, result) in zip(batch, results) { job.continuation.resume(returning: result) }
                condition.lock()
            }
        }
    }

    /// Polls (lock not held) until a job is queued or `deadline` passes. Waking a thread asleep on the
    /// condition costs tens of microseconds; a request that arrives soon after the last answer is
    /// picked up in a few. `sched_yield` lets any other runnable thread have the core meanwhile.
    private func pollForWork(until deadline: ContinuousClock.Instant) {
        while queuedCount.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline { sched_yield() }
    }

    private func run(_ batch: [Job], on model: any LoadedModel, worker: Worker) -> [Result<InferenceOutput, ServerError>] {
        let started = ContinuousClock.now
        let results: [Result<InferenceOutput, ServerError>]
        do {
            let answers = try model.infer(batch.map(\.input))
            if answers.count == batch.count {
                results = answers
            } else {
                logger.error("handler answered \(answers.count) results for a batch of \(batch.count)")
                results = Array(
                    repeating: .failure(.batchResponseMismatch),
                    count: batch.count)
            }
        } catch {
            logger.warning(
                "batch failed", metadata: ["error": "\(error)", "batch.size": "\(batch.count)", "worker.id": "\(worker.id)"])
            results = Array(repeating: .failure(.predictionFailed), count: batch.count)
        }
        let finished = ContinuousClock.now
        observer.batch(batch.count, batch.map { started - $0.arrival }, finished - started)
        return results
    }

    // MARK: Response timeout

    /// How often the watchdog looks for batches past `responseTimeout`: a timed-out batch fails at most
    /// this much late. One tick per pool while batches run, rather than one timer per batch, which
    /// cost about 12 µs per request and kept a closure alive per batch for the whole timeout.
    static let watchdogInterval = Duration.milliseconds(250)

    /// Schedules the next watchdog tick. Lock held.
    private func armWatchdog() {
        watchdogArmed = true
        let interval = Self.watchdogInterval
        DispatchQueue.global().asyncAfter(deadline: .now() + interval.seconds) { [weak self] in self?.watchdogTick() }
    }

    /// A batch still in flight after `responseTimeout` fails with 500 and its worker is replaced: the
    /// stuck thread cannot be killed, so it is abandoned and exits when (if) its call returns. The
    /// watchdog keeps ticking while any batch is in flight.
    private func watchdogTick() {
        let timeout = Duration.seconds(max(1, settings.responseTimeoutSeconds))
        let now = ContinuousClock.now
        condition.lock()
        var expired: [(worker: Worker, jobs: [Job])] = []
        for worker in workers where !worker.abandoned && !worker.inFlight.isEmpty && now - worker.batchStarted >= timeout {
            expired.append((worker, worker.inFlight))
            worker.inFlight = []
            worker.abandoned = true
        }
        if !expired.isEmpty {
            workers.removeAll { $0.abandoned }
            if !stopped { startMissingWorkers() }
            condition.broadcast()
        }
        if !stopped, workers.contains(where: { !$0.inFlight.isEmpty }) {
            armWatchdog()
        } else {
            watchdogArmed = false
        }
        condition.unlock()
        for (worker, jobs) in expired {
            logger.error(
                "batch exceeded responseTimeout; worker replaced",
                metadata: [
                    "worker.id": "\(worker.id)", "batch.size": "\(jobs.count)", "timeout.seconds": "\(timeout.components.seconds)",
                ])
            for job in jobs { job.continuation.resume(returning: .failure(.workerDied)) }
        }
    }
}

/// Worker ids as TorchServe numbers them (from 9000, never reused).
private final class WorkerIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var next_ = 9000

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        next_ += 1
        return next_ - 1
    }
}
