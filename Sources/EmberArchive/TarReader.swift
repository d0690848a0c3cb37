/// Extracts a `.tar.gz`: ustar with pax (`x`) extended headers and GNU long names (`L`, `K`); global pax
/// headers (`g`) are skipped; anything but files, directories and links is refused.
enum TarReader {
    private static let blockSize = 512

    static func extract(_ path: String, into target: ExtractionTarget) throws {
        let input = try GzipReader(path: path)
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { header.deallocate() }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }

        var overrides: [String: String] = [:]
        var sawEnd = false
        while true {
            let count = try input.read(into: header)
            if count == 0 { break }
            guard count == blockSize else { throw ArchiveError.corruptArchive(path, reason: "tar header cut short") }
            let block = UnsafeRawBufferPointer(header)
            if block.allSatisfy({ $0 == 0 }) {
                sawEnd = true
                break
            }
            guard checksumMatches(block) else { throw ArchiveError.corruptArchive(path, reason: "bad tar header checksum") }

            let type = block[156]
            var size = try overrides["size"].flatMap { UInt64($0) } ?? number(block, offset: 124, length: 12, path: path)
            var name = overrides["path"] ?? headerName(block)
            let linkName = overrides["linkpath"] ?? string(block, offset: 157, length: 100)
            overrides = [:]

            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "g"):
                guard size <= 1 << 20 else { throw ArchiveError.corruptArchive(path, reason: "oversized tar metadata header") }
                let data = try readData(input, size: Int(size), path: path)
                if type == UInt8(ascii: "x") {
                    overrides = try paxRecords(data, path: path)
                } else if type == UInt8(ascii: "L") {
                    overrides["path"] = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                } else if type == UInt8(ascii: "K") {
                    overrides["linkpath"] = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                }
                continue
            case UInt8(ascii: "5"):
                if !name.hasSuffix("/") { name += "/" }
                let components = try target.admit(entry: name, isDirectory: true)
                try target.makeDirectory(components)
                size = 0
            case UInt8(ascii: "2"):
                let components = try target.admit(entry: name, isDirectory: false)
                try target.addSymlink(components, target: linkName, entry: name)
                size = 0
            case UInt8(ascii: "1"):
                let components = try target.admit(entry: name, isDirectory: false)
                try target.addHardLink(components, target: linkName, entry: name)
                size = 0
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let components = try target.admit(entry: name, isDirectory: false)
                let mode = try number(block, offset: 100, length: 8, path: path)
                try target.writeFile(components, executable: mode & 0o111 != 0) { write in
                    var remaining = size
                    while remaining > 0 {
                        let wanted = Int(min(UInt64(chunk.count), remaining))
                        let slice = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<wanted])
                        guard try input.read(into: slice) == wanted else {
                            throw ArchiveError.corruptArchive(path, reason: "tar entry '\(name)' cut short")
                        }
                        try write(UnsafeRawBufferPointer(slice))
                        remaining -= UInt64(wanted)
                    }
                }
            default:
                throw ArchiveError.unsupportedEntryType(entry: name, type: "tar type '\(Character(Unicode.Scalar(type)))'")
            }
            try skipPadding(input, size: size, path: path, scratch: chunk)
        }
        guard sawEnd else { throw ArchiveError.corruptArchive(path, reason: "tar end-of-archive marker missing") }
        try target.finish()
    }

    private static func readData(_ input: GzipReader, size: Int, path: String) throws -> [UInt8] {
        let padded = (size + blockSize - 1) / blockSize * blockSize
        var bytes = [UInt8](repeating: 0, count: padded)
        let count = try bytes.withUnsafeMutableBytes { try input.read(into: $0) }
        guard count == padded else { throw ArchiveError.corruptArchive(path, reason: "tar header data cut short") }
        return Array(bytes.prefix(size))
    }

    private static func skipPadding(
        _ input: GzipReader, size: UInt64, path: String, scratch: UnsafeMutableRawBufferPointer
    ) throws {
        let padding = Int((UInt64(blockSize) - size % UInt64(blockSize)) % UInt64(blockSize))
        guard padding > 0 else { return }
        let slice = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<padding])
        guard try input.read(into: slice) == padding else { throw ArchiveError.corruptArchive(path, reason: "tar data cut short") }
    }

    /// Pax records: `"<length> <key>=<value>\n"`, repeated.
    private static func paxRecords(_ data: [UInt8], path: String) throws -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)),
                length > 0, index + length <= data.count
            else { throw ArchiveError.corruptArchive(path, reason: "malformed pax header") }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
                records[key] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }

    private static func headerName(_ block: UnsafeRawBufferPointer) -> String {
        let name = string(block, offset: 0, length: 100)
        let isUstar = string(block, offset: 257, length: 5) == "ustar"
        let prefix = isUstar ? string(block, offset: 345, length: 155) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    private static func string(_ block: UnsafeRawBufferPointer, offset: Int, length: Int) -> String {
        String(decoding: block[offset..<(offset + length)].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU base-256 when the high bit of the first byte is set.
    private static func number(_ block: UnsafeRawBufferPointer, offset: Int, length: Int, path: String) throws -> UInt64 {
        let field = block[offset..<(offset + length)]
        if let first = field.first, first & 0x80 != 0 {
            var value: UInt64 = UInt64(first & 0x7F)
            for byte in field.dropFirst() {
                guard value >> 56 == 0 else { throw ArchiveError.corruptArchive(path, reason: "tar number too large") }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        let text = String(decoding: field.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: " ")
        if text.isEmpty { return 0 }
        guard let value = UInt64(text, radix: 8) else {
            throw ArchiveError.corruptArchive(path, reason: "bad number '\(text)' in tar header")
        }
        return value
    }

    static func checksumMatches(_ block: UnsafeRawBufferPointer) -> Bool {
        let stored = String(decoding: block[148..<156].prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: " ")
        guard let expected = UInt64(stored, radix: 8) else { return false }
        var sum: UInt64 = 0
        for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 32 : UInt64(byte) }
        return sum == expected
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var result = Substring(self)
        while result.first == character { result = result.dropFirst() }
        while result.last == character { result = result.dropLast() }
        return String(result)
    }
}
