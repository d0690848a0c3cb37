import EmberArchive
import Foundation

/// The settings a model version runs with, after TorchServe's precedence rules (contract §7.1).
public struct ModelSettings: Sendable, Equatable {
    public var minWorkers: Int
    public var maxWorkers: Int
    public var batchSize: Int
    public var maxBatchDelay: Int
    public var responseTimeout: Int
    public var startupTimeout: Int
    public var jobQueueSize: Int
    public var intraOpThreads: Int

    /// What a registration asked for; nil means not given.
    public struct Requested: Sendable, Equatable {
        public var batchSize: Int?
        public var maxBatchDelay: Int?
        public var initialWorkers: Int?
        public var responseTimeout: Int?
        public var startupTimeout: Int?

        public init(
            batchSize: Int? = nil, maxBatchDelay: Int? = nil, initialWorkers: Int? = nil, responseTimeout: Int? = nil,
            startupTimeout: Int? = nil
        ) {
            self.batchSize = batchSize
            self.maxBatchDelay = maxBatchDelay
            self.initialWorkers = initialWorkers
            self.responseTimeout = responseTimeout
            self.startupTimeout = startupTimeout
        }
    }

    /// - batch size and delay: the request, then model-config.yaml (> 0), then the `models` JSON, then 1 / 100 ms;
    /// - timeouts: model-config.yaml (an archive with a config file always decides: its value or 120), then the
    ///   `models` JSON, then the request, then `default_*_timeout`;
    /// - workers: model-config.yaml `minWorkers`/`maxWorkers` when valid, then (at start-up) the `models` JSON,
    ///   then `initial_workers` (registration), then `default_workers_per_model`; start-up models with none of
    ///   these get one worker per core, as TorchServe gives them;
    /// - intra-op threads: `intraOpThreads` in model-config.yaml, else 1, so that workers × threads stays within
    ///   the cores with the default workers. One thread is also what measured fastest here: on the 2-core
    ///   benchmark machine, ResNet-18 ran 3.5 times slower with 2 intra-op threads than with 1
    ///   (benchmarks/results/2026-11-21-1951-vm.md, floor table).
    ///
    /// A negative or zero `max_batch_delay` is never invented: TorchServe's JSON-body registration sets
    /// -10000 when the field is absent; here an absent field stays absent.
    public static func resolve(
        requested: Requested, config: ModelConfig?, overrides: ModelOverrides?, server: ServerConfiguration,
        atStartup: Bool, cores: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> ModelSettings {
        func positive(_ value: Int?) -> Int? { value.flatMap { $0 > 0 ? $0 : nil } }
        let batchSize = positive(requested.batchSize) ?? positive(config?.batchSize) ?? overrides?.batchSize ?? 1
        let maxBatchDelay =
            requested.maxBatchDelay.flatMap { $0 >= 0 ? $0 : nil } ?? positive(config?.maxBatchDelay)
            ?? overrides?.maxBatchDelay ?? 100
        let responseTimeout =
            config.map { positive($0.responseTimeout) ?? 120 } ?? overrides?.responseTimeout
            ?? positive(requested.responseTimeout) ?? server.defaultResponseTimeout
        let startupTimeout =
            config.map { positive($0.startupTimeout) ?? 120 } ?? overrides?.startupTimeout
            ?? positive(requested.startupTimeout) ?? server.defaultStartupTimeout

        var workers: (min: Int, max: Int)
        if let min = positive(config?.minWorkers), let max = config?.maxWorkers, max >= min {
            workers = (min, max)
        } else if atStartup, let min = overrides?.minWorkers {
            workers = (min, Swift.max(min, overrides?.maxWorkers ?? min))
        } else if let initial = requested.initialWorkers, initial > 0 {
            workers = (initial, initial)
        } else if server.defaultWorkersPerModel > 0 {
            workers = (server.defaultWorkersPerModel, server.defaultWorkersPerModel)
        } else if atStartup {
            workers = (Swift.max(1, cores), Swift.max(1, cores))
        } else {
            workers = (0, 0)
        }
        let threads = positive(config?.intraOpThreads) ?? 1
        return ModelSettings(
            minWorkers: workers.min, maxWorkers: workers.max, batchSize: batchSize, maxBatchDelay: maxBatchDelay,
            responseTimeout: responseTimeout, startupTimeout: startupTimeout,
            jobQueueSize: positive(config?.jobQueueSize) ?? server.jobQueueSize, intraOpThreads: threads)
    }
}
