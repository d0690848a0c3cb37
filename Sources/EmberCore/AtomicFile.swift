import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file so that a reader (or a restart after `kill -9`) sees either the old contents or
/// the new ones, never a mix: a temporary file in the same directory, created with its final mode,
/// written, fsynced, renamed over the target, then the directory fsynced.
public enum AtomicFile {
    public static func write(_ bytes: some Collection<UInt8>, to url: URL, mode: mode_t = 0o644) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw AtomicFileError(operation: "create", path: temporary.path) }
        var renamed = false
        defer { if !renamed { unlink(temporary.path) } }
        do {
            defer { close(descriptor) }
            // open() applies the umask; the mode asked for is the mode wanted (0600 stays 0600).
            guard fchmod(descriptor, mode) == 0 else { throw AtomicFileError(operation: "chmod", path: temporary.path) }
            let data = Array(bytes)
            var written = 0
            while written < data.count {
                let result = data.withUnsafeBytes { raw in
                    systemWrite(descriptor, raw.baseAddress.map { $0 + written }, data.count - written)
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError(operation: "write", path: temporary.path)
                }
                written += result
            }
            guard fsync(descriptor) == 0 else { throw AtomicFileError(operation: "fsync", path: temporary.path) }
        }
        guard rename(temporary.path, url.path) == 0 else { throw AtomicFileError(operation: "rename", path: url.path) }
        renamed = true
        let directoryDescriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

/// A failed step of `AtomicFile.write`, with the system's reason.
public struct AtomicFileError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let reason: String

    init(operation: String, path: String) {
        self.operation = operation
        self.path = path
        self.reason = String(cString: strerror(errno))
    }

    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
