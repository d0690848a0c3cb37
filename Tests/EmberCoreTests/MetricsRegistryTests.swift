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
}
