@testable import EmberCore
import Testing

@Suite struct MetricsRegistryTests {
    @Test func rendersTorchServesExpositionShape() {
        let metrics = ServerMetrics(hostname: "vm")
        metrics.recordResponse(status: 200)
        metrics.recordResponse(status: 201)
        metrics.recordResponse(status: 404)
        metrics.recordResponse(status: 302)
        metrics.registry.increment(ServerMetrics.inferenceRequests, labels: ["mlp", "default", "vm"])
        let text = metrics.registry.render()
        #expect(text.contains("# HELP Requests2XX Torchserve prometheus counter metric with unit: Count\n"))
        #expect(text.contains("# TYPE Requests2XX counter\n"))
        #expect(text.contains("Requests2XX{Level=\"Host\",Hostname=\"vm\",} 2.0\n"))
        #expect(text.contains("Requests4XX{Level=\"Host\",Hostname=\"vm\",} 1.0\n"))
        #expect(text.contains("Requests5XX{Level=\"Host\",Hostname=\"vm\",} 1.0\n"))
        #expect(text.contains("ts_inference_requests_total{model_name=\"mlp\",model_version=\"default\",hostname=\"vm\",} 1.0\n"))
        // Families without samples still print HELP and TYPE.
        #expect(text.contains("# TYPE ts_queue_latency_microseconds counter\n"))
    }

    @Test func nameFilterKeepsOnlyThoseFamilies() {
        let metrics = ServerMetrics(hostname: "vm")
        metrics.recordResponse(status: 200)
        let text = metrics.registry.render(names: ["Requests2XX"])
        #expect(text.hasPrefix("# HELP Requests2XX"))
        #expect(!text.contains("ts_inference"))
        #expect(metrics.registry.render(names: ["nope"]).isEmpty)
    }

    @Test func histogramsCountIntoBuckets() {
        let metrics = ServerMetrics(hostname: "vm")
        for size in [1.0, 3, 8, 8, 100] {
            metrics.registry.observe(ServerMetrics.batchSize, labels: ["mlp", "1.0"], size)
        }
        let text = metrics.registry.render(names: [ServerMetrics.batchSize])
        #expect(text.contains("ember_batch_size_bucket{model_name=\"mlp\",model_version=\"1.0\",le=\"1.0\",} 1.0\n"))
        #expect(text.contains("ember_batch_size_bucket{model_name=\"mlp\",model_version=\"1.0\",le=\"8.0\",} 4.0\n"))
        #expect(text.contains("ember_batch_size_bucket{model_name=\"mlp\",model_version=\"1.0\",le=\"+Inf\",} 5.0\n"))
        #expect(text.contains("ember_batch_size_count{model_name=\"mlp\",model_version=\"1.0\",} 5.0\n"))
        #expect(text.contains("ember_batch_size_sum{model_name=\"mlp\",model_version=\"1.0\",} 120.0\n"))
    }

    @Test func wrongLabelCountsAndUndeclaredNamesAreIgnored() {
        let registry = MetricsRegistry()
        registry.declare(MetricFamily(name: "x", kind: .counter, help: "h", labelNames: ["a"]))
        registry.increment("x", labels: ["1", "2"])
        registry.increment("y", labels: [])
        #expect(registry.value("x", labels: ["1", "2"]) == nil)
        #expect(registry.render() == "# HELP x h\n# TYPE x counter\n")
    }

    @Test func javaNumberFormat() {
        #expect(MetricsRegistry.format(1) == "1.0")
        #expect(MetricsRegistry.format(6909.675) == "6909.675")
        #expect(MetricsRegistry.format(0.0001) == "1.0E-4")
        #expect(MetricsRegistry.format(12_345_678) == "1.2345678E7")
        #expect(MetricsRegistry.format(0) == "0.0")
        #expect(MetricsRegistry.format(.infinity) == "+Inf")
    }

    @Test func resolvedSeriesRecordWhatByNameCallsRecord() {
        let byName = ServerMetrics(hostname: "vm")
        let resolved = ServerMetrics(hostname: "vm")
        let requests = resolved.registry.series(ServerMetrics.inferenceRequests, labels: ["mlp", "default", "vm"])
        let batches = resolved.registry.series(ServerMetrics.batchSize, labels: ["mlp", "1.0"])
        let depth = resolved.registry.series(ServerMetrics.queueDepth, labels: ["mlp", "1.0"])
        for step in 0..<5 {
            byName.registry.increment(ServerMetrics.inferenceRequests, labels: ["mlp", "default", "vm"], by: 2)
            requests?.increment(by: 2)
            byName.registry.observe(ServerMetrics.batchSize, labels: ["mlp", "1.0"], Double(step * 3))
            batches?.observe(Double(step * 3))
            byName.registry.set(ServerMetrics.queueDepth, labels: ["mlp", "1.0"], to: Double(step))
            depth?.set(to: Double(step))
        }
        #expect(resolved.registry.render() == byName.registry.render())
        #expect(resolved.registry.value(ServerMetrics.inferenceRequests, labels: ["mlp", "default", "vm"]) == 10)
        #expect(requests?.value == 10)
        #expect(depth?.value == 4)
        // One series per labels: by-name calls and handles add into the same sample.
        byName.registry.increment(ServerMetrics.inferenceRequests, labels: ["mlp", "default", "vm"])
        #expect(resolved.registry.series(ServerMetrics.inferenceRequests, labels: ["mlp", "default", "vm"]) === requests)
    }

    @Test func seriesMisuseIsIgnoredAndUnrecordedSeriesAreNotRendered() throws {
        let registry = MetricsRegistry()
        registry.declare(MetricFamily(name: "c", kind: .counter, help: "h", labelNames: ["a"]))
        registry.declare(MetricFamily(name: "h", kind: .histogram, help: "h", labelNames: ["a"], buckets: [1]))
        #expect(registry.series("nope", labels: ["x"]) == nil)
        #expect(registry.series("c", labels: ["x", "y"]) == nil)
        let counter = try #require(registry.series("c", labels: ["x"]))
        let histogram = try #require(registry.series("h", labels: ["x"]))
        #expect(registry.render() == "# HELP c h\n# TYPE c counter\n# HELP h h\n# TYPE h histogram\n")
        counter.set(to: 5)
        counter.observe(1)
        histogram.increment()
        histogram.set(to: 2)
        #expect(counter.value == nil && histogram.value == nil)
        #expect(registry.value("c", labels: ["x"]) == nil)
        counter.increment()
        histogram.observe(0.5)
        #expect(registry.render().contains("c{a=\"x\",} 1.0\n"))
        #expect(registry.render().contains("h_bucket{a=\"x\",le=\"1.0\",} 1.0\n"))
    }

    @Test func seriesCountEveryConcurrentRecording() async {
        let registry = ServerMetrics(hostname: "vm").registry
        let labels = ["mlp", "default", "vm"]
        let series = registry.series(ServerMetrics.inferenceRequests, labels: labels)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<1000 {
                        if task.isMultiple(of: 2) {
                            series?.increment()
                        } else {
                            registry.increment(ServerMetrics.inferenceRequests, labels: labels)
                        }
                    }
                }
            }
        }
        #expect(registry.value(ServerMetrics.inferenceRequests, labels: labels) == 8000)
    }
}
