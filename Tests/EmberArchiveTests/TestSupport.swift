import CZip
import Foundation
import Testing

@testable import EmberArchive

/// A fresh directory per test, removed by the caller with `cleanup()`.
struct Scratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-archive-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// A per-test parent for extraction directories, to check nothing is left behind.
    var extractionParent: URL { root.appendingPathComponent("extract") }

    func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> URL {
        let url = self.url(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url
    }

    func extractionLeftovers() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: extractionParent.path)) ?? []
    }

    func cleanup() { try? FileManager.default.removeItem(at: root) }
}

let validManifest = """
    {"createdOn": "01/02/2026 10:00:00", "runtime": "python", "model": {"modelName": "m", \
    "serializedFile": "model.pt", "handler": "base_handler", "modelVersion": "1.0"}, "archiverVersion": "0.12.0"}
    """

/// Builds ZIP files entry by entry with libzip, including the hostile ones ArchiveWriter never makes.
final class HostileZip {
    private let archive: OpaquePointer
    private var buffers: [UnsafeMutableRawPointer] = []

    init(path: String) throws {
        var error: Int32 = 0
        guard let archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &error) else { throw ZipTestError() }
        self.archive = archive
    }

    func add(_ name: String, _ data: Data, mode: UInt32 = 0o100644, stored: Bool = false) throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 1)
        data.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: data.count) } }
        buffers.append(buffer)
        guard let source = zip_source_buffer(archive, buffer, UInt64(data.count), 0) else { throw ZipTestError() }
        let index = zip_file_add(archive, name, source, zip_flags_t(ZIP_FL_ENC_UTF_8))
        guard index >= 0 else { throw ZipTestError() }
        zip_file_set_external_attributes(archive, UInt64(index), 0, UInt8(ZIP_OPSYS_UNIX), mode << 16)
        if stored { zip_set_file_compression(archive, UInt64(index), ZIP_CM_STORE, 0) }
    }

    func add(_ name: String, _ text: String) throws { try add(name, Data(text.utf8)) }

    func close() throws {
        guard zip_close(archive) == 0 else { throw ZipTestError() }
        buffers.forEach { $0.deallocate() }
    }
}

struct ZipTestError: Error {}

/// Runs python3's tarfile (what torch-model-archiver uses) to build test tarballs.
func python(_ script: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ZipTestError() }
}

/// Expects `body` to throw an ``ArchiveError`` of `kind`; returns it for message checks.
@discardableResult
func expectArchiveError(_ kind: ArchiveError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void)
    -> ArchiveError?
{
    do {
        try body()
        Issue.record("expected \(kind), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ArchiveError {
        #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected ArchiveError.\(kind), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
