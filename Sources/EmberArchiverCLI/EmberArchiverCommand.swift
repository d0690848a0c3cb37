import ArgumentParser
import EmberArchive
import Foundation
import Logging

/// `ember-archiver`: torch-model-archiver's command line, writing archives Ember and TorchServe both load.
public struct EmberArchiverCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ember-archiver",
        abstract: "Package a model into a TorchServe-compatible model archive (.mar, .tar.gz or directory).",
        discussion: """
            Accepts torch-model-archiver's flags and writes the same MAR-INF/MANIFEST.json, so the \
            archive loads in Ember and in TorchServe.

            --handler takes a TorchServe builtin name, a declarative handler spec (a YAML file starting \
            with 'ember_handler: 1' that lists the input, preprocess, model and postprocess steps, served \
            in-process), or a Python handler file (handler.py[:function]) or module, served by Python \
            workers as TorchServe serves it. An ember-handler.yaml passed with --extra-files wins over \
            a Python handler.

            EXAMPLES
              ResNet-18 with TorchServe's image classifier and its labels:
                ember-archiver --model-name resnet-18 --version 1.0 \\
                  --serialized-file resnet18.pt --handler image_classifier \\
                  --extra-files index_to_name.json --export-path model_store

              A tensor model with a handler spec and a model-config.yaml, as a directory:
                ember-archiver --model-name mlp --version 2.0 --serialized-file mlp.pt \\
                  --handler mlp-handler.yaml -c model-config.yaml --archive-format no-archive

              Overwrite an existing archive, uncompressed:
                ember-archiver --model-name big --version 1.0 --serialized-file big.pt \\
                  --handler base_handler --archive-format zip-store --force
            """)

    @Option(name: .customLong("model-name"), help: "Model name; letters, digits, '_', '-', '.' (first: letter or digit).")
    public var modelName: String

    @Option(name: [.customShort("v"), .customLong("version")], help: "Model version, written as modelVersion.")
    public var version: String

    @Option(name: .customLong("serialized-file"), help: "The serialized model (TorchScript .pt).")
    public var serializedFile: String?

    @Option(name: .customLong("model-file"), help: "A model definition file, copied for TorchServe.")
    public var modelFile: String?

    @Option(
        help: "Builtin handler name (base_handler, image_classifier, image_segmenter), a handler spec .yaml, or a Python handler file.")
    public var handler: String

    @Option(
        name: .customLong("extra-files"),
        help: "Comma-separated files, directories (contents copied) or glob patterns to include at the archive root.")
    public var extraFiles: String?

    @Option(name: .customLong("export-path"), help: "Directory to write the archive to (default: current directory).")
    public var exportPath: String?

    @Option(name: .customLong("archive-format"), help: "default (.mar zip), zip-store (.mar uncompressed), tgz, no-archive.")
    public var archiveFormat: String = ArchiveFormat.zip.rawValue

    @Flag(name: [.customShort("f"), .customLong("force")], help: "Overwrite an existing archive.")
    public var force = false

    @Option(name: [.customShort("c"), .customLong("config-file")], help: "model-config.yaml to include.")
    public var configFile: String?

    @Option(name: [.customShort("r"), .customLong("requirements-file")], help: "requirements.txt to include.")
    public var requirementsFile: String?

    @Option(help: "Runtime written to the manifest: python, python3 or LSP.")
    public var runtime: String = ArchiveRuntime.python.rawValue

    public init() {}

    public func validate() throws {
        guard ArchiveFormat(rawValue: archiveFormat) != nil else {
            throw ValidationError(
                "--archive-format must be one of \(ArchiveFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ArchiveRuntime(rawValue: runtime) != nil else {
            throw ValidationError("--runtime must be one of \(ArchiveRuntime.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The writer these arguments describe.
    public func makeWriter() -> ArchiveWriter {
        ArchiveWriter(
            modelName: modelName, version: version, handler: handler,
            serializedFile: serializedFile.map { URL(fileURLWithPath: $0) },
            modelFile: modelFile.map { URL(fileURLWithPath: $0) },
            extraFiles: extraFiles.map { $0.split(separator: ",").map(String.init) } ?? [],
            runtime: ArchiveRuntime(rawValue: runtime) ?? .python,
            exportPath: URL(fileURLWithPath: exportPath ?? FileManager.default.currentDirectoryPath),
            format: ArchiveFormat(rawValue: archiveFormat) ?? .zip, force: force,
            configFile: configFile.map { URL(fileURLWithPath: $0) },
            requirementsFile: requirementsFile.map { URL(fileURLWithPath: $0) })
    }

    public func run() throws {
        var logger = Logger(label: "ember-archiver")
        logger.logLevel = .warning
        let reporter = ProgressReporter(serializedFile: serializedFile)
        let output = try makeWriter().write(logger: logger, progress: reporter.map { reporter in reporter.report })
        reporter?.finish()
        FileHandle.standardError.write(Data("Wrote \(output.path)\n".utf8))
    }
}
