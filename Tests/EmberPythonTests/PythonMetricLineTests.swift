import EmberCore
import Testing

@testable import EmberPython

@Suite struct PythonMetricLineTests {
    @Test func parsesCachingMetricLines() throws {
        let line = try #require(PythonMetricLine(
            "HandlerCount.Count:3.0|#ModelName:mlp,Level:Model|#type:COUNTER|#hostname:box,1700000000,req-1"))
        #expect(line.name == "HandlerCount")
        #expect(line.unit == "Count")
        #expect(line.value == 3)
        #expect(line.kind == .counter)
        #expect(line.hostname == "box")
        #expect(line.dimensions.map(\.name) == ["ModelName", "Level"])
        #expect(line.dimensions.map(\.value) == ["mlp", "Model"])
        let plain = try #require(PythonMetricLine("PredictionTime.Milliseconds:0.52|#ModelName:mlp,Level:Model|#hostname:box,1700000000"))
        #expect(plain.kind == .gauge)
        #expect(PythonMetricLine("Failed to update metric with name: x") == nil)
        #expect(PythonMetricLine("X.ms:nan|#A:b|#hostname:h,1") == nil)
    }

    @Test func recordsIntoPrometheusFamiliesButLeavesReservedNamesAlone() {
        let registry = MetricsRegistry()
        let sink = PythonMetricsSink(registry: registry, reserved: ["PredictionTime"], limit: 2)
        sink.record("Custom.Count:2|#ModelName:mlp|#type:COUNTER|#hostname:box,1")
        sink.record("Custom.Count:3|#ModelName:mlp|#type:COUNTER|#hostname:box,1")
        sink.record("PredictionTime.Milliseconds:1|#ModelName:mlp|#hostname:box,1")
        #expect(registry.value("Custom", labels: ["mlp", "box"]) == 5)
        #expect(registry.value("PredictionTime", labels: ["mlp", "box"]) == nil)
        // Another label set for a known name is ignored; new names stop at the limit.
        sink.record("Custom.Count:1|#Other:x,More:y|#type:COUNTER|#hostname:box,1")
        sink.record("Second.ms:1|#A:a|#hostname:box,1")
        sink.record("Third.ms:1|#A:a|#hostname:box,1")
        #expect(registry.value("Second", labels: ["a", "box"]) == 1)
        #expect(registry.value("Third", labels: ["a", "box"]) == nil)
        #expect(registry.render().contains("Custom{ModelName=\"mlp\",Hostname=\"box\",} 5.0"))
    }
}
