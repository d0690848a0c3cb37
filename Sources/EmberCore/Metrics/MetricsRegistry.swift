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
///
/// Each labelled sample is a ``MetricSeries``. `increment`/`set`/`observe` by name and labels find it
/// under the registry's lock (hashing the label array) on every call; a caller that records the same
/// series per request resolves it once with ``series(_:labels:)`` and records through it, which takes
/// only that series' own lock.
public final class MetricsRegistry: Sendable {
    private struct State: Sendable {
        var families: [String: MetricFamily] = [:]
        var order: [String] = []
        var series: [String: [[String]: MetricSeries]] = [:]
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

    /// The series of family `name` with these label values, created on first use; nil when the family
    /// is undeclared or the label count is not the family's. A series shows in ``render(names:)`` once
    /// something was recorded in it.
    public func series(_ name: String, labels: [String]) -> MetricSeries? {
        state.withLock { state in
            guard let family = state.families[name], labels.count == family.labelNames.count else { return nil }
            if let existing = state.series[name]?[labels] { return existing }
            let created = MetricSeries(family: family, labels: labels)
            state.series[name, default: [:]][labels] = created
            return created
        }
    }

    /// Adds `amount` to a counter (or a gauge).
    public func increment(_ name: String, labels: [String], by amount: Double = 1) {
        series(name, labels: labels)?.increment(by: amount)
    }

    public func set(_ name: String, labels: [String], to value: Double) {
        series(name, labels: labels)?.set(to: value)
    }

    public func observe(_ name: String, labels: [String], _ value: Double) {
        series(name, labels: labels)?.observe(value)
    }

    /// The current value of a counter or gauge sample, if recorded.
    public func value(_ name: String, labels: [String]) -> Double? {
        let series = state.withLock { $0.series[name]?[labels] }
        return series?.value
    }

    /// Prometheus text format 0.0.4, TorchServe's flavour. `names` keeps only those families (the
    /// `name[]` query filter); nil emits all.
    public func render(names: Set<String>? = nil) -> String {
        state.withLock { state in
            var output = ""
            for name in state.order {
                guard let family = state.families[name], names?.contains(name) ?? true else { continue }
                output += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
                let series = (state.series[name] ?? [:]).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) })
                for (labels, sample) in series {
                    let recorded = sample.snapshot
                    guard recorded.recorded else { continue }
                    if family.kind == .histogram {
                        for (index, bound) in family.buckets.enumerated() {
                            output += Self.sample(
                                name + "_bucket", family.labelNames + ["le"], labels + [Self.format(bound)],
                                recorded.bucketCounts[index])
                        }
                        output += Self.sample(name + "_bucket", family.labelNames + ["le"], labels + ["+Inf"], recorded.count)
                        output += Self.sample(name + "_count", family.labelNames, labels, recorded.count)
                        output += Self.sample(name + "_sum", family.labelNames, labels, recorded.sum)
                    } else {
                        output += Self.sample(name, family.labelNames, labels, recorded.value)
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

/// One labelled sample of a family (a counter's or gauge's value, or a histogram's buckets), resolved
/// once by ``MetricsRegistry/series(_:labels:)`` and recorded into under its own lock. A call that does
/// not fit the family's kind is ignored, as the registry's by-name calls ignore it: `increment` takes
/// counters and gauges, `set` gauges, `observe` histograms.
public final class MetricSeries: Sendable {
    public let family: MetricFamily
    public let labels: [String]

    struct State: Sendable {
        var recorded = false
        var value: Double = 0
        var bucketCounts: [Double]
        var count: Double = 0
        var sum: Double = 0
    }

    private let state: Mutex<State>

    init(family: MetricFamily, labels: [String]) {
        self.family = family
        self.labels = labels
        self.state = Mutex(State(bucketCounts: Array(repeating: 0, count: family.kind == .histogram ? family.buckets.count : 0)))
    }

    public func increment(by amount: Double = 1) {
        guard family.kind != .histogram else { return }
        state.withLock { state in
            state.value += amount
            state.recorded = true
        }
    }

    public func set(to value: Double) {
        guard family.kind == .gauge else { return }
        state.withLock { state in
            state.value = value
            state.recorded = true
        }
    }

    public func observe(_ value: Double) {
        guard family.kind == .histogram else { return }
        let buckets = family.buckets
        state.withLock { state in
            for index in buckets.indices where value <= buckets[index] { state.bucketCounts[index] += 1 }
            state.count += 1
            state.sum += value
            state.recorded = true
        }
    }

    /// A counter's or gauge's value, once recorded.
    public var value: Double? {
        guard family.kind != .histogram else { return nil }
        return state.withLock { $0.recorded ? $0.value : nil }
    }

    var snapshot: State { state.withLock { $0 } }
}
