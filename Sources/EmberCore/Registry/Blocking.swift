import Foundation

/// Runs blocking work on a thread of its own and awaits its result, so the Swift concurrency pool
/// never blocks (archive extraction, waiting for workers, draining pools).
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "ember-blocking"
            thread.start()
        }
    }
}
