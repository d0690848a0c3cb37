import Foundation

/// Prints a line to stderr every 10% while archiving, when the serialized file is big enough to wait for.
final class ProgressReporter {
    private static let threshold: UInt64 = 8 << 20
    private var lastTenth = -1

    /// `nil` when the serialized file is small (or absent): small archives finish before progress matters.
    init?(serializedFile: String?) {
        guard let serializedFile,
            let size = (try? FileManager.default.attributesOfItem(atPath: serializedFile)[.size]) as? NSNumber,
            size.uint64Value >= Self.threshold
        else { return nil }
    }

    func report(done: UInt64, total: UInt64) {
        guard total > 0 else { return }
        let tenth = Int(min(done, total) * 10 / total)
        guard tenth > lastTenth else { return }
        lastTenth = tenth
        FileHandle.standardError.write(Data("Archiving: \(tenth * 10)% (\(done >> 20) of \(total >> 20) MiB)\n".utf8))
    }

    func finish() {
        if lastTenth < 10 { lastTenth = 9 }
        report(done: 1, total: 1)
    }
}
