import Foundation

/// Private scratch directories (mode 0700) for extracted archives and staged output.
enum TemporaryDirectory {
    /// Creates a fresh directory named `<prefix>XXXXXX` under `parent` (created if missing).
    static func make(in parent: URL, prefix: String) throws -> URL {
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw ArchiveError.ioFailure("create the directory", path: parent.path)
        }
        var template = Array(parent.appendingPathComponent(prefix + "XXXXXX").path.utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard created else { throw ArchiveError.ioFailure("create a temporary directory in", path: parent.path, errno: errno) }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Removes `url` and everything below it; a missing directory is not an error.
    static func remove(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }
}
