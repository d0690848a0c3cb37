extension WorkerPool {
    /// The pool's decisions, without threads, locks or clocks: every event comes in with the instant it
    /// happened, and every method answers with the ``Action``s the shell must carry out (after
    /// releasing its lock). It knows a request by its id and arrival time only; the shell keeps what
    /// the id stands for (the input and the continuation). Nothing in it is generic, so the request
    /// path never asks the runtime for generic type metadata (that cost several percent of a
    /// prediction's CPU time when the machine was generic over the job).
    ///
    /// Workers go `awaitingLaunch` (wanted; launched once the model is loaded and any crash back-off
    /// has passed) → `starting` (launched, preparing) → `idle` ⇄ `busy`. A worker marked `retiring`
    /// leaves when it is idle and either the queue is empty or another active worker exists. A worker
    /// whose batch passes `responseTimeout`, or whose worker reports it exited, is dropped at once
    /// (abandoned): its record goes, so a late answer from it finds nothing and is ignored.
    ///
    /// Failures (a worker exiting unasked, a failed load) are retried with back-off only within
    /// `maxRetryTimeout` of the first one since a worker was last ready, as TorchServe does. Past that
    /// the pool gives up: the workers it would have restarted stay listed as `gaveUp` (describe shows
    /// them not ready), readiness reports the failure, and requests no live worker can take get 503.
    /// A scale call starts afresh.
    struct StateMachine {
        typealias Instant = PoolInstant
        typealias JobID = UInt64

        struct QueuedJob: Equatable {
            let id: JobID
            let arrival: Instant
        }

        /// Why jobs are failed; the shell renders the error.
        enum Failure: Equatable {
            /// TorchServe's 503 "has no worker": refused at submit, or still queued when the pool stopped.
            case noWorker
            /// 500 "Worker died.": the batch timed out on this worker, or the worker exited.
            case workerDied(worker: Int)
            case cancelled
            /// 503: it waited in the queue at least `clientTimeoutInMills` and was not run.
            case queueTimeout
        }

        enum Action {
            case load
            case unload
            case startWorker(id: Int)
            case stopWorker(id: Int)
            case run([QueuedJob], worker: Int)
            /// Answer these jobs with the results the worker just returned for them.
            case complete([QueuedJob], batchStarted: Instant)
            case fail([QueuedJob], Failure)
            case scheduleTick(at: Instant)
            /// Readiness or drain progress may have changed: wake `waitUntilReady`/`shutdown` waiters.
            case notifyWaiters
        }

        enum LoadState: Equatable {
            case notLoaded
            case loading(failures: Int)
            case loaded
            case failed(reason: String, failures: Int, retryAt: Instant)
        }

        struct Worker {
            enum Phase {
                case awaitingLaunch(notBefore: Instant)
                case starting
                case idle(since: Instant)
                case busy([QueuedJob], started: Instant)
                /// Failed past `maxRetryTimeout`: never launched again (until a scale call replaces it).
                case gaveUp
            }

            let id: Int
            let created: Instant
            var phase: Phase
            var retiring = false
            /// Whether its previous batch was full (``BatchPolicy``'s "under load").
            var lastBatchFull = false
            /// The last intermediate chunk of its running batch: `responseTimeout` counts from it, as
            /// TorchServe waits `responseTimeout` for each message of a streamed answer.
            var lastProgress: Instant?

            /// When its running batch times out, if it is busy.
            func timeoutDeadline(_ timeout: Duration) -> Instant? {
                guard case .busy(_, let started) = phase else { return nil }
                return Swift.max(started, lastProgress ?? started) + timeout
            }

            var isReady: Bool {
                switch phase {
                case .idle, .busy: true
                case .awaitingLaunch, .starting, .gaveUp: false
                }
            }
            var isLive: Bool {
                if case .gaveUp = phase { return false }
                return true
            }
            var isBusy: Bool {
                if case .busy = phase { return true }
                return false
            }
        }

        let policy: BatchPolicy
        let responseTimeout: Duration
        let queueCapacity: Int
        let maxRetryTimeout: Duration
        /// `clientTimeoutInMills`: a job queued this long leaves the queue unrun (nil: no limit).
        let clientTimeout: Duration?
        private let makeWorkerID: () -> Int

        private(set) var queue: [QueuedJob] = []
        private(set) var workers: [Worker] = []
        private(set) var load = LoadState.notLoaded
        private(set) var minWorkers = 0
        private(set) var maxWorkers = 0
        private(set) var draining = false
        private(set) var stopped = false
        /// Workers that exited on their own since one last became ready: their restart back-off.
        private var crashes = 0
        /// The first failure since a worker was last ready: retries stop `maxRetryTimeout` after it.
        private var failingSince: Instant?
        /// Why the pool stopped retrying, once it has.
        private(set) var retriesExhausted: String?
        /// The earliest tick the shell has been asked for and not yet delivered.
        private var armedTick: Instant?

        init(
            policy: BatchPolicy, responseTimeout: Duration, queueCapacity: Int, maxRetryTimeout: Duration = .seconds(300),
            clientTimeout: Duration? = nil,
            makeWorkerID: @escaping () -> Int
        ) {
            self.policy = policy
            self.responseTimeout = responseTimeout
            self.queueCapacity = queueCapacity
            self.maxRetryTimeout = maxRetryTimeout
            self.clientTimeout = clientTimeout.flatMap { $0 > .zero ? $0 : nil }
            self.makeWorkerID = makeWorkerID
        }

        /// The wait before retrying after this many consecutive failures (``WorkerPool/retryBackoff``).
        static func backoff(afterFailures failures: Int) -> Duration {
            let table = WorkerPool.retryBackoff
            return .seconds(table[Swift.min(Swift.max(failures, 1), table.count) - 1])
        }

        // MARK: Queries

        var activeWorkers: [Worker] { workers.filter { !$0.retiring } }

        var readiness: Readiness? {
            if case .failed(let reason, _, _) = load { return .failed(reason) }
            if let reason = retriesExhausted { return .failed(reason) }
            let active = activeWorkers
            return active.count >= minWorkers && active.allSatisfy(\.isReady) ? .ready : nil
        }

        var isDrained: Bool { queue.isEmpty && !workers.contains(where: \.isBusy) }

        func hasWorker(_ id: Int) -> Bool { workers.contains { $0.id == id } }

        /// The batch the worker is running, if it is busy.
        func batch(of id: Int) -> [QueuedJob]? {
            guard let worker = workers.first(where: { $0.id == id }), case .busy(let batch, _) = worker.phase else { return nil }
            return batch
        }

        var loadError: String? {
            if case .failed(let reason, _, _) = load { return reason }
            return nil
        }

        // MARK: Requests

        /// A job submitted now would be refused at once (no worker, the queue full, or stopping).
        var refusesJobs: Bool {
            stopped || draining || (maxWorkers == 0 && workers.isEmpty) || queue.count >= queueCapacity
                || (retriesExhausted != nil && !workers.contains(where: \.isLive))
        }

        mutating func submit(_ id: JobID, now: Instant) -> Actions {
            let entry = QueuedJob(id: id, arrival: now)
            guard !refusesJobs else { return Actions(.fail([entry], .noWorker)) }
            queue.append(entry)
            var actions = Actions()
            expireQueued(now: now, into: &actions)
            dispatch(now: now, into: &actions)
            requestTick(into: &actions)
            return actions
        }

        /// Removes a job that is still queued. One already handed to a worker is answered when its
        /// batch finishes (the worker cannot be interrupted mid-call).
        mutating func cancel(_ id: JobID, now: Instant) -> Actions {
            guard let index = queue.firstIndex(where: { $0.id == id }) else { return [] }
            let job = queue.remove(at: index)
            var actions: Actions = [.fail([job], .cancelled)]
            retireIdleWorkers(into: &actions)
            if draining, isDrained { actions.append(.notifyWaiters) }
            return actions
        }

        // MARK: Worker events

        mutating func workerReady(_ id: Int, now: Instant) -> Actions {
            guard let index = index(of: id), case .starting = workers[index].phase else { return [] }
            workers[index].phase = .idle(since: now)
            crashes = 0
            failingSince = nil
            var actions: Actions = [.notifyWaiters]
            settle(now: now, into: &actions)
            return actions
        }

        /// The worker answered its batch. An answer from a worker the pool no longer knows (it timed
        /// out and was replaced, or the pool stopped) is ignored: its jobs were already failed.
        mutating func batchFinished(_ id: Int, now: Instant) -> Actions {
            guard let index = index(of: id), case .busy(let batch, let started) = workers[index].phase else { return [] }
            workers[index].phase = .idle(since: now)
            var actions = Actions(.complete(batch, batchStarted: started))
            settle(now: now, into: &actions)
            if draining, isDrained { actions.append(.notifyWaiters) }
            return actions
        }

        /// The worker is gone on its own (a crashed process): only its batch fails, and a replacement
        /// starts after the crash back-off unless it was leaving anyway.
        ///
        /// A worker that exits before it was ready while no other worker is ready says the model does
        /// not start in a worker (a Python handler that fails to load in its process): the load is
        /// marked failed with `reason`, so readiness (and a synchronous registration) reports it, and
        /// it is retried after the load back-off like any failed load.
        mutating func workerExited(_ id: Int, reason: String = "the worker exited", now: Instant) -> Actions {
            guard let index = index(of: id) else { return [] }
            let worker = workers.remove(at: index)
            var actions: Actions = [.notifyWaiters]
            if case .busy(let batch, _) = worker.phase { actions.append(.fail(batch, .workerDied(worker: id))) }
            if case .starting = worker.phase, !worker.retiring, !stopped, load == .loaded,
                !workers.contains(where: \.isReady)
            {
                crashes += 1
                load = .failed(
                    reason: reason, failures: crashes, retryAt: now + Self.backoff(afterFailures: crashes))
                actions.append(.unload)
                addMissingWorkers(notBefore: now, now: now)
                checkRetryWindow(after: reason, now: now, into: &actions)
                settle(now: now, into: &actions)
                return actions
            }
            if !worker.retiring, !stopped {
                crashes += 1
                addMissingWorkers(notBefore: now + Self.backoff(afterFailures: crashes), now: now)
                checkRetryWindow(after: reason, now: now, into: &actions)
            }
            settle(now: now, into: &actions)
            return actions
        }

        /// The worker sent an intermediate chunk of its batch's answer: its `responseTimeout` restarts.
        mutating func batchProgressed(_ id: Int, now: Instant) {
            guard let index = index(of: id), workers[index].isBusy else { return }
            workers[index].lastProgress = now
        }

        // MARK: Time

        /// Fails batches past `responseTimeout` (replacing their workers), dispatches batches whose
        /// delay ran out, retries a failed load and launches restarts whose back-off passed.
        mutating func tick(now: Instant) -> Actions {
            armedTick = nil
            var actions = Actions()
            var expired = false
            let timeout = responseTimeout
            workers.removeAll { worker in
                guard case .busy(let batch, _) = worker.phase, let deadline = worker.timeoutDeadline(timeout), now >= deadline
                else { return false }
                actions.append(.fail(batch, .workerDied(worker: worker.id)))
                actions.append(.stopWorker(id: worker.id))
                expired = true
                return true
            }
            if expired {
                actions.append(.notifyWaiters)
                if !stopped { addMissingWorkers(notBefore: now, now: now) }
            }
            if case .failed(_, let failures, let retryAt) = load, retryAt <= now, minWorkers > 0, !stopped,
                retriesExhausted == nil
            {
                load = .loading(failures: failures)
                actions.append(.load)
            }
            settle(now: now, into: &actions)
            return actions
        }

        // MARK: Scaling and loading

        /// Workers up to `min` are started; the newest beyond `max` retire, each after its batch.
        mutating func scale(min newMin: Int, max newMax: Int, now: Instant) -> Actions {
            guard !stopped else { return [] }
            minWorkers = Swift.max(0, newMin)
            maxWorkers = Swift.max(minWorkers, newMax)
            // Asked again: the workers given up on are replaced, with a fresh retry window.
            workers.removeAll { !$0.isLive }
            retriesExhausted = nil
            failingSince = nil
            var actions: Actions = [.notifyWaiters]
            var surplus = activeWorkers.count - maxWorkers
            for index in workers.indices.reversed() where surplus > 0 && !workers[index].retiring {
                workers[index].retiring = true
                surplus -= 1
            }
            // Never launched: nothing to wait for.
            workers.removeAll { worker in
                guard worker.retiring, case .awaitingLaunch = worker.phase else { return false }
                return true
            }
            addMissingWorkers(notBefore: now, now: now)
            if minWorkers > 0 {
                switch load {
                case .notLoaded:
                    load = .loading(failures: 0)
                    actions.append(.load)
                case .failed(_, let failures, let retryAt) where retryAt <= now:
                    load = .loading(failures: failures)
                    actions.append(.load)
                default: break
                }
            }
            settle(now: now, into: &actions)
            return actions
        }

        /// Loads again at once after a failure, while workers are wanted.
        mutating func retryLoad(now: Instant) -> Actions {
            guard case .failed(_, let failures, _) = load, minWorkers > 0, !stopped else { return [] }
            load = .loading(failures: failures)
            workers.removeAll { !$0.isLive }
            addMissingWorkers(notBefore: now, now: now)
            retriesExhausted = nil
            failingSince = nil
            return [.load]
        }

        mutating func loadSucceeded(now: Instant) -> Actions {
            guard !stopped else { return [.unload] }
            load = .loaded
            var actions: Actions = [.notifyWaiters]
            settle(now: now, into: &actions)
            return actions
        }

        mutating func loadFailed(reason: String, now: Instant) -> Actions {
            let failures: Int
            if case .loading(let previous) = load { failures = previous + 1 } else { failures = 1 }
            load = .failed(reason: reason, failures: failures, retryAt: now + Self.backoff(afterFailures: failures))
            var actions: Actions = [.notifyWaiters]
            if !stopped, minWorkers > 0 { checkRetryWindow(after: reason, now: now, into: &actions) }
            requestTick(into: &actions)
            return actions
        }

        // MARK: Shutdown

        /// Stops taking requests; queued and in-flight ones carry on. The shell waits for
        /// ``isDrained`` (signalled by `.notifyWaiters`) or its deadline, then calls ``stop(now:)``.
        mutating func beginShutdown() {
            draining = true
        }

        /// Fails whatever is left with 503, stops every worker and unloads the model.
        mutating func stop(now: Instant) -> Actions {
            stopped = true
            draining = true
            minWorkers = 0
            maxWorkers = 0
            var actions: Actions = [.notifyWaiters]
            var leftovers = queue
            queue.removeAll()
            for worker in workers {
                switch worker.phase {
                case .busy(let batch, _):
                    leftovers += batch
                    actions.append(.stopWorker(id: worker.id))
                case .starting, .idle:
                    actions.append(.stopWorker(id: worker.id))
                case .awaitingLaunch, .gaveUp:
                    break
                }
            }
            workers.removeAll()
            if !leftovers.isEmpty { actions.append(.fail(leftovers, .noWorker)) }
            if load == .loaded { actions.append(.unload) }
            load = .notLoaded
            return actions
        }

        // MARK: Internals

        private func index(of id: Int) -> Int? { workers.firstIndex { $0.id == id } }

        /// What follows any change: launch what can be launched, hand out work, let idle retiring
        /// workers go, ask for the next tick.
        private mutating func settle(now: Instant, into actions: inout Actions) {
            launchDueWorkers(now: now, into: &actions)
            expireQueued(now: now, into: &actions)
            dispatch(now: now, into: &actions)
            retireIdleWorkers(into: &actions)
            requestTick(into: &actions)
        }

        /// After a failure: past `maxRetryTimeout` since the first one, stop retrying. The workers
        /// waiting for their restart become `gaveUp`; queued jobs fail with 503 when no live worker is
        /// left to take them.
        private mutating func checkRetryWindow(after reason: String, now: Instant, into actions: inout Actions) {
            let since = failingSince ?? now
            failingSince = since
            if retriesExhausted == nil {
                guard now - since >= maxRetryTimeout else { return }
                let seconds = maxRetryTimeout.wholeSeconds
                retriesExhausted =
                    "gave up restarting workers after maxRetryTimeoutInSec (\(seconds) s) of failures: \(reason)"
            }
            for index in workers.indices where !workers[index].retiring {
                if case .awaitingLaunch = workers[index].phase { workers[index].phase = .gaveUp }
            }
            if !workers.contains(where: \.isLive), !queue.isEmpty {
                actions.append(.fail(queue, .noWorker))
                queue.removeAll()
            }
        }

        private mutating func addMissingWorkers(notBefore: Instant, now: Instant) {
            let missing = minWorkers - activeWorkers.count
            guard missing > 0 else { return }
            for _ in 0..<missing {
                workers.append(Worker(id: makeWorkerID(), created: now, phase: .awaitingLaunch(notBefore: notBefore)))
            }
        }

        private mutating func launchDueWorkers(now: Instant, into actions: inout Actions) {
            guard load == .loaded, !stopped else { return }
            for index in workers.indices {
                guard case .awaitingLaunch(let notBefore) = workers[index].phase, notBefore <= now else { continue }
                workers[index].phase = .starting
                actions.append(.startWorker(id: workers[index].id))
            }
        }

        /// The idle worker that should take the queue: one not under load first (it sends at once),
        /// the most recently idle among equals (it may still be polling, and its caches are warm).
        /// Retiring workers serve only while no active worker exists.
        private func workerToServe() -> Int? {
            let othersActive = workers.contains { !$0.retiring }
            var best: (index: Int, underLoad: Bool, since: Instant)?
            for index in workers.indices {
                let worker = workers[index]
                guard case .idle(let since) = worker.phase, !worker.retiring || !othersActive else { continue }
                if let current = best {
                    let better =
                        current.underLoad != worker.lastBatchFull
                        ? !worker.lastBatchFull : since > current.since
                    if !better { continue }
                }
                best = (index, worker.lastBatchFull, since)
            }
            return best?.index
        }

        private mutating func dispatch(now: Instant, into actions: inout Actions) {
            while let oldest = queue.first, let index = workerToServe() {
                let decision = policy.decide(
                    queued: queue.count, oldestArrival: oldest.arrival, now: now, underLoad: workers[index].lastBatchFull)
                guard case .dispatch(let count) = decision else { return }
                let batch = Array(queue.prefix(count))
                queue.removeFirst(batch.count)
                workers[index].phase = .busy(batch, started: now)
                workers[index].lastBatchFull = batch.count >= policy.batchSize
                workers[index].lastProgress = nil
                actions.append(.run(batch, worker: workers[index].id))
            }
        }

        /// Fails the jobs that have waited `clientTimeout` or longer (the queue is in arrival order, so
        /// they are its head), before any of them can be dispatched.
        private mutating func expireQueued(now: Instant, into actions: inout Actions) {
            guard let limit = clientTimeout, let oldest = queue.first, now - oldest.arrival >= limit else { return }
            let count = queue.prefix { now - $0.arrival >= limit }.count
            let expired = Array(queue.prefix(count))
            queue.removeFirst(count)
            actions.append(.fail(expired, .queueTimeout))
            if draining, isDrained { actions.append(.notifyWaiters) }
        }

        private mutating func retireIdleWorkers(into actions: inout Actions) {
            var left = false
            while let index = workers.firstIndex(where: { worker in
                guard worker.retiring, case .idle = worker.phase else { return false }
                return queue.isEmpty || workers.contains { !$0.retiring }
            }) {
                actions.append(.stopWorker(id: workers.remove(at: index).id))
                left = true
            }
            if left { actions.append(.notifyWaiters) }
        }

        /// The earliest instant something is due, if any.
        private func nextDeadline() -> Instant? {
            var earliest: Instant?
            func consider(_ instant: Instant) { earliest = earliest.map { Swift.min($0, instant) } ?? instant }
            for worker in workers {
                switch worker.phase {
                case .busy: if let deadline = worker.timeoutDeadline(responseTimeout) { consider(deadline) }
                case .awaitingLaunch(let notBefore) where load == .loaded: consider(notBefore)
                default: break
                }
            }
            if let oldest = queue.first, workerToServe() != nil { consider(oldest.arrival + policy.maxBatchDelay) }
            if let oldest = queue.first, let limit = clientTimeout { consider(oldest.arrival + limit) }
            if case .failed(_, _, let retryAt) = load, minWorkers > 0, !stopped, retriesExhausted == nil { consider(retryAt) }
            return earliest
        }

        /// Asks for a tick only when it is earlier than the one already asked for: one timer per pool.
        private mutating func requestTick(into actions: inout Actions) {
            guard !stopped, let deadline = nextDeadline() else { return }
            if let armed = armedTick, armed <= deadline { return }
            armedTick = deadline
            actions.append(.scheduleTick(at: deadline))
        }
    }
}

extension WorkerPool.StateMachine {
    /// A few actions, kept inline: the request path (submit, batch finished) yields one to three,
    /// and must not allocate an array for them.
    struct Actions: Sequence, ExpressibleByArrayLiteral {
        private var first: Action?
        private var second: Action?
        private var third: Action?
        private var more: [Action] = []

        init() {}

        init(_ action: Action) { first = action }

        init(arrayLiteral elements: Action...) {
            for element in elements { append(element) }
        }

        var isEmpty: Bool { first == nil }

        mutating func append(_ action: Action) {
            if first == nil {
                first = action
            } else if second == nil {
                second = action
            } else if third == nil {
                third = action
            } else {
                more.append(action)
            }
        }

        static func + (lhs: Self, rhs: Self) -> Self {
            var result = lhs
            for action in rhs { result.append(action) }
            return result
        }

        struct Iterator: IteratorProtocol {
            fileprivate let actions: Actions
            fileprivate var position = 0

            mutating func next() -> Action? {
                defer { position += 1 }
                switch position {
                case 0: return actions.first
                case 1: return actions.second
                case 2: return actions.third
                default:
                    let index = position - 3
                    return index < actions.more.count ? actions.more[index] : nil
                }
            }
        }

        func makeIterator() -> Iterator { Iterator(actions: self) }
    }
}
