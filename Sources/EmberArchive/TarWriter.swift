import Foundation

/// Writes a `.tar.gz` in the layout torch-model-archiver produces: every entry under `<name>/`.
/// Long paths and sizes over ustar's limits get a pax (`x`) header.
struct TarWriter {
    private let output: GzipWriter
    private let modificationTime = UInt64(Date().timeIntervalSince1970)

    init(path: String) throws {
        output = try GzipWriter(path: path)
    }

    func addDirectory(_ name: String) throws {
        try writeHeader(name: name.hasSuffix("/") ? name : name + "/", size: 0, mode: 0o755, type: "5")
    }

    /// Copies `source` as `name`, calling `progress` with the bytes copied so far.
    func addFile(_ name: String, from source: URL, progress: (UInt64) -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: source.path) else {
            throw ArchiveError.ioFailure("open", path: source.path)
        }
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? UInt64) ?? 0
        try writeHeader(name: name, size: size, mode: 0o644, type: "0")
        var copied: UInt64 = 0
        while copied < size {
            let data = (try? handle.read(upToCount: 1 << 20)) ?? Data()
            guard !data.isEmpty else { throw ArchiveError.ioFailure("read (file shrank while archiving)", path: source.path) }
            let usable = data.prefix(Int(min(UInt64(data.count), size - copied)))
            try usable.withUnsafeBytes { try output.write($0) }
            copied += UInt64(usable.count)
            progress(copied)
        }
        try pad(size)
    }

    /// Writes the end-of-archive marker and closes the gzip stream.
    func finish() throws {
        try [UInt8](repeating: 0, count: 1024).withUnsafeBytes { try output.write($0) }
        try output.close()
    }

    private func pad(_ size: UInt64) throws {
        let padding = Int((512 - size % 512) % 512)
        if padding > 0 { try [UInt8](repeating: 0, count: padding).withUnsafeBytes { try output.write($0) } }
    }

    private func writeHeader(name: String, size: UInt64, mode: UInt64, type: Character) throws {
        let nameBytes = Array(name.utf8)
        let needsPax = nameBytes.count > 100 || size > 0o77777777777
        if needsPax {
            var records = ""
            if nameBytes.count > 100 { records += Self.paxRecord("path", name) }
            if size > 0o77777777777 { records += Self.paxRecord("size", String(size)) }
            let data = Array(records.utf8)
            try writeBlock(name: "PaxHeader/" + String(name.suffix(80)), size: UInt64(data.count), mode: 0o644, type: "x")
            try data.withUnsafeBytes { try output.write($0) }
            try pad(UInt64(data.count))
        }
        try writeBlock(
            name: needsPax ? String(decoding: nameBytes.prefix(100), as: UTF8.self) : name,
            size: needsPax && size > 0o77777777777 ? 0 : size, mode: mode, type: type)
    }

    private func writeBlock(name: String, size: UInt64, mode: UInt64, type: Character) throws {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: UInt64, at offset: Int, length: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits, at: offset, length: length - 1)
        }
        put(name, at: 0, length: 100)
        octal(mode, at: 100, length: 8)
        octal(0, at: 108, length: 8)
        octal(0, at: 116, length: 8)
        octal(size, at: 124, length: 12)
        octal(modificationTime, at: 136, length: 12)
        put(String(type), at: 156, length: 1)
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        put("root", at: 265, length: 32)
        put("root", at: 297, length: 32)
        for index in 148..<156 { block[index] = 32 }
        let checksum = block.reduce(0) { $0 + UInt64($1) }
        octal(checksum, at: 148, length: 7)
        block[155] = 32
        try block.withUnsafeBytes { try output.write($0) }
    }

    /// `"<length> <key>=<value>\n"`, where the length counts itself.
    private static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length = String(length).count + body.utf8.count }
        return "\(length)\(body)"
    }
}
