extension ServerMetrics {
    /// What a model version's pool reports, into this registry: batch sizes, TorchServe's handler and
    /// prediction time gauges, queue waits, depth, withdrawals, load and warm-up times, each request's
    /// time in the pool (`ember_request_latency_seconds`). The series a batch
    /// records are resolved once here, not looked up by label arrays per batch.
    public func poolObserver(model name: String, version: String) -> WorkerPool.Observer {
        let labels = [name, version]
        let registry = self.registry
        let modelLevel = [name, "Model", hostname]
        let batchSize = registry.series(ServerMetrics.batchSize, labels: labels)
        let predictionTime = registry.series(ServerMetrics.predictionTime, labels: modelLevel)
        let handlerTime = registry.series(ServerMetrics.handlerTime, labels: modelLevel)
        let queueLatency = registry.series(ServerMetrics.queueLatencySeconds, labels: labels)
        let queueTime = registry.series(ServerMetrics.queueTime, labels: ["Host", hostname])
        let queueDepth = registry.series(ServerMetrics.queueDepth, labels: labels)
        let cancelled = registry.series(ServerMetrics.requestsCancelled, labels: labels)
        let requestLatency = registry.series(ServerMetrics.requestLatencySeconds, labels: labels)
        var observer = WorkerPool.Observer(
            batch: { size, waits, inference in
                batchSize?.observe(Double(size))
                predictionTime?.set(to: inference.seconds * 1e3)
                handlerTime?.set(to: inference.seconds * 1e3)
                // ts_queue_latency_microseconds is counted where the URL's version is known (InferenceOutput.queueTime).
                for wait in waits { queueLatency?.observe(wait.seconds) }
                if let last = waits.last { queueTime?.set(to: last.seconds * 1e3) }
            },
            queueDepth: { depth in queueDepth?.set(to: Double(depth)) },
            loaded: { duration in
                registry.set(
                    ServerMetrics.workerLoadTime, labels: ["W-\(name)_\(version)", "Host", hostname],
                    to: duration.seconds * 1e3)
            },
            cancelled: { cancelled?.increment() })
        observer.warmedUp = { registry.set(ServerMetrics.warmUpSeconds, labels: labels, to: $0.seconds) }
        observer.answered = { requestLatency?.observe($0.seconds) }
        return observer
    }
}
