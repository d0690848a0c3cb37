/// A moment as the worker pool sees it: the time since the process's first reading of the clock.
///
/// The pool does not keep `ContinuousClock.Instant`s: that type is not frozen, so every struct and
/// enum holding one gets its layout at run time (metadata look-ups, value witnesses for each copy,
/// runtime calls to read an enum's case), which cost several percent of a prediction's CPU time in
/// the pool's state machine. `Duration` is frozen, so a struct around it has a layout known when compiling.
public struct PoolInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since ``origin``.
    public var sinceOrigin: Duration

    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The first reading, taken once per process.
    static let origin = ContinuousClock.now

    public static var now: PoolInstant { PoolInstant(sinceOrigin: ContinuousClock.now - origin) }

    public static func < (lhs: PoolInstant, rhs: PoolInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    public static func + (lhs: PoolInstant, rhs: Duration) -> PoolInstant { PoolInstant(sinceOrigin: lhs.sinceOrigin + rhs) }
    public static func - (lhs: PoolInstant, rhs: PoolInstant) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    public var description: String { "t+\(sinceOrigin)" }
}
