import Foundation
import Synchronization

/// The kinds of metric families TorchServe's exposition has.
public enum MetricKind: String, Sendable {
    case counter, gauge, histogram
}

/// A metric family: one name, one kind, fixed label names; samples keyed by label values.
public struct MetricFamily: Sendable, Hashable {
    public let name: String
    public let kind: MetricKind
    public let help: String
    public let labelNames: [String]
    /// Upper bounds for a histogram (+Inf is implied).
    public let buckets: [Double]

    public init(name: String, kind: MetricKind, help: String, labelNames: [String], buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets
    }
}

/// Counters, gauges and histograms with labels, rendered in TorchServe's Prometheus text format.
///
/// Written for Ember instead of using swift-prometheus: TorchServe's exposition has quirks its users'
/// scrapers and tests match on (a trailing comma inside the braces, Java's `1.0` number format), and a
/// registry that traps on a mistaken registration has no place in a server. Families are declared
/// up front (``ServerMetrics``); recording an undeclared family is ignored.
public final class MetricsRegistry: Sendable {
    private struct HistogramState: Sendable {
        var bucketCounts: [Double]
        var count: Double = 0
        var sum: Double = 0
    }

    private struct State: Sendable {
        var families: [String: MetricFamily] = [:]
        var order: [String] = []
        var values: [String: [[String]: Double]] = [:]
        var histograms: [String: [[String]: HistogramState]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func declare(_ family: MetricFamily) {
        state.withLock { state in
            guard state.families[family.name] == nil else { return }
            state.families[family.name] = family
            state.order.append(family.name)
        }
    }

    /// Adds `amount` to a counter (or a gauge).
    public func increment(_ name: String, labels: [String], by amount: Double = 1) {
        state.withLock { state in
            guard let family = state.families[name], family.kind != .histogram, labels.count == family.labelNames.count
            else { return }
            state.values[name, default: [:]][labels, default: 0] += amount
        }
    }

    public func set(_ name: String, labels: [String], to value: Double) {
        state.withLock { state in
            guard let family = state.families[name], family.kind == .gauge, labels.count == family.labelNames.count
            else { return }
            state.values[name, default: [:]][labels] = value
        }
    }

    public func observe(_ name: String, labels: [String], _ value: Double) {
        state.withLock { state in
            guard let family = state.families[name], family.kind == .histogram, labels.count == family.labelNames.count
            else { return }
            var histogram =
                state.histograms[name]?[labels] ?? HistogramState(bucketCounts: Array(repeating: 0, count: family.buckets.count))
            for (index, bound) in family.buckets.enumerated() where value <= bound {
                histogram.bucketCounts[index] += 1
            }
            histogram.count += 1
            histogram.sum += value
            state.histograms[name, default: [:]][labels] = histogram
        }
    }

    /// The current value of a counter or gauge sample, if recorded.
    public func value(_ name: String, labels: [String]) -> Double? {
        state.withLock { $0.values[name]?[labels] }
    }

    /// Prometheus text format 0.0.4, TorchServe's flavour. `names` keeps only those families (the
    /// `name[]` query filter); nil emits all.
    public func render(names: Set<String>? = nil) -> String {
        state.withLock { state in
            var output = ""
            for name in state.order {
                guard let family = state.families[name], names?.contains(name) ?? true else { continue }
                output += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
                if family.kind == .histogram {
                    for (labels, histogram) in (state.histograms[name] ?? [:]).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                        for (index, bound) in family.buckets.enumerated() {
                            output += Self.sample(
                                name + "_bucket", family.labelNames + ["le"], labels + [Self.format(bound)],
                                histogram.bucketCounts[index])
                        }
                        output += Self.sample(name + "_bucket", family.labelNames + ["le"], labels + ["+Inf"], histogram.count)
                        output += Self.sample(name + "_count", family.labelNames, labels, histogram.count)
                        output += Self.sample(name + "_sum", family.labelNames, labels, histogram.sum)
                    }
                } else {
                    for (labels, value) in (state.values[name] ?? [:]).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                        output += Self.sample(name, family.labelNames, labels, value)
                    }
                }
            }
            return output
        }
    }

    private static func sample(_ name: String, _ labelNames: [String], _ labels: [String], _ value: Double) -> String {
        var line = name + "{"
        for (key, label) in zip(labelNames, labels) {
            line += key + "=\"" + escape(label) + "\","
        }
        return line + "} " + format(value) + "\n"
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Java's `Double.toString`, which TorchServe's exposition uses: `1.0`, `6909.675`, `1.0E-4`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        let magnitude = abs(value)
        if magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e7) {
            let text = "\(value)"
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        }
        let exponent = Int(floor(log10(magnitude)))
        var mantissa = "\(value / pow(10, Double(exponent)))"
        if !mantissa.contains(".") { mantissa += ".0" }
        return mantissa + "E" + String(exponent)
    }
}
