import Foundation

/// The directory an archive is extracted into, enforcing the rules that keep a hostile archive inside it:
/// safe paths, no duplicates, a byte budget counted while writing, links checked before and after creation.
final class ExtractionTarget {
    let root: URL
    let limits: ArchiveLimits
    private(set) var bytesWritten: UInt64 = 0
    private var entryCount = 0
    private var seenFiles: Set<String> = []
    private var seenDirectories: Set<String> = []
    private var pendingSymlinks: [(components: [String], target: String, entry: String)] = []

    init(root: URL, limits: ArchiveLimits) {
        self.root = root
        self.limits = limits
    }

    private func path(_ components: [String]) -> String {
        components.reduce(root.path) { $0 + "/" + $1 }
    }

    /// Validates an entry name and counts it; returns its path components.
    func admit(entry name: String, isDirectory: Bool) throws -> [String] {
        entryCount += 1
        if entryCount > limits.maxEntryCount { throw ArchiveError.entryLimitExceeded(limit: limits.maxEntryCount) }
        let components = try EntryPath.components(of: name)
        let key = components.joined(separator: "/")
        if isDirectory {
            if seenFiles.contains(key) { throw ArchiveError.duplicateEntry(name) }
            seenDirectories.insert(key)
        } else {
            if components.isEmpty || seenFiles.contains(key) || seenDirectories.contains(key) {
                throw ArchiveError.duplicateEntry(name)
            }
            seenFiles.insert(key)
        }
        return components
    }

    /// Refuses early when the sizes an archive declares already exceed the budget.
    func checkDeclaredSize(_ total: UInt64) throws {
        if total > limits.maxUncompressedBytes { throw ArchiveError.sizeLimitExceeded(limit: limits.maxUncompressedBytes) }
    }

    func makeDirectory(_ components: [String]) throws {
        var current = root.path
        for component in components {
            current += "/" + component
            var info = stat()
            if lstat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw ArchiveError.duplicateEntry(components.joined(separator: "/"))
                }
                continue
            }
            guard mkdir(current, 0o755) == 0 else { throw ArchiveError.ioFailure("create", path: current, errno: errno) }
        }
    }

    /// Creates a regular file and lets `produce` fill it through the `write` callback it is given.
    func writeFile(
        _ components: [String], executable: Bool,
        produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try makeDirectory(Array(components.dropLast()))
        let filePath = path(components)
        let descriptor = open(filePath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, executable ? 0o755 : 0o644)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw ArchiveError.duplicateEntry(components.joined(separator: "/")) }
            throw ArchiveError.ioFailure("create", path: filePath, errno: errno)
        }
        defer { close(descriptor) }
        try produce { chunk in
            bytesWritten += UInt64(chunk.count)
            if bytesWritten > limits.maxUncompressedBytes {
                throw ArchiveError.sizeLimitExceeded(limit: limits.maxUncompressedBytes)
            }
            var offset = 0
            while offset < chunk.count {
                guard let base = chunk.baseAddress else { return }
                let written = Glibc.write(descriptor, base + offset, chunk.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ArchiveError.ioFailure("write", path: filePath, errno: errno)
                }
                offset += written
            }
        }
    }

    /// Records a symbolic link, created by ``finish()`` once every regular file is in place.
    func addSymlink(_ components: [String], target: String, entry: String) throws {
        _ = try EntryPath.resolveLink(at: components, entry: entry, target: target)
        pendingSymlinks.append((components, target, entry))
    }

    /// Creates a hard link to an entry extracted earlier; the target must be a regular file in the archive.
    func addHardLink(_ components: [String], target: String, entry: String) throws {
        let targetComponents: [String]
        do {
            targetComponents = try EntryPath.components(of: target)
        } catch {
            throw ArchiveError.unsafeLink(entry: entry, target: target)
        }
        var info = stat()
        let targetPath = path(targetComponents)
        guard !targetComponents.isEmpty, lstat(targetPath, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ArchiveError.unsafeLink(entry: entry, target: target)
        }
        try makeDirectory(Array(components.dropLast()))
        guard link(targetPath, path(components)) == 0 else {
            if errno == EEXIST { throw ArchiveError.duplicateEntry(entry) }
            throw ArchiveError.ioFailure("link", path: path(components), errno: errno)
        }
    }

    /// Creates the recorded symbolic links and checks each really resolves inside the root,
    /// which also catches escapes through chains of links.
    func finish() throws {
        for link in pendingSymlinks {
            try makeDirectory(Array(link.components.dropLast()))
            let linkPath = path(link.components)
            guard symlink(link.target, linkPath) == 0 else {
                if errno == EEXIST { throw ArchiveError.duplicateEntry(link.entry) }
                throw ArchiveError.ioFailure("create the link", path: linkPath, errno: errno)
            }
        }
        guard let realRoot = Self.realPath(root.path) else { throw ArchiveError.ioFailure("resolve", path: root.path) }
        for link in pendingSymlinks {
            guard let resolved = Self.realPath(path(link.components)),
                resolved == realRoot || resolved.hasPrefix(realRoot + "/")
            else {
                throw ArchiveError.unsafeLink(entry: link.entry, target: link.target)
            }
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
