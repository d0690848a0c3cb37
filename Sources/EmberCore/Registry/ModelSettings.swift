import EmberArchive
import Foundation

/// The settings a model version runs with: the one spelling of the per-model knobs, for the registry,
/// the worker pool, describe and snapshots. Times are `Duration`s; the units TorchServe writes them in
/// (milliseconds for the batch delay, seconds for timeouts) appear only where they are read or written.
public struct ModelSettings: Sendable, Equatable {
    public var minWorkers: Int
    public var maxWorkers: Int
    public var batchSize: Int
    public var maxBatchDelay: Duration
    public var responseTimeout: Duration
    public var startupTimeout: Duration
    public var jobQueueSize: Int
    public var intraOpThreads: Int
    /// How long a worker that keeps failing (crashing, or failing to load) is restarted, counted from
    /// its first failure since one was last ready (`maxRetryTimeoutInSec`, TorchServe's 300 s default).
    public var maxRetryTimeout: Duration
    /// `clientTimeoutInMills` (model-config.yaml only): the longest a request may wait in the queue; nil: no limit.
    public var clientTimeout: Duration?

    public init(
        minWorkers: Int = 0, maxWorkers: Int = 0, batchSize: Int = 1, maxBatchDelay: Duration = .milliseconds(100),
        responseTimeout: Duration = .seconds(120), startupTimeout: Duration = .seconds(120), jobQueueSize: Int = 100,
        intraOpThreads: Int = 1, maxRetryTimeout: Duration = .seconds(300), clientTimeout: Duration? = nil
    ) {
        self.clientTimeout = clientTimeout
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
        self.batchSize = batchSize
        self.maxBatchDelay = maxBatchDelay
        self.responseTimeout = responseTimeout
        self.startupTimeout = startupTimeout
        self.jobQueueSize = jobQueueSize
        self.intraOpThreads = intraOpThreads
        self.maxRetryTimeout = maxRetryTimeout
    }

    /// Settings as one source gives them: every field optional, nil meaning "this source says nothing".
    public struct Partial: Sendable, Equatable {
        public var minWorkers: Int?
        public var maxWorkers: Int?
        public var batchSize: Int?
        public var maxBatchDelay: Duration?
        public var responseTimeout: Duration?
        public var startupTimeout: Duration?
        public var jobQueueSize: Int?
        public var intraOpThreads: Int?
        public var maxRetryTimeout: Duration?
        public var clientTimeout: Duration?

        public init(
            minWorkers: Int? = nil, maxWorkers: Int? = nil, batchSize: Int? = nil, maxBatchDelay: Duration? = nil,
            responseTimeout: Duration? = nil, startupTimeout: Duration? = nil, jobQueueSize: Int? = nil,
            intraOpThreads: Int? = nil, maxRetryTimeout: Duration? = nil, clientTimeout: Duration? = nil
        ) {
            self.clientTimeout = clientTimeout
            self.minWorkers = minWorkers
            self.maxWorkers = maxWorkers
            self.batchSize = batchSize
            self.maxBatchDelay = maxBatchDelay
            self.responseTimeout = responseTimeout
            self.startupTimeout = startupTimeout
            self.jobQueueSize = jobQueueSize
            self.intraOpThreads = intraOpThreads
            self.maxRetryTimeout = maxRetryTimeout
        }

        /// Every field set here wins; the others come from `lower`.
        public func merged(over lower: Partial) -> Partial {
            Partial(
                minWorkers: minWorkers ?? lower.minWorkers, maxWorkers: maxWorkers ?? lower.maxWorkers,
                batchSize: batchSize ?? lower.batchSize, maxBatchDelay: maxBatchDelay ?? lower.maxBatchDelay,
                responseTimeout: responseTimeout ?? lower.responseTimeout,
                startupTimeout: startupTimeout ?? lower.startupTimeout, jobQueueSize: jobQueueSize ?? lower.jobQueueSize,
                intraOpThreads: intraOpThreads ?? lower.intraOpThreads,
                maxRetryTimeout: maxRetryTimeout ?? lower.maxRetryTimeout, clientTimeout: clientTimeout ?? lower.clientTimeout)
        }

        /// Only the fields in `groups`; the others nil.
        public func only(_ groups: Groups) -> Partial {
            var kept = Partial()
            if groups.contains(.workers) {
                kept.minWorkers = minWorkers
                kept.maxWorkers = maxWorkers
            }
            if groups.contains(.batching) {
                kept.batchSize = batchSize
                kept.maxBatchDelay = maxBatchDelay
            }
            if groups.contains(.timeouts) {
                kept.responseTimeout = responseTimeout
                kept.startupTimeout = startupTimeout
            }
            if groups.contains(.queue) {
                kept.jobQueueSize = jobQueueSize
                kept.clientTimeout = clientTimeout
            }
            if groups.contains(.threads) { kept.intraOpThreads = intraOpThreads }
            if groups.contains(.retries) { kept.maxRetryTimeout = maxRetryTimeout }
            return kept
        }
    }

    /// Settings that TorchServe resolves together: a source gives both workers bounds or neither, and
    /// both batch settings follow one order.
    public struct Groups: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        public static let workers = Groups(rawValue: 1 << 0)
        public static let batching = Groups(rawValue: 1 << 1)
        public static let timeouts = Groups(rawValue: 1 << 2)
        public static let queue = Groups(rawValue: 1 << 3)
        public static let threads = Groups(rawValue: 1 << 4)
        public static let retries = Groups(rawValue: 1 << 5)
    }

    /// Where a setting can come from.
    public enum Source: Sendable, Hashable, CaseIterable {
        /// The register call's parameters (or a restored snapshot's recorded values).
        case registration
        /// The archive's `model-config.yaml`.
        case modelConfig
        /// The `models` JSON of `config.properties`.
        case modelsJSON
        /// The server's defaults (`default_*` keys, then built-in values).
        case server
    }

    /// TorchServe's precedence (contract §7.1), highest first, as data:
    /// - batch size and delay: the register call, then model-config.yaml, then the `models` JSON;
    /// - timeouts: model-config.yaml (an archive with a config file always decides: its value or 120 s),
    ///   then the `models` JSON, then the register call (ignored when the archive has a config file);
    /// - workers: model-config.yaml when valid, then the `models` JSON (start-up models only), then
    ///   `initial_workers`, then `default_workers_per_model` (or one per core at start-up);
    /// - queue size, intra-op threads and the retry window: model-config.yaml, then the server.
    public static let precedence: [(groups: Groups, order: [Source])] = [
        (.batching, [.registration, .modelConfig, .modelsJSON, .server]),
        (.timeouts, [.modelConfig, .modelsJSON, .registration, .server]),
        (.workers, [.modelConfig, .modelsJSON, .registration, .server]),
        ([.queue, .threads, .retries], [.modelConfig, .server]),
    ]

    /// Folds the sources in ``precedence`` order. A setting no source gives keeps its built-in default.
    public static func resolve(_ sources: [Source: Partial]) -> ModelSettings {
        var resolved = Partial()
        for (groups, order) in precedence {
            let folded = order.reduce(Partial()) { higher, source in
                higher.merged(over: sources[source]?.only(groups) ?? Partial())
            }
            resolved = resolved.merged(over: folded)
        }
        return ModelSettings(completing: resolved)
    }

    /// `partial`'s values, built-in defaults for the rest.
    public init(completing partial: Partial) {
        let defaults = ModelSettings()
        self.init(
            minWorkers: partial.minWorkers ?? defaults.minWorkers, maxWorkers: partial.maxWorkers ?? defaults.maxWorkers,
            batchSize: partial.batchSize ?? defaults.batchSize, maxBatchDelay: partial.maxBatchDelay ?? defaults.maxBatchDelay,
            responseTimeout: partial.responseTimeout ?? defaults.responseTimeout,
            startupTimeout: partial.startupTimeout ?? defaults.startupTimeout,
            jobQueueSize: partial.jobQueueSize ?? defaults.jobQueueSize,
            intraOpThreads: partial.intraOpThreads ?? defaults.intraOpThreads,
            maxRetryTimeout: partial.maxRetryTimeout ?? defaults.maxRetryTimeout, clientTimeout: partial.clientTimeout)
    }

    /// Every source of one registration, each read with TorchServe's rules for that source.
    public static func resolve(
        registration: Partial, config: ModelConfig?, overrides: ModelOverrides?, server: ServerConfiguration,
        atStartup: Bool, cores: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> ModelSettings {
        var sources: [Source: Partial] = [
            .registration: registration,
            .server: Partial(server: server, atStartup: atStartup, cores: cores),
        ]
        if let config { sources[.modelConfig] = Partial(modelConfig: config) }
        if let overrides {
            // The `models` JSON sets workers only for models loaded at start-up.
            sources[.modelsJSON] = atStartup ? overrides.settings : overrides.settings.only([.batching, .timeouts])
        }
        return resolve(sources)
    }
}

/// A value counts only when it is positive, as TorchServe reads most of these settings.
private func positive(_ value: Int?) -> Int? { value.flatMap { $0 > 0 ? $0 : nil } }

extension ModelSettings.Partial {
    /// What `model-config.yaml` says. Its workers count only as a valid pair (0 < min ≤ max); an archive
    /// with a config file always sets both timeouts (120 s when absent, as TorchServe's `ModelConfig`).
    public init(modelConfig config: ModelConfig) {
        self.init()
        if let min = positive(config.minWorkers), let max = config.maxWorkers, max >= min {
            minWorkers = min
            maxWorkers = max
        }
        batchSize = positive(config.batchSize)
        maxBatchDelay = positive(config.maxBatchDelay).map { .milliseconds($0) }
        responseTimeout = .seconds(positive(config.responseTimeout) ?? 120)
        startupTimeout = .seconds(positive(config.startupTimeout) ?? 120)
        jobQueueSize = positive(config.jobQueueSize)
        intraOpThreads = positive(config.intraOpThreads)
        // 0 is a valid window (never retry), as in TorchServe; only a negative value is ignored.
        maxRetryTimeout = config.maxRetryTimeoutInSec.flatMap { $0 >= 0 ? .seconds($0) : nil }
        clientTimeout = positive(config.clientTimeoutInMills).map { .milliseconds($0) }
    }

    /// The server's defaults: `default_workers_per_model` (at start-up, one worker per core when it is
    /// 0), the default timeouts and queue size, one intra-op thread so workers × threads stays within the
    /// cores. One thread is also what measured fastest here: ResNet-18 ran 3.5 times slower with 2
    /// intra-op threads than with 1 on the 2-core benchmark machine (benchmarks/results/2026-11-21-1951-vm.md).
    public init(server: ServerConfiguration, atStartup: Bool, cores: Int) {
        // One per core at start-up, within max_workers_per_model.
        let perCore = Swift.min(Swift.max(1, cores), server.maxWorkersPerModel)
        let workers = server.defaultWorkersPerModel > 0 ? server.defaultWorkersPerModel : atStartup ? perCore : 0
        self.init(
            minWorkers: workers, maxWorkers: workers, batchSize: 1, maxBatchDelay: .milliseconds(100),
            responseTimeout: .seconds(server.defaultResponseTimeout), startupTimeout: .seconds(server.defaultStartupTimeout),
            jobQueueSize: server.jobQueueSize, intraOpThreads: 1)
    }

    /// A register call's parameters: `initial_workers` (> 0) as both bounds, `max_batch_delay` ≥ 0 (an
    /// absent field stays absent: TorchServe's JSON-body registration would invent -10000), the rest > 0.
    public init(
        initialWorkers: Int?, batchSize: Int?, maxBatchDelayMilliseconds: Int?, responseTimeoutSeconds: Int?,
        startupTimeoutSeconds: Int?
    ) {
        self.init()
        if let initial = positive(initialWorkers) {
            minWorkers = initial
            maxWorkers = initial
        }
        self.batchSize = positive(batchSize)
        maxBatchDelay = maxBatchDelayMilliseconds.flatMap { $0 >= 0 ? .milliseconds($0) : nil }
        responseTimeout = positive(responseTimeoutSeconds).map { .seconds($0) }
        startupTimeout = positive(startupTimeoutSeconds).map { .seconds($0) }
    }
}
