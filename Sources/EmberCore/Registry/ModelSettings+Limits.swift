/// What the server accepts for each per-model setting, whichever source gave it (a register call,
/// `model-config.yaml`, the `models` JSON, a restored snapshot): a value outside its range is a 400
/// naming the setting and the range, never a trap or a silent clamp.
extension ModelSettings {
    public enum Limits {
        public static let batchSize = 1...1024
        public static let maxBatchDelayMilliseconds = 0...600_000
        public static let timeoutSeconds = 1...604_800
        public static let jobQueueSize = 1...1_000_000
        public static let intraOpThreads = 1...256
        public static let retryTimeoutSeconds = 0...604_800
        /// `clientTimeoutInMills`: up to a week, as the other timeouts.
        public static let clientTimeoutMilliseconds = 1...604_800_000
        /// What a client may write for a worker count before the configured caps are applied.
        public static let workerCount = 0...Int(Int32.max)
    }

    /// Throws for the first setting outside ``Limits`` or beyond the per-model worker cap.
    public func validate(maxWorkersPerModel: Int) throws(ServerError) {
        func check(_ value: Int, _ range: ClosedRange<Int>, _ name: String) throws(ServerError) {
            guard range.contains(value) else { throw .outOfRange(name, range, got: String(value)) }
        }
        try check(batchSize, Limits.batchSize, "batch_size (batchSize)")
        try check(maxBatchDelay.wholeMilliseconds, Limits.maxBatchDelayMilliseconds, "max_batch_delay (maxBatchDelay, ms)")
        try check(responseTimeout.wholeSeconds, Limits.timeoutSeconds, "response_timeout (responseTimeout, s)")
        try check(startupTimeout.wholeSeconds, Limits.timeoutSeconds, "startup_timeout (startupTimeout, s)")
        try check(jobQueueSize, Limits.jobQueueSize, "job_queue_size (jobQueueSize)")
        try check(intraOpThreads, Limits.intraOpThreads, "intraOpThreads")
        try check(maxRetryTimeout.wholeSeconds, Limits.retryTimeoutSeconds, "maxRetryTimeoutInSec")
        if let clientTimeout {
            try check(clientTimeout.wholeMilliseconds, Limits.clientTimeoutMilliseconds, "clientTimeoutInMills")
        }
        try check(minWorkers, Limits.workerCount, "min_worker (minWorkers)")
        try check(maxWorkers, Limits.workerCount, "max_worker (maxWorkers)")
        try WorkerCaps.checkPerModel(min: minWorkers, max: maxWorkers, cap: maxWorkersPerModel)
    }
}

/// The worker caps: `max_workers_per_model` bounds one version's workers, `max_workers` the sum over
/// every version the server runs (each worker is a thread, plus its libtorch threads).
public enum WorkerCaps {
    /// `max_workers_per_model`'s default: four per core, at least 4.
    public static func defaultPerModel(cores: Int) -> Int { Swift.max(4, 4 * cores) }
    /// `max_workers`'s default: sixteen per core, at least 16.
    public static func defaultTotal(cores: Int) -> Int { Swift.max(16, 16 * cores) }

    /// The workers a version runs are its minimum (there is no autoscaling toward the maximum, as in
    /// TorchServe), so the caps apply to that.
    static func checkPerModel(min: Int, max: Int, cap: Int) throws(ServerError) {
        let asked = min
        guard asked > cap else { return }
        throw .workerCapExceeded(
            "A model version may run at most \(cap) workers (max_workers_per_model); \(asked) were asked for.")
    }

    /// `others`: workers every other version runs now.
    static func checkTotal(adding workers: Int, others: Int, cap: Int) throws(ServerError) {
        let (total, overflow) = others.addingReportingOverflow(workers)
        guard overflow || total > cap else { return }
        throw .workerCapExceeded(
            "The server may run at most \(cap) workers in all (max_workers); \(workers) here and \(others) "
                + "for the other model versions would be more.")
    }
}
