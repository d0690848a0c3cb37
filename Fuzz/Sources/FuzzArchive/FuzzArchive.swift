import FuzzSupport
import EmberArchive
import Foundation

/// Any bytes as a model archive: refused or opened, never a crash, never a file left behind.
@_cdecl("FuzzArchive_main")
public func fuzzArchiveMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzArchive(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchive(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-fuzz-\(getpid())")
    let extraction = root.appendingPathComponent("extract")
    try? FileManager.default.createDirectory(at: extraction, withIntermediateDirectories: true)
    let file = root.appendingPathComponent("input.mar")
    FileManager.default.createFile(atPath: file.path, contents: Data(bytes: data, count: size))
    let limits = ArchiveLimits(maxUncompressedBytes: 1 << 20, maxEntryCount: 64)
    if let archive = try? ModelArchive.open(at: file.path, limits: limits, extractionParent: extraction) {
        archive.removeExtractedFiles()
    }
    if let leftovers = try? FileManager.default.contentsOfDirectory(atPath: extraction.path), !leftovers.isEmpty {
        fatalError("files left behind after an archive was refused or removed: \(leftovers)")
    }
    return 0
}
