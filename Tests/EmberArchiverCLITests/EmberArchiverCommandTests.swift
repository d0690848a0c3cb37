import EmberArchive
import Foundation
import Testing

@testable import EmberArchiverCLI

@Suite struct EmberArchiverCommandTests {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-archiver-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data("weights".utf8).write(to: root.appendingPathComponent("model.pt"))
        try Data("minWorkers: 3\n".utf8).write(to: root.appendingPathComponent("model-config.yaml"))
    }

    private func arguments(_ name: String = "resnet", format: String = "default", extra: [String] = []) -> [String] {
        [
            "--model-name", name, "-v", "1.5", "--serialized-file", root.appendingPathComponent("model.pt").path,
            "--handler", "image_classifier", "--export-path", root.appendingPathComponent("out").path,
            "--archive-format", format, "-c", root.appendingPathComponent("model-config.yaml").path, "--runtime", "python3",
        ] + extra
    }

    @Test(arguments: ["default", "zip-store", "tgz", "no-archive"])
    func commandWritesReadableArchive(format: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var command = try EmberArchiverCommand.parse(arguments(format: format))
        try command.run()
        let formatValue = try #require(ArchiveFormat(rawValue: format))
        let output = root.appendingPathComponent("out").appendingPathComponent(formatValue.outputName(modelName: "resnet"))
        let archive = try ModelArchive.open(at: output.path, extractionParent: root.appendingPathComponent("extract"))
        defer { archive.removeExtractedFiles() }
        #expect(archive.format == formatValue)
        #expect(archive.modelVersion == "1.5")
        #expect(archive.manifest.runtime == "python3")
        #expect(archive.manifest.model.handler == "image_classifier")
        #expect(archive.config?.minWorkers == 3)
        #expect(archive.handler == HandlerSpec.builtin(named: "image_classifier"))
        _ = command
    }

    @Test func specialCharactersInNameAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let command = try EmberArchiverCommand.parse(arguments("bad name!"))
        #expect {
            try command.run()
        } throws: { error in
            (error as? ArchiveError)?.message.hasPrefix("Model name contains special characters.") == true
        }
    }

    @Test func existingOutputNeedsForce() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try EmberArchiverCommand.parse(arguments()).run()
        let output = root.appendingPathComponent("out/resnet.mar")
        let first = try Data(contentsOf: output)
        #expect {
            try EmberArchiverCommand.parse(arguments()).run()
        } throws: { error in
            (error as? ArchiveError)?.message
                == "\(output.path) already exists. Please specify --force/-f option to overwrite the model archive output file."
        }
        try Data("new weights, longer".utf8).write(to: root.appendingPathComponent("model.pt"))
        try EmberArchiverCommand.parse(arguments(extra: ["--force"])).run()
        #expect(try Data(contentsOf: output) != first)
        let archive = try ModelArchive.open(at: output.path, extractionParent: root.appendingPathComponent("extract"))
        defer { archive.removeExtractedFiles() }
        #expect(try Data(contentsOf: #require(archive.serializedFileURL)) == Data("new weights, longer".utf8))
    }

    @Test func forceReplacesADirectoryArchive() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try EmberArchiverCommand.parse(arguments(format: "no-archive")).run()
        try EmberArchiverCommand.parse(arguments(format: "no-archive", extra: ["-f"])).run()
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("out").path)
        #expect(leftovers == ["resnet"])
    }

    @Test func missingInputAndBadFormat() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect {
            try EmberArchiverCommand.parse(arguments(extra: ["--extra-files", "/nonexistent/labels.json"])).run()
        } throws: { error in
            (error as? ArchiveError)?.message == "File does not exist: /nonexistent/labels.json"
        }
        #expect(throws: (any Error).self) { try EmberArchiverCommand.parse(arguments(format: "rar")) }
    }

    @Test func invalidHandlerSpecIsRefusedBeforeWriting() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("h.yaml")
        try Data("ember_handler: 1\ninput: {type: tensor}\npostprocess: [{topk: {k: -1}}]".utf8).write(to: spec)
        var args = arguments()
        args[args.firstIndex(of: "image_classifier") ?? 0] = spec.path
        #expect(throws: ArchiveError.self) { try EmberArchiverCommand.parse(args).run() }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("out/resnet.mar").path))
    }
}
