import Foundation
import Testing

@testable import EmberArchive

@Suite struct RoundTripTests {
    static let spec = """
        ember_handler: 1
        input: {type: image}
        preprocess:
          - decode_image: {mode: rgb}
          - resize: {size: [32, 48], interpolation: nearest, antialias: false}
          - center_crop: {size: 24}
          - to_float: {}
          - normalize: {mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}
        model: {output: logits}
        postprocess:
          - softmax: {dim: 1}
          - topk: {k: 3}
          - labels: {file: index_to_name.json}
        """

    static let config = """
        minWorkers: 2
        batchSize: "eight"
        maxBatchDelay: 50
        deviceIds: [0, 1]
        useJobTicket: true
        intraOpThreads: 4
        handler:
          foo: bar
          sizes: [1, 2]
        """

    @Test(arguments: ArchiveFormat.allCases)
    func writerOutputReadsBack(format: ArchiveFormat) throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let weights = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let model = try scratch.write("in/model.pt", weights)
        let handler = try scratch.write("in/handler.yaml", Self.spec)
        let labels = try scratch.write("in/index_to_name.json", #"{"0": "cat", "1": "dog"}"#)
        let config = try scratch.write("in/model-config.yaml", Self.config)
        try scratch.write("in/assets/vocab/words.txt", "hello")
        try scratch.write("in/assets/__pycache__/x.pyc", "junk")
        try scratch.write("in/assets/.git/HEAD", "junk")

        var progress: [UInt64] = []
        let output = try ArchiveWriter(
            modelName: "net-1.0_x", version: "2.5", handler: handler.path, serializedFile: model,
            extraFiles: [labels.path, scratch.url("in/assets").path], exportPath: scratch.url("out"), format: format,
            configFile: config
        ).write { done, _ in progress.append(done) }
        #expect(output.lastPathComponent == format.outputName(modelName: "net-1.0_x"))
        #expect(!progress.isEmpty)

        let archive = try ModelArchive.open(at: output.path, extractionParent: scratch.extractionParent)
        #expect(archive.format == format)
        #expect(archive.modelName == "net-1.0_x")
        #expect(archive.modelVersion == "2.5")
        #expect(archive.manifest.model.handler == "handler.yaml")
        #expect(archive.manifest.model.configFile == "model-config.yaml")
        #expect(archive.manifest.archiverVersion == Manifest.archiverVersion)
        #expect(try Data(contentsOf: #require(archive.serializedFileURL)) == weights)
        #expect(archive.labelsFileURL != nil)
        #expect(FileManager.default.fileExists(atPath: archive.directory.appendingPathComponent("vocab/words.txt").path))
        #expect(!FileManager.default.fileExists(atPath: archive.directory.appendingPathComponent("__pycache__").path))
        #expect(!FileManager.default.fileExists(atPath: archive.directory.appendingPathComponent(".git").path))

        let loaded = try #require(archive.config)
        #expect(loaded.minWorkers == 2)
        #expect(loaded.batchSize == nil)
        #expect(loaded.warnings.count == 1)
        #expect(loaded.maxBatchDelay == 50)
        #expect(loaded.deviceIds == [0, 1])
        #expect(loaded.useJobTicket == true)
        #expect(loaded.intraOpThreads == 4)
        #expect(loaded.raw["handler"]?["foo"] == .string("bar"))
        #expect(loaded.raw["handler"]?["sizes"]?[1] == .int(2))

        #expect(archive.handler?.input == .image)
        #expect(archive.handler?.modelOutput == .key("logits"))
        #expect(archive.handler?.preprocess[1] == .resize(size: .exact(height: 32, width: 48), interpolation: .nearest, antialias: false))
        #expect(archive.handler?.postprocess == [.softmax(dim: 1), .topk(k: 3), .labels(file: "index_to_name.json")])

        archive.removeExtractedFiles()
        if format == .noArchive {
            #expect(FileManager.default.fileExists(atPath: output.path))
        } else {
            #expect(scratch.extractionLeftovers().isEmpty)
        }
    }

    @Test func manifestIsWrittenAsTorchModelArchiverWritesIt() throws {
        let manifest = Manifest(
            createdOn: "21/11/2026 16:32:02", runtime: "python",
            model: .init(
                modelName: "slow", serializedFile: "model.pt", handler: "slow.py", modelFile: "model.py",
                modelVersion: "1.0", requirementsFile: "requirements.txt", configFile: "model-config.yaml"),
            archiverVersion: "0.12.0")
        let expected = """
            {
              "createdOn": "21/11/2026 16:32:02",
              "runtime": "python",
              "model": {
                "modelName": "slow",
                "serializedFile": "model.pt",
                "handler": "slow.py",
                "modelFile": "model.py",
                "modelVersion": "1.0",
                "requirementsFile": "requirements.txt",
                "configFile": "model-config.yaml"
              },
              "archiverVersion": "0.12.0"
            }
            """
        #expect(String(decoding: manifest.jsonData(), as: UTF8.self) == expected)
        #expect(try Manifest.decode(manifest.jsonData()) == manifest)
    }

    @Test func manifestReadingToleratesUnknownKeys() throws {
        let text = """
            {"modelServerVersion": "1.0", "implementationVersion": "1.0", "specificationVersion": "1.0",
             "description": "old", "runtime": "python",
             "model": {"modelName": "old", "handler": "image_classifier", "modelVersion": "3", "envelope": "json",
                       "description": "d"}}
            """
        let manifest = try Manifest.decode(Data(text.utf8))
        #expect(manifest.model.modelName == "old")
        #expect(manifest.model.modelVersion == "3")
        #expect(manifest.createdOn == nil)
    }

    @Test func pythonWrittenTarballIsRead() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let long = String(repeating: "d", count: 120)
        try scratch.write("src/m/MAR-INF/MANIFEST.json", validManifest)
        try scratch.write("src/m/model.pt", "weights")
        try scratch.write("src/m/\(long)/f.txt", "deep")
        try python(
            """
            import tarfile
            with tarfile.open('\(scratch.url("m.tar.gz").path)', 'w:gz', format=tarfile.PAX_FORMAT) as t:
                t.add('\(scratch.url("src/m").path)', arcname='m')
            """)
        let archive = try ModelArchive.open(at: scratch.url("m.tar.gz").path, extractionParent: scratch.extractionParent)
        #expect(archive.format == .tgz)
        #expect(archive.handler == HandlerSpec.builtin(named: "base_handler"))
        #expect(try String(contentsOf: archive.directory.appendingPathComponent("\(long)/f.txt"), encoding: .utf8) == "deep")
        archive.removeExtractedFiles()
        #expect(scratch.extractionLeftovers().isEmpty)
    }
}
