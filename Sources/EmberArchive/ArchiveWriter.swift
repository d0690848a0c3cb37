import Foundation
import Logging

/// Creates model archives as torch-model-archiver does (contract §6.2), in any of its four formats.
///
/// Everything is validated before anything is written, and output appears atomically: a failure leaves
/// no partial archive behind.
public struct ArchiveWriter: Sendable {
    public var modelName: String
    public var version: String
    public var serializedFile: URL?
    public var modelFile: URL?
    /// A builtin handler name (`image_classifier`), a handler spec file (`.yaml`/`.yml`) or a Python
    /// handler file (`x.py`, `x.py:fn`), copied for TorchServe's sake.
    public var handler: String
    /// torch-model-archiver's `--extra-files` items: files, directories (contents copied) or globs.
    public var extraFiles: [String]
    public var runtime: ArchiveRuntime
    public var exportPath: URL
    public var format: ArchiveFormat
    public var force: Bool
    public var configFile: URL?
    public var requirementsFile: URL?

    public init(
        modelName: String, version: String, handler: String, serializedFile: URL? = nil, modelFile: URL? = nil,
        extraFiles: [String] = [], runtime: ArchiveRuntime = .python,
        exportPath: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        format: ArchiveFormat = .zip, force: Bool = false, configFile: URL? = nil, requirementsFile: URL? = nil
    ) {
        self.modelName = modelName
        self.version = version
        self.handler = handler
        self.serializedFile = serializedFile
        self.modelFile = modelFile
        self.extraFiles = extraFiles
        self.runtime = runtime
        self.exportPath = exportPath
        self.format = format
        self.force = force
        self.configFile = configFile
        self.requirementsFile = requirementsFile
    }

    /// Where the archive will be written.
    public var outputURL: URL { exportPath.appendingPathComponent(format.outputName(modelName: modelName)) }

    /// Validates the inputs and writes the archive.
    ///
    /// - Parameter progress: called with (bytes done, total bytes) while file contents are written.
    /// - Returns: the archive's location.
    @discardableResult
    public func write(
        logger: Logger = Logger(label: "ember.archiver"), progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> URL {
        var logger = logger
        logger[metadataKey: "model.name"] = "\(modelName)"
        guard modelName.range(of: "^[A-Za-z0-9][A-Za-z0-9_\\-.]*$", options: .regularExpression) != nil else {
            throw ArchiveError.invalidModelName(modelName)
        }
        let output = outputURL
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: exportPath.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ArchiveError.invalidArgument("Given export-path \(exportPath.path) is not a directory")
        }
        if FileManager.default.fileExists(atPath: output.path), !force { throw ArchiveError.outputExists(output.path) }

        let plan = try ArchivePlan(writer: self, logger: logger)
        let total = plan.entries.reduce(UInt64(0)) { $0 + Self.size(of: $1.source) }
        try FileManager.default.createDirectory(at: exportPath, withIntermediateDirectories: true)
        let staging = try TemporaryDirectory.make(in: exportPath, prefix: ".ember-archiver-")
        defer { TemporaryDirectory.remove(staging) }

        let manifestURL = staging.appendingPathComponent("MANIFEST.json")
        try plan.manifest.jsonData().write(to: manifestURL)
        let entries = [("MAR-INF/MANIFEST.json", manifestURL)] + plan.entries.map { ($0.name, $0.source) }
        let staged = staging.appendingPathComponent(output.lastPathComponent)
        switch format {
        case .zip, .zipStore:
            try ZipWriter.write(
                entries.map { (name: $0.0, source: $0.1) }, to: staged.path, compressed: format == .zip,
                progress: progress.map { report in { fraction in report(UInt64(fraction * Double(total)), total) } })
        case .tgz:
            let tar = try TarWriter(path: staged.path)
            var done: UInt64 = 0
            var directories: Set<String> = []
            try tar.addDirectory(modelName)
            for (name, source) in entries {
                var parent = (name as NSString).deletingLastPathComponent
                var missing: [String] = []
                while !parent.isEmpty, !directories.contains(parent) {
                    missing.insert(parent, at: 0)
                    directories.insert(parent)
                    parent = (parent as NSString).deletingLastPathComponent
                }
                for directory in missing { try tar.addDirectory(modelName + "/" + directory) }
                let before = done
                try tar.addFile(modelName + "/" + name, from: source) { copied in
                    done = before + copied
                    progress?(done, total)
                }
            }
            try tar.finish()
        case .noArchive:
            try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
            var done: UInt64 = 0
            for (name, source) in entries {
                let destination = staged.appendingPathComponent(name)
                try FileManager.default.createDirectory(
                    at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: source, to: destination)
                done += Self.size(of: source)
                progress?(done, total)
            }
        }
        try Self.replace(output, with: staged)
        logger.info("wrote model archive", metadata: ["archive.path": "\(output.path)", "archive.format": "\(format.rawValue)"])
        return output
    }

    private static func size(of url: URL) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size]) as? NSNumber)?.uint64Value ?? 0
    }

    /// Moves `staged` to `output`; an existing output (allowed by `force`) is replaced.
    private static func replace(_ output: URL, with staged: URL) throws {
        if rename(staged.path, output.path) == 0 { return }
        // rename(2) cannot replace a non-empty directory or a file by a directory: move the old one aside first.
        let aside = staged.deletingLastPathComponent().appendingPathComponent("previous")
        guard rename(output.path, aside.path) == 0, rename(staged.path, output.path) == 0 else {
            throw ArchiveError.ioFailure("replace", path: output.path, errno: errno)
        }
    }
}
