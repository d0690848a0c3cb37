import Foundation

/// Prints a line to stderr every 10% while archiving, when the serialized file is big enough to wait for.
final class ProgressReporter {
    private static let threshold: UInt64 = 8 << 20
    private var lastTenth = -1
    private var lastTotal: UInt64 = 0

    /// `nil` when the serialized file is small (or absent): small archives finish before progress matters.
    init?(serializedFile: String?) {
        guard let serializedFile,
            let size = (try? FileManager.default.attributesOfItem(atPath: serializedFile)[.size]) as? NSNumber,
            size.uint64Value >= Self.threshold
        else { return nil }
    }

    func report(done: UInt64, total: UInt64) {
        guard total > 0 else { return }
        lastTotal = total
        let tenth = Int(min(done, total) * 10 / total)
        guard tenth > lastTenth else { return }
        lastTenth = tenth
        FileHandle.standardError.write(Data("Archiving: \(tenth * 10)% (\(done >> 20) of \(total >> 20) MiB)\n".utf8))
    }

    /// Prints the final 100% line if the last callback stopped short of it.
    func finish() {
        report(done: max(lastTotal, 1), total: max(lastTotal, 1))
    }
}
