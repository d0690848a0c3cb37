import Foundation
import Logging

/// A model archive opened for serving: extracted once into a private directory (or read in place for a
/// `no-archive` directory), with its manifest, configuration and handler spec validated.
public struct ModelArchive: Sendable {
    /// The directory holding the model's files (`MAR-INF/`, the serialized file, ...).
    public let directory: URL
    public let manifest: Manifest
    public let format: ArchiveFormat
    /// The parsed `configFile`, if the manifest names one.
    public let config: ModelConfig?
    /// How the manifest's `handler` runs: a declarative spec in-process, or a Python worker.
    public let runtime: HandlerRuntime
    /// The declarative handler spec; nil for an archive served by Python workers.
    public var handler: HandlerSpec? {
        if case .declarative(let spec) = runtime { return spec }
        return nil
    }
    /// The Python handler (the manifest's, unchanged); nil for a declarative archive.
    public var pythonHandler: String? {
        if case .python(let handler) = runtime { return handler }
        return nil
    }
    /// Every regular file at the archive root by name (e.g. `index_to_name.json`), `MAR-INF/` excluded.
    public let files: [String: URL]
    /// The temporary directory this archive was extracted into; `nil` for a directory read in place.
    public let extractionRoot: URL?

    public var modelName: String { manifest.model.modelName }
    public var modelVersion: String { manifest.model.modelVersion }
    /// The TorchScript (or other) weights file, the manifest's `serializedFile`.
    public var serializedFileURL: URL? { manifest.model.serializedFile.flatMap { files[$0] } }
    /// The manifest's `modelFile` (a Python model definition in TorchServe archives).
    public var modelFileURL: URL? { manifest.model.modelFile.flatMap { files[$0] } }
    /// `index_to_name.json`, when the archive has one.
    public var labelsFileURL: URL? { files[HandlerSpec.labelFileName] }

    /// Opens the archive at `path`, detecting its format from its content.
    ///
    /// - Parameters:
    ///   - limits: bounds on what extraction may write.
    ///   - extractionParent: where the private extraction directory is created; the system temporary
    ///     directory by default.
    /// - Throws: ``ArchiveError``; nothing is left on disk when opening fails.
    public static func open(
        at path: String, limits: ArchiveLimits = .default, extractionParent: URL? = nil,
        logger: Logger = Logger(label: "ember.archive")
    ) throws -> ModelArchive {
        var logger = logger
        logger[metadataKey: "archive.path"] = "\(path)"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ArchiveError.fileNotFound(path)
        }
        if isDirectory.boolValue {
            let directory = URL(fileURLWithPath: path, isDirectory: true)
            return try load(directory: directory, format: .noArchive, extractionRoot: nil, path: path, logger: logger)
        }

        let kind = try sniff(path)
        let parent = extractionParent ?? FileManager.default.temporaryDirectory
        let root = try TemporaryDirectory.make(in: parent, prefix: "ember-archive-")
        do {
            let target = ExtractionTarget(root: root, limits: limits)
            let format: ArchiveFormat
            switch kind {
            case .zip: format = try ZipReader.extract(path, into: target)
            case .gzip:
                try TarReader.extract(path, into: target)
                format = .tgz
            }
            logger.debug("extracted archive", metadata: ["archive.bytes": "\(target.bytesWritten)"])
            let directory = modelDirectory(in: root)
            return try load(directory: directory, format: format, extractionRoot: root, path: path, logger: logger)
        } catch {
            TemporaryDirectory.remove(root)
            logger.error("refused model archive: \(error)")
            throw error
        }
    }

    /// Deletes the extracted files. Does nothing for a directory archive, which is never removed.
    public func removeExtractedFiles() {
        if let extractionRoot { TemporaryDirectory.remove(extractionRoot) }
    }

    private enum Container { case zip, gzip }

    private static func sniff(_ path: String) throws -> Container {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ArchiveError.ioFailure("open", path: path) }
        defer { try? handle.close() }
        let magic = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        if magic.starts(with: [0x50, 0x4B]) { return .zip }
        if magic.starts(with: [0x1F, 0x8B]) { return .gzip }
        throw ArchiveError.unrecognizedFormat(path: path)
    }

    /// torch-model-archiver's tgz puts everything under `<name>/`; use that directory when the root holds
    /// nothing else and no manifest of its own.
    private static func modelDirectory(in root: URL) -> URL {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: root.appendingPathComponent("MAR-INF").path),
            let children = try? manager.contentsOfDirectory(atPath: root.path), children.count == 1,
            let only = children.first
        else { return root }
        let candidate = root.appendingPathComponent(only, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return root
        }
        return candidate
    }

    private static func load(
        directory: URL, format: ArchiveFormat, extractionRoot: URL?, path: String, logger: Logger
    ) throws -> ModelArchive {
        var logger = logger
        let manifestURL = directory.appendingPathComponent("MAR-INF/MANIFEST.json")
        guard FileManager.default.fileExists(atPath: manifestURL.path) else { throw ArchiveError.missingManifest(archive: path) }
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(Data(contentsOf: manifestURL))
        } catch {
            throw ArchiveError.invalidManifest(archive: path, reason: describeDecoding(error))
        }
        logger[metadataKey: "model.name"] = "\(manifest.model.modelName)"
        if manifest.createdOn == nil || manifest.archiverVersion == nil {
            logger.warning("manifest lacks createdOn or archiverVersion")
        }

        let files = rootFiles(directory)
        let members: [(String, String?)] = [
            ("serializedFile", manifest.model.serializedFile), ("modelFile", manifest.model.modelFile),
            ("configFile", manifest.model.configFile),
        ]
        for case (let field, let name?) in members {
            guard !name.contains("/"), !name.contains(".."), !name.isEmpty else {
                throw ArchiveError.invalidMemberName(field: field, name: name)
            }
            guard files[name] != nil else { throw ArchiveError.missingArchiveMember(field: field, name: name) }
        }

        let config = try manifest.model.configFile.flatMap { name in
            try files[name].map { try ModelConfig(contentsOf: $0, logger: logger) }
        }
        let runtime = try HandlerRuntime.resolve(
            handler: manifest.model.handler, directory: directory, archiveFiles: Set(files.keys),
            eagerModel: manifest.model.modelFile != nil)
        if case .python(let handler) = runtime {
            logger.notice(
                "the archive's handler is Python code, run by Python workers with the server's permissions",
                metadata: ["handler": "\(handler)"])
        }
        logger.info(
            "opened model archive",
            metadata: ["model.version": "\(manifest.model.modelVersion)", "archive.format": "\(format.rawValue)"])
        return ModelArchive(
            directory: directory, manifest: manifest, format: format, config: config, runtime: runtime, files: files,
            extractionRoot: extractionRoot)
    }

    /// Regular files (following links that stay inside, checked at extraction) at the archive root.
    private static func rootFiles(_ directory: URL) -> [String: URL] {
        var files: [String: URL] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            let url = directory.appendingPathComponent(name)
            var info = stat()
            if stat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG { files[name] = url }
        }
        return files
    }

    private static func describeDecoding(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "wrong type at '\(path)'"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}
