import CZip
import Foundation

/// Extracts a ZIP `.mar` with libzip.
enum ZipReader {
    private static let symlinkMode: UInt32 = 0o120000
    private static let fileTypeMask: UInt32 = 0o170000
    private static let maxLinkTargetLength = 4096

    /// Extracts every entry of the ZIP at `path` into `target`.
    /// - Returns: `.zipStore` when every file entry is stored uncompressed, else `.zip`.
    static func extract(_ path: String, into target: ExtractionTarget) throws -> ArchiveFormat {
        var openError: Int32 = 0
        guard let archive = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &openError) else {
            if openError == ZIP_ER_EXISTS { throw ArchiveError.duplicateEntry("(an entry name, reported by libzip)") }
            throw ArchiveError.corruptArchive(path, reason: describe(code: openError))
        }
        defer { zip_discard(archive) }

        let count = zip_get_num_entries(archive, 0)
        guard count >= 0 else { throw ArchiveError.corruptArchive(path, reason: "cannot count the entries") }
        if count > Int64(target.limits.maxEntryCount) {
            throw ArchiveError.entryLimitExceeded(limit: target.limits.maxEntryCount)
        }

        var stats: [zip_stat_t] = []
        var declaredTotal: UInt64 = 0
        for index in 0..<UInt64(count) {
            var info = zip_stat_t()
            zip_stat_init(&info)
            guard zip_stat_index(archive, index, 0, &info) == 0, info.name != nil else {
                throw ArchiveError.corruptArchive(path, reason: lastError(archive))
            }
            declaredTotal &+= info.size
            stats.append(info)
        }
        try target.checkDeclaredSize(declaredTotal)

        var everyFileStored = true
        for info in stats {
            let name = info.name.map { String(cString: $0) } ?? ""
            let isDirectory = name.hasSuffix("/")
            let components = try target.admit(entry: name, isDirectory: isDirectory)
            if isDirectory {
                try target.makeDirectory(components)
                continue
            }
            if info.comp_method != UInt16(ZIP_CM_STORE) { everyFileStored = false }
            let mode = unixMode(archive, index: info.index)
            if mode & fileTypeMask == symlinkMode {
                let linkTarget = try readLinkTarget(archive, info: info, path: path, entry: name)
                try target.addSymlink(components, target: linkTarget, entry: name)
                continue
            }
            try target.writeFile(components, executable: mode & 0o111 != 0) { write in
                try copyEntry(archive, info: info, path: path, to: write)
            }
        }
        try target.finish()
        return everyFileStored ? .zipStore : .zip
    }

    /// The Unix mode bits from the external attributes, or 0 when the entry was not made on Unix.
    private static func unixMode(_ archive: OpaquePointer, index: UInt64) -> UInt32 {
        var system: UInt8 = 0
        var attributes: UInt32 = 0
        guard zip_file_get_external_attributes(archive, index, 0, &system, &attributes) == 0,
            system == UInt8(ZIP_OPSYS_UNIX)
        else { return 0 }
        return attributes >> 16
    }

    private static func copyEntry(
        _ archive: OpaquePointer, info: zip_stat_t, path: String,
        to write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let file = zip_fopen_index(archive, info.index, 0) else {
            throw ArchiveError.corruptArchive(path, reason: lastError(archive))
        }
        defer { zip_fclose(file) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        while true {
            guard let base = buffer.baseAddress else { return }
            let count = zip_fread(file, base, UInt64(buffer.count))
            if count < 0 {
                let reason = zip_error_strerror(zip_file_get_error(file)).map { String(cString: $0) } ?? "read error"
                throw ArchiveError.corruptArchive(path, reason: reason)
            }
            if count == 0 { break }
            total += UInt64(count)
            try write(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(count)]))
        }
        guard total == info.size else {
            throw ArchiveError.corruptArchive(path, reason: "entry size does not match its header")
        }
    }

    private static func readLinkTarget(_ archive: OpaquePointer, info: zip_stat_t, path: String, entry: String) throws
        -> String
    {
        guard info.size <= UInt64(maxLinkTargetLength) else {
            throw ArchiveError.unsafeLink(entry: entry, target: "(\(info.size) bytes)")
        }
        var bytes: [UInt8] = []
        try copyEntry(archive, info: info, path: path) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func lastError(_ archive: OpaquePointer) -> String {
        zip_strerror(archive).map { String(cString: $0) } ?? "unknown libzip error"
    }

    static func describe(code: Int32) -> String {
        var error = zip_error_t()
        zip_error_init_with_code(&error, code)
        defer { zip_error_fini(&error) }
        return zip_error_strerror(&error).map { String(cString: $0) } ?? "libzip error \(code)"
    }
}
