extension Duration {
    /// The duration in seconds, as a floating-point number (for metrics and logs).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, saturating at Int64's bounds (a client can ask for any duration).
    public var milliseconds: Int64 {
        let (scaled, overflow) = components.seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return components.seconds < 0 ? .min : .max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(components.attoseconds / 1_000_000_000_000_000)
        return overflowAgain ? .max : total
    }

    public var microseconds: Double { seconds * 1e6 }

    /// Whole seconds, as TorchServe writes timeouts (describe, snapshots).
    public var wholeSeconds: Int { Int(clamping: components.seconds) }

    /// Whole milliseconds, as TorchServe writes `maxBatchDelay`.
    public var wholeMilliseconds: Int { Int(clamping: milliseconds) }
}
