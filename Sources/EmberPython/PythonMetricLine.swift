import EmberCore
import Synchronization

/// One `[METRICS]` line of `ts.metrics`: `Name.Unit:value|#Dim:val,Dim:val|#type:GAUGE|#hostname:h,ts[,request]`
/// (the `#type` part only from caching metrics).
struct PythonMetricLine: Equatable {
    var name: String
    var unit: String
    var value: Double
    var dimensions: [(name: String, value: String)]
    var kind: MetricKind
    var hostname: String

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.name == rhs.name && lhs.unit == rhs.unit && lhs.value == rhs.value && lhs.kind == rhs.kind
            && lhs.hostname == rhs.hostname && lhs.dimensions.map(\.name) == rhs.dimensions.map(\.name)
            && lhs.dimensions.map(\.value) == rhs.dimensions.map(\.value)
    }

    /// Parses the text after `[METRICS]`; nil for anything else (TorchServe logs its own errors there).
    init?(_ text: String) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count >= 2, let colon = parts[0].lastIndex(of: ":") else { return nil }
        let qualified = parts[0][..<colon]
        guard let dot = qualified.lastIndex(of: "."), let value = Double(parts[0][parts[0].index(after: colon)...]),
            value.isFinite
        else { return nil }
        name = String(qualified[..<dot])
        unit = String(qualified[qualified.index(after: dot)...])
        self.value = value
        guard !name.isEmpty, parts[1].hasPrefix("#") else { return nil }
        dimensions = parts[1].dropFirst().split(separator: ",").compactMap { pair -> (name: String, value: String)? in
            guard let separator = pair.firstIndex(of: ":") else { return nil }
            return (name: String(pair[..<separator]), value: String(pair[pair.index(after: separator)...]))
        }
        kind = .gauge
        hostname = ""
        for part in parts.dropFirst(2) {
            if part.hasPrefix("#type:") {
                kind = part.dropFirst(6).uppercased() == "COUNTER" ? .counter : .gauge
            } else if part.hasPrefix("#hostname:") {
                hostname = String(part.dropFirst(10).split(separator: ",").first ?? "")
            }
        }
    }
}

/// Turns the workers' `[METRICS]` lines into Prometheus families: one per metric name, labelled by its
/// dimensions and `Hostname` as TorchServe's Prometheus mode does. Names the server already records
/// (HandlerTime, PredictionTime …) are left to it; at most `limit` new families, so a handler cannot
/// grow the registry without bound.
final class PythonMetricsSink: Sendable {
    private let registry: MetricsRegistry
    private let reserved: Set<String>
    private let limit: Int
    private let declared = Mutex<[String: [String]]>([:])

    init(registry: MetricsRegistry, reserved: Set<String>, limit: Int = 100) {
        self.registry = registry
        self.reserved = reserved
        self.limit = limit
    }

    func record(_ text: String) {
        guard let metric = PythonMetricLine(text) else { return }
        let name = Self.prometheusName(metric.name)
        guard !reserved.contains(name) else { return }
        let labelNames = metric.dimensions.map { Self.prometheusName($0.name) } + ["Hostname"]
        let accepted = declared.withLock { declared -> Bool in
            if let known = declared[name] { return known == labelNames }
            guard declared.count < limit else { return false }
            declared[name] = labelNames
            return true
        }
        guard accepted else { return }
        registry.declare(
            MetricFamily(name: name, kind: metric.kind, help: "Torchserve prometheus \(metric.kind.rawValue) metric with unit: \(metric.unit)",
                         labelNames: labelNames))
        let labels = metric.dimensions.map(\.value) + [metric.hostname]
        switch metric.kind {
        case .counter: registry.increment(name, labels: labels, by: metric.value)
        case .gauge, .histogram: registry.set(name, labels: labels, to: metric.value)
        }
    }

    static func prometheusName(_ text: String) -> String {
        var output = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            let allowed = scalar == "_" || scalar == ":" || (scalar.isASCII && scalar.properties.isAlphabetic)
                || (index > 0 && scalar.isASCII && ("0"..."9").contains(scalar))
            output.unicodeScalars.append(allowed ? scalar : "_")
        }
        return output.isEmpty ? "_" : output
    }
}
