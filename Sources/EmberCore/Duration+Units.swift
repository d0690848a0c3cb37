extension Duration {
    /// The duration in seconds, as a floating-point number (for metrics and logs).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    public var microseconds: Double { seconds * 1e6 }

    /// Whole seconds, as TorchServe writes timeouts (describe, snapshots).
    public var wholeSeconds: Int { Int(clamping: components.seconds) }

    /// Whole milliseconds, as TorchServe writes `maxBatchDelay`.
    public var wholeMilliseconds: Int { Int(clamping: milliseconds) }
}
