import Foundation

/// Runs blocking work (a socket read, a child process that talks to the server under test) on a
/// thread of its own. On a 2-core machine the cooperative pool has two threads; two tests blocking
/// them at once would starve the in-process servers that must answer those very calls.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
