import CZlib
import Foundation

/// A gzip file read through zlib, reporting truncation and corruption instead of a short read.
final class GzipReader {
    private let file: gzFile
    private let path: String

    init(path: String) throws {
        guard let file = gzopen(path, "rb") else { throw ArchiveError.ioFailure("open", path: path, errno: errno) }
        gzbuffer(file, 1 << 17)
        self.file = file
        self.path = path
    }

    deinit { gzclose_r(file) }

    /// Fills `buffer` completely, or returns how many bytes were left at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            guard let base = buffer.baseAddress else { return 0 }
            let chunk = UInt32(min(buffer.count - filled, 1 << 30))
            let count = gzread(file, base + filled, chunk)
            if count < 0 || (count == 0 && hasError) { throw ArchiveError.corruptArchive(path, reason: errorText) }
            if count == 0 { break }
            filled += Int(count)
        }
        return filled
    }

    private var hasError: Bool {
        var code: Int32 = 0
        _ = gzerror(file, &code)
        return code != Z_OK
    }

    private var errorText: String {
        var code: Int32 = 0
        let message = gzerror(file, &code).map { String(cString: $0) } ?? ""
        return message.isEmpty ? "gzip error \(code)" : message
    }
}

/// A gzip file written through zlib.
final class GzipWriter {
    private var file: gzFile?
    private let path: String

    init(path: String, level: Int = 6) throws {
        guard let file = gzopen(path, "wb\(level)") else { throw ArchiveError.ioFailure("create", path: path, errno: errno) }
        self.file = file
        self.path = path
    }

    deinit { if let file { gzclose_w(file) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file, let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = UInt32(min(bytes.count - offset, 1 << 30))
            let written = gzwrite(file, base + offset, chunk)
            guard written > 0 else { throw ArchiveError.ioFailure("write", path: path) }
            offset += Int(written)
        }
    }

    /// Flushes and closes; only a successful close means the file is complete.
    func close() throws {
        guard let file else { return }
        self.file = nil
        guard gzclose_w(file) == Z_OK else { throw ArchiveError.ioFailure("finish", path: path) }
    }
}
