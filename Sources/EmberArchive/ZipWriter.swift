import CZip
import Foundation

/// Writes a ZIP `.mar` with libzip: files at the root next to `MAR-INF/`, deflated or stored.
enum ZipWriter {
    /// Carries the progress closure through libzip's C callback.
    private final class ProgressBox {
        let report: (Double) -> Void
        init(_ report: @escaping (Double) -> Void) { self.report = report }
    }

    /// Writes `entries` (archive name, source file) to a new ZIP at `path`.
    /// - Parameter progress: called with the fraction done (0...1) while libzip compresses.
    static func write(
        _ entries: [(name: String, source: URL)], to path: String, compressed: Bool, progress: ((Double) -> Void)?
    ) throws {
        var openError: Int32 = 0
        guard let archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &openError) else {
            throw ArchiveError.ioFailure("create \(path): \(ZipReader.describe(code: openError)) for", path: path)
        }
        var closed = false
        defer { if !closed { zip_discard(archive) } }

        for entry in entries {
            guard let source = zip_source_file(archive, entry.source.path, 0, -1) else {
                throw ArchiveError.ioFailure("read", path: entry.source.path)
            }
            let index = zip_file_add(archive, entry.name, source, zip_flags_t(ZIP_FL_ENC_UTF_8))
            guard index >= 0 else {
                zip_source_free(source)
                throw ArchiveError.ioFailure("add \(entry.name) to", path: path)
            }
            let method = compressed ? ZIP_CM_DEFLATE : ZIP_CM_STORE
            zip_set_file_compression(archive, UInt64(index), Int32(method), 0)
            zip_file_set_external_attributes(archive, UInt64(index), 0, UInt8(ZIP_OPSYS_UNIX), UInt32(0o100644) << 16)
        }

        let box = progress.map(ProgressBox.init)
        if let box {
            let context = Unmanaged.passUnretained(box).toOpaque()
            zip_register_progress_callback_with_state(
                archive, 0.01,
                { _, fraction, context in
                    guard let context else { return }
                    Unmanaged<ProgressBox>.fromOpaque(context).takeUnretainedValue().report(fraction)
                }, nil, context)
        }
        let result = withExtendedLifetime(box) { zip_close(archive) }
        guard result == 0 else {
            let reason = zip_strerror(archive).map { String(cString: $0) } ?? "unknown error"
            throw ArchiveError.ioFailure("write the archive (\(reason))", path: path)
        }
        closed = true
    }
}
