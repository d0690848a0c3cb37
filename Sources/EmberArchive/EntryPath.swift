/// Validation of entry names and link targets inside an archive.
enum EntryPath {
    /// The components of a relative entry name, without `.` and empty parts.
    ///
    /// - Throws: `absolutePath` for `/x`, `\x` or `C:x`; `zipSlip` for any `..` component.
    static func components(of name: String) throws -> [String] {
        if name.hasPrefix("/") || name.hasPrefix("\\") || Self.hasDriveLetter(name) {
            throw ArchiveError.absolutePath(entry: name)
        }
        if name.utf8.contains(0) { throw ArchiveError.zipSlip(entry: name) }
        // Windows tools write '\' as a separator; treat it as one so "..\x" is caught too.
        let parts = name.split(omittingEmptySubsequences: true) { $0 == "/" || $0 == "\\" }.map(String.init)
        if parts.contains("..") { throw ArchiveError.zipSlip(entry: name) }
        return parts.filter { $0 != "." }
    }

    /// Where a symbolic link at `linkComponents` pointing to `target` lands, relative to the archive root.
    ///
    /// - Throws: `unsafeLink` when the target is absolute or climbs above the archive root.
    static func resolveLink(at linkComponents: [String], entry: String, target: String) throws -> [String] {
        if target.isEmpty || target.hasPrefix("/") || target.hasPrefix("\\") || hasDriveLetter(target) {
            throw ArchiveError.unsafeLink(entry: entry, target: target)
        }
        var resolved = Array(linkComponents.dropLast())
        for part in target.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "/" || $0 == "\\" }) {
            switch part {
            case ".": continue
            case "..":
                guard !resolved.isEmpty else { throw ArchiveError.unsafeLink(entry: entry, target: target) }
                resolved.removeLast()
            default: resolved.append(String(part))
            }
        }
        return resolved
    }

    private static func hasDriveLetter(_ name: String) -> Bool {
        let characters = Array(name.prefix(2))
        return characters.count == 2 && characters[1] == ":" && characters[0].isLetter
    }
}
