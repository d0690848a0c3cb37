import EmberHTTP
import Foundation
import Logging
import ServiceLifecycle

/// Re-reads the operator's key file (`token_key_file`) every `interval` on a thread of its own, so the
/// blocking file I/O stays off the event loops and the concurrency pool. The file is read again rather
/// than watched: Kubernetes updates a mounted Secret by swapping a symlink to a new directory, which
/// inotify on the file itself would miss. A changed file that cannot be used leaves the previous keys in
/// place (logged once per distinct reason), so a half-written Secret locks nobody out and opens nothing.
struct KeyFileWatcher: Service {
    let tokens: TokenAuthorization
    var interval: Duration = .seconds(1)
    let logger: Logger

    func run() async throws {
        let stop = StopSignal()
        let thread = Thread { [tokens, interval, logger] in
            var lastRefusal: String?
            while !stop.wait(for: interval) {
                switch tokens.reload() {
                case .unchanged:
                    break
                case .replaced:
                    lastRefusal = nil
                    logger.notice("token keys replaced from the operator's key file")
                case .refused(let reason):
                    if reason != lastRefusal {
                        logger.error("the operator's key file changed but cannot be used; the previous keys stay",
                                     metadata: ["reason": "\(reason)"])
                    }
                    lastRefusal = reason
                }
            }
        }
        thread.name = "ember-key-file"
        thread.start()
        try? await gracefulShutdown()
        stop.signal()
    }
}

/// A one-way flag a thread can sleep on and be woken by at once.
final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false  // guarded by condition

    func signal() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits up to `duration`; true once `signal()` has been called.
    func wait(for duration: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while !stopped, condition.wait(until: deadline) {}
        return stopped
    }
}
