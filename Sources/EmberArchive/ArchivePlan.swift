import Foundation
import Logging

/// What an ``ArchiveWriter`` will put in the archive: the manifest and each file's name and source,
/// validated before anything is written.
struct ArchivePlan {
    var manifest: Manifest
    var entries: [(name: String, source: URL)] = []

    private static let skippedNames: Set<String> = ["__MACOSX", "__pycache__"]

    init(writer: ArchiveWriter, logger: Logger) throws {
        var files: [(name: String, source: URL)] = []
        func add(_ url: URL?) throws -> String? {
            guard let url else { return nil }
            try Self.requireFile(url.path)
            files.append((url.lastPathComponent, url))
            return url.lastPathComponent
        }
        let serialized = try add(writer.serializedFile)
        let modelFile = try add(writer.modelFile)

        let handlerName: String
        var handlerSpecURL: URL?
        let handlerPath = writer.handler.split(separator: ":", maxSplits: 1).first.map(String.init) ?? writer.handler
        let lowered = handlerPath.lowercased()
        if HandlerSpec.supportedBuiltinNames.contains(writer.handler)
            || HandlerSpec.unsupportedBuiltinNames.contains(writer.handler)
        {
            handlerName = writer.handler
        } else if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") {
            let url = URL(fileURLWithPath: handlerPath)
            try Self.requireFile(url.path)
            handlerSpecURL = url
            files.append((url.lastPathComponent, url))
            handlerName = url.lastPathComponent
        } else {
            // A Python handler: copied; Ember and TorchServe both run it in Python workers.
            let file = handlerPath.hasSuffix(".py") || FileManager.default.fileExists(atPath: handlerPath)
                ? handlerPath : handlerPath + ".py"
            try Self.requireFile(file)
            let url = URL(fileURLWithPath: file)
            files.append((url.lastPathComponent, url))
            handlerName = (writer.handler as NSString).lastPathComponent
            logger.info("Python handler \(handlerName): the archive is served by Python workers")
        }

        for item in writer.extraFiles.map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            files += try Self.expand(item)
        }
        let requirements = try add(writer.requirementsFile)
        let config = try add(writer.configFile)
        if let configURL = writer.configFile { _ = try ModelConfig(contentsOf: configURL, logger: logger) }

        // Later files win on a name clash, as when torch-model-archiver copies into one staging directory.
        var seen: Set<String> = []
        for file in files.reversed() where seen.insert(file.name).inserted { entries.insert(file, at: 0) }
        if let handlerSpecURL {
            _ = try HandlerSpec.load(handlerSpecURL, archiveFiles: Set(entries.map(\.name)))
        }

        manifest = Manifest(
            runtime: writer.runtime.rawValue,
            model: Manifest.Model(
                modelName: writer.modelName, serializedFile: serialized, handler: handlerName, modelFile: modelFile,
                modelVersion: writer.version, requirementsFile: requirements, configFile: config))
    }

    private static func requireFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ArchiveError.fileNotFound(path)
        }
    }

    /// One `--extra-files` item: a file, a directory's contents (recursively) or a glob pattern.
    private static func expand(_ item: String) throws -> [(name: String, source: URL)] {
        let paths: [String]
        if item.contains(where: { "*?[".contains($0) }) {
            paths = glob(item)
        } else {
            guard FileManager.default.fileExists(atPath: item) else { throw ArchiveError.fileNotFound(item) }
            paths = [item]
        }
        var result: [(name: String, source: URL)] = []
        for path in paths {
            let url = URL(fileURLWithPath: path)
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                result += directoryContents(url, prefix: "")
            } else if !skippedNames.contains(url.lastPathComponent) {
                result.append((url.lastPathComponent, url))
            }
        }
        return result
    }

    private static func directoryContents(_ directory: URL, prefix: String) -> [(name: String, source: URL)] {
        var result: [(name: String, source: URL)] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        for name in names where !skippedNames.contains(name) {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                if !name.hasPrefix(".") { result += directoryContents(url, prefix: prefix + name + "/") }
            } else {
                result.append((prefix + name, url))
            }
        }
        return result
    }

    private static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { index in
            matches.gl_pathv[index].map { String(cString: $0) }
        }
    }
}
