import Foundation

/// Every metric Ember exposes, declared once: TorchServe's default set (contract §4.4, names,
/// labels and help texts as TorchServe writes them) and Ember's additions for autoscalers.
public struct ServerMetrics: Sendable {
    public let registry: MetricsRegistry
    public let hostname: String
    /// Requests2XX, 4XX and 5XX: one is counted per response, resolved once.
    private let responseCounters: [MetricSeries?]
    let predictionCache = PredictionSeriesCache()

    // TorchServe's frontend metrics.
    public static let requests2XX = "Requests2XX"
    public static let requests4XX = "Requests4XX"
    public static let requests5XX = "Requests5XX"
    public static let inferenceRequests = "ts_inference_requests_total"
    public static let inferenceLatency = "ts_inference_latency_microseconds"
    public static let queueLatency = "ts_queue_latency_microseconds"
    public static let queueTime = "QueueTime"
    public static let workerThreadTime = "WorkerThreadTime"
    public static let workerLoadTime = "WorkerLoadTime"
    public static let handlerTime = "HandlerTime"
    public static let predictionTime = "PredictionTime"
    public static let memoryUsed = "MemoryUsed"
    public static let memoryAvailable = "MemoryAvailable"
    public static let memoryUtilization = "MemoryUtilization"
    public static let cpuUtilization = "CPUUtilization"
    public static let diskUsage = "DiskUsage"
    public static let diskUtilization = "DiskUtilization"
    public static let diskAvailable = "DiskAvailable"

    // Ember's additions, per model and version.
    public static let requestLatencySeconds = "ember_request_latency_seconds"
    public static let queueLatencySeconds = "ember_queue_latency_seconds"
    public static let batchSize = "ember_batch_size"
    public static let queueDepth = "ember_queue_depth"
    public static let serverOverhead = "ember_server_overhead_seconds"
    public static let requestsCancelled = "ember_requests_cancelled_total"
    public static let warmUpSeconds = "ember_model_warmup_seconds"

    public init(registry: MetricsRegistry = MetricsRegistry(), hostname: String = ProcessInfo.processInfo.hostName) {
        self.registry = registry
        self.hostname = hostname
        let host = ["Level", "Hostname"]
        let model = ["model_name", "model_version", "hostname"]
        func help(_ kind: MetricKind, _ unit: String) -> String {
            "Torchserve prometheus \(kind.rawValue) metric with unit: \(unit)"
        }
        let families = [
            MetricFamily(name: Self.requests2XX, kind: .counter, help: help(.counter, "Count"), labelNames: host),
            MetricFamily(name: Self.requests4XX, kind: .counter, help: help(.counter, "Count"), labelNames: host),
            MetricFamily(name: Self.requests5XX, kind: .counter, help: help(.counter, "Count"), labelNames: host),
            MetricFamily(name: Self.inferenceRequests, kind: .counter, help: help(.counter, "Count"), labelNames: model),
            MetricFamily(
                name: Self.inferenceLatency, kind: .counter, help: help(.counter, "Microseconds"), labelNames: model),
            MetricFamily(name: Self.queueLatency, kind: .counter, help: help(.counter, "Microseconds"), labelNames: model),
            MetricFamily(name: Self.queueTime, kind: .gauge, help: help(.gauge, "Milliseconds"), labelNames: host),
            MetricFamily(name: Self.workerThreadTime, kind: .gauge, help: help(.gauge, "Milliseconds"), labelNames: host),
            MetricFamily(
                name: Self.workerLoadTime, kind: .gauge, help: help(.gauge, "Milliseconds"),
                labelNames: ["WorkerName"] + host),
            MetricFamily(
                name: Self.handlerTime, kind: .gauge, help: help(.gauge, "ms"), labelNames: ["ModelName", "Level", "Hostname"]),
            MetricFamily(
                name: Self.predictionTime, kind: .gauge, help: help(.gauge, "ms"),
                labelNames: ["ModelName", "Level", "Hostname"]),
            MetricFamily(name: Self.memoryUsed, kind: .gauge, help: help(.gauge, "Megabytes"), labelNames: host),
            MetricFamily(name: Self.memoryAvailable, kind: .gauge, help: help(.gauge, "Megabytes"), labelNames: host),
            MetricFamily(name: Self.memoryUtilization, kind: .gauge, help: help(.gauge, "Percent"), labelNames: host),
            MetricFamily(name: Self.cpuUtilization, kind: .gauge, help: help(.gauge, "Percent"), labelNames: host),
            MetricFamily(name: Self.diskUsage, kind: .gauge, help: help(.gauge, "Gigabytes"), labelNames: host),
            MetricFamily(name: Self.diskUtilization, kind: .gauge, help: help(.gauge, "Percent"), labelNames: host),
            MetricFamily(name: Self.diskAvailable, kind: .gauge, help: help(.gauge, "Gigabytes"), labelNames: host),
            MetricFamily(
                name: Self.requestLatencySeconds, kind: .histogram,
                help: "Time from receiving an inference request to its response, in seconds.",
                labelNames: ["model_name", "model_version"],
                buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
            MetricFamily(
                name: Self.queueLatencySeconds, kind: .histogram,
                help: "Time an inference request waited in its model's queue, in seconds.",
                labelNames: ["model_name", "model_version"],
                buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]),
            MetricFamily(
                name: Self.batchSize, kind: .histogram, help: "Requests per batch sent to the model.",
                labelNames: ["model_name", "model_version"], buckets: [1, 2, 4, 8, 16, 32, 64, 128]),
            MetricFamily(
                name: Self.queueDepth, kind: .gauge, help: "Requests waiting in the model's queue.",
                labelNames: ["model_name", "model_version"]),
            MetricFamily(
                name: Self.serverOverhead, kind: .histogram,
                help: "Server-side time of an inference request minus the model's forward time, in seconds.",
                labelNames: ["model_name", "model_version"],
                buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05]),
            MetricFamily(
                name: Self.requestsCancelled, kind: .counter,
                help: "Queued inference requests withdrawn because their client went away.",
                labelNames: ["model_name", "model_version"]),
            MetricFamily(
                name: Self.warmUpSeconds, kind: .gauge,
                help: "The warm-up forward at load (zeros of the declared input shape, batch 1), in seconds.",
                labelNames: ["model_name", "model_version"]),
        ]
        for family in families { registry.declare(family) }
        responseCounters = [Self.requests2XX, Self.requests4XX, Self.requests5XX].map {
            registry.series($0, labels: ["Host", hostname])
        }
    }

    /// Counts a response by status class (TorchServe counts 1xx and 3xx as 5XX).
    public func recordResponse(status: Int) {
        let index =
            switch status {
            case 200..<300: 0
            case 400..<500: 1
            default: 2
            }
        responseCounters[index]?.increment()
    }
}
