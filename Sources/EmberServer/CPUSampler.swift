import Foundation
import Synchronization

/// Host CPU utilisation in percent between two scrapes, from /proc/stat.
final class CPUSampler: Sendable {
    static let shared = CPUSampler()

    private let last = Mutex<(busy: Double, total: Double)?>(nil)

    func utilization() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return 0 }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 4 else { return 0 }
        let total = fields.reduce(0, +)
        let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
        let busy = total - idle
        return last.withLock { previous in
            defer { previous = (busy, total) }
            guard let previous, total > previous.total else { return 0 }
            return (busy - previous.busy) / (total - previous.total) * 100
        }
    }
}
