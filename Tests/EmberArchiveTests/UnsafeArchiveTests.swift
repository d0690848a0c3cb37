import Foundation
import Testing

@testable import EmberArchive

/// Each hostile archive is refused with its own error, and nothing is left in the extraction parent.
@Suite struct UnsafeArchiveTests {
    private func refuse(
        _ kind: ArchiveError.Kind, limits: ArchiveLimits = .default,
        sourceLocation: SourceLocation = #_sourceLocation, build: (Scratch, String) throws -> Void
    ) throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let path = scratch.url("hostile.mar").path
        try build(scratch, path)
        expectArchiveError(kind, sourceLocation: sourceLocation) {
            _ = try ModelArchive.open(at: path, limits: limits, extractionParent: scratch.extractionParent)
        }
        #expect(scratch.extractionLeftovers().isEmpty, sourceLocation: sourceLocation)
    }

    private func zip(_ path: String, _ entries: [(String, String, UInt32)]) throws {
        let zip = try HostileZip(path: path)
        try zip.add("MAR-INF/MANIFEST.json", validManifest)
        try zip.add("model.pt", "weights")
        for (name, text, mode) in entries { try zip.add(name, Data(text.utf8), mode: mode) }
        try zip.close()
    }

    @Test func zipSlip() throws {
        try refuse(.zipSlip) { _, path in try zip(path, [("../evil", "x", 0o100644)]) }
        try refuse(.zipSlip) { _, path in try zip(path, [("a/../../evil", "x", 0o100644)]) }
    }

    @Test func absolutePath() throws {
        try refuse(.absolutePath) { _, path in try zip(path, [("/tmp/evil", "x", 0o100644)]) }
    }

    @Test func zipSymlinkOutside() throws {
        try refuse(.unsafeLink) { _, path in try zip(path, [("link", "/etc/passwd", 0o120777)]) }
        try refuse(.unsafeLink) { _, path in try zip(path, [("dir/link", "../../outside", 0o120777)]) }
    }

    @Test func tarSymlinkAndHardLinkOutside() throws {
        for (type, target) in [("SYMTYPE", "../../etc/passwd"), ("SYMTYPE", "/etc/passwd"), ("LNKTYPE", "../x")] {
            try refuse(.unsafeLink) { scratch, path in
                try scratch.write("m/MAR-INF/MANIFEST.json", validManifest)
                try python(
                    """
                    import tarfile
                    with tarfile.open('\(path)', 'w:gz') as t:
                        t.add('\(scratch.url("m").path)', arcname='m')
                        i = tarfile.TarInfo('m/link'); i.type = tarfile.\(type); i.linkname = '\(target)'
                        t.addfile(i)
                    """)
            }
        }
    }

    @Test func missingManifest() throws {
        try refuse(.missingManifest) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("model.pt", "weights")
            try zip.close()
        }
    }

    @Test func undecodableManifest() throws {
        try refuse(.invalidManifest) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", "{not json")
            try zip.close()
        }
    }

    @Test func manifestNamingMissingOrNestedFiles() throws {
        try refuse(.missingArchiveMember) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", validManifest)
            try zip.close()
        }
        try refuse(.invalidMemberName) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", validManifest.replacingOccurrences(of: "\"model.pt\"", with: "\"../model.pt\""))
            try zip.close()
        }
    }

    @Test func truncatedZip() throws {
        try refuse(.corruptArchive) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", validManifest)
            try zip.add("model.pt", Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }))
            try zip.close()
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }
    }

    @Test func truncatedTarball() throws {
        try refuse(.corruptArchive) { scratch, path in
            try scratch.write("m/MAR-INF/MANIFEST.json", validManifest)
            try scratch.write("m/model.pt", Data((0..<300_000).map { _ in UInt8.random(in: 0...255) }))
            try python(
                "import tarfile\nwith tarfile.open('\(path)', 'w:gz') as t: t.add('\(scratch.url("m").path)', arcname='m')")
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }
    }

    @Test func zipBomb() throws {
        let limits = ArchiveLimits(maxUncompressedBytes: 1 << 20, maxEntryCount: 100)
        try refuse(.sizeLimitExceeded, limits: limits) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", validManifest)
            try zip.add("model.pt", Data(count: 5 << 20))
            try zip.close()
        }
    }

    @Test func zipBombLyingAboutItsSize() throws {
        // The declared size in the central directory says 10 bytes; only counting while writing catches it.
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let target = ExtractionTarget(root: scratch.url("x"), limits: ArchiveLimits(maxUncompressedBytes: 1000, maxEntryCount: 10))
        try FileManager.default.createDirectory(at: target.root, withIntermediateDirectories: true)
        try target.checkDeclaredSize(10)
        expectArchiveError(.sizeLimitExceeded) {
            try target.writeFile(["big"], executable: false) { write in
                for _ in 0..<10 { try [UInt8](repeating: 0, count: 200).withUnsafeBytes { try write($0) } }
            }
        }
    }

    @Test func duplicateEntries() throws {
        try refuse(.duplicateEntry) { _, path in
            // libzip refuses to add a name twice: add "model.pX" and patch its names to "model.pt".
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", validManifest)
            try zip.add("model.pt", "one")
            try zip.add("model.pX", "two")
            try zip.close()
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let needle = Array("model.pX".utf8)
            var index = 0
            while index + needle.count <= bytes.count {
                if Array(bytes[index..<(index + needle.count)]) == needle { bytes[index + 7] = UInt8(ascii: "t") }
                index += 1
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }

    @Test func undecodableConfigYAML() throws {
        try refuse(.invalidYAML) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add(
                "MAR-INF/MANIFEST.json",
                validManifest.replacingOccurrences(of: "\"modelVersion\"", with: "\"configFile\": \"c.yaml\", \"modelVersion\""))
            try zip.add("model.pt", "weights")
            try zip.add("c.yaml", "minWorkers: [1, 2\nfoo: : :")
            try zip.close()
        }
    }

    @Test func undecodableHandlerYAML() throws {
        try refuse(.invalidYAML) { _, path in
            let zip = try HostileZip(path: path)
            try zip.add("MAR-INF/MANIFEST.json", validManifest)
            try zip.add("model.pt", "weights")
            try zip.add("ember-handler.yaml", "ember_handler: {1")
            try zip.close()
        }
    }

    @Test func notAnArchive() throws {
        try refuse(.unrecognizedFormat) { scratch, path in try scratch.write("hostile.mar", "hello") }
    }

    @Test func symlinkInsideIsAccepted() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let path = scratch.url("ok.mar").path
        try zip(path, [("alias.pt", "model.pt", 0o120777)])
        let archive = try ModelArchive.open(at: path, extractionParent: scratch.extractionParent)
        #expect(try String(contentsOf: #require(archive.files["alias.pt"]), encoding: .utf8) == "weights")
        archive.removeExtractedFiles()
        #expect(scratch.extractionLeftovers().isEmpty)
    }
}
