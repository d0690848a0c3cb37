import Synchronization

/// The series a prediction is counted in, for one model and the version as its request named it
/// (`default` when it named none), as TorchServe labels its `ts_*` series. Resolved once per pair by
/// ``ServerMetrics/predictionSeries(model:version:)``: a prediction then records through handles
/// instead of building label arrays and looking each series up (about 2 % of a prediction's CPU).
public final class PredictionSeries: Sendable {
    /// `ts_inference_requests_total`
    public let requests: MetricSeries?
    /// `ts_inference_latency_microseconds`
    public let latency: MetricSeries?
    /// `ts_queue_latency_microseconds`
    public let queueLatency: MetricSeries?
    /// `ember_server_overhead_seconds`
    public let overhead: MetricSeries?

    init(registry: MetricsRegistry, model: String, versionLabel: String, hostname: String) {
        requests = registry.series(ServerMetrics.inferenceRequests, labels: [model, versionLabel, hostname])
        latency = registry.series(ServerMetrics.inferenceLatency, labels: [model, versionLabel, hostname])
        queueLatency = registry.series(ServerMetrics.queueLatency, labels: [model, versionLabel, hostname])
        overhead = registry.series(ServerMetrics.serverOverhead, labels: [model, versionLabel])
    }
}

/// The resolved series of each model and version label seen so far. Only registered models reach it
/// (a prediction's model is looked up first), so it holds what the registry's own series hold.
final class PredictionSeriesCache: Sendable {
    struct Key: Hashable {
        let model: String
        let version: String
    }

    private let predictions = Mutex<[Key: PredictionSeries]>([:])

    func prediction(_ key: Key, registry: MetricsRegistry, hostname: String) -> PredictionSeries {
        predictions.withLock { cache in
            if let series = cache[key] { return series }
            let series = PredictionSeries(
                registry: registry, model: key.model, versionLabel: key.version, hostname: hostname)
            cache[key] = series
            return series
        }
    }
}

extension ServerMetrics {
    /// The series of predictions for `model` whose request named `version` (nil: `default`).
    public func predictionSeries(model: String, version: String?) -> PredictionSeries {
        predictionCache.prediction(
            .init(model: model, version: version ?? "default"), registry: registry, hostname: hostname)
    }
}
