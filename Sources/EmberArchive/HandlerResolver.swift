import Foundation

extension HandlerSpec {
    /// Finds the spec for an archive whose manifest names `handler`, in this order:
    /// 1. `handler` ends in `.yaml`/`.yml` and that file is in the archive: parse it;
    /// 2. `ember-handler.yaml` is at the archive root: parse it;
    /// 3. `handler` is a supported builtin name: its predefined spec;
    /// 4. otherwise an `unsupportedHandler` error explaining what Ember can serve.
    ///
    /// - Parameters:
    ///   - directory: the archive root, where the files in `archiveFiles` live.
    ///   - archiveFiles: the names of the regular files at the archive root.
    public static func resolve(handler: String, directory: URL, archiveFiles: Set<String>) throws -> HandlerSpec {
        let lowered = handler.lowercased()
        if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml"), archiveFiles.contains(handler) {
            return try load(directory.appendingPathComponent(handler), archiveFiles: archiveFiles)
        }
        if archiveFiles.contains(defaultFileName) {
            return try load(directory.appendingPathComponent(defaultFileName), archiveFiles: archiveFiles)
        }
        if let spec = builtin(named: handler, archiveFiles: archiveFiles) {
            return spec
        }
        throw unsupported(handler)
    }

    /// Reads and parses a spec file.
    public static func load(_ url: URL, archiveFiles: Set<String>? = nil) throws -> HandlerSpec {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ArchiveError.ioFailure("read the handler spec", path: url.path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ArchiveError.invalidYAML(file: url.lastPathComponent, reason: "not UTF-8 text")
        }
        return try parse(yaml: text, fileName: url.lastPathComponent, archiveFiles: archiveFiles)
    }

    /// The error for a handler Ember cannot serve, saying what it can.
    static func unsupported(_ handler: String) -> ArchiveError {
        let supported =
            "Ember serves the builtin handlers \(supportedBuiltinNames.joined(separator: ", ")) "
            + "and declarative handler specs (a YAML file with 'ember_handler: 1', named by --handler or "
            + "included as \(defaultFileName))"
        if unsupportedBuiltinNames.contains(handler) {
            return .unsupportedHandler(handler, reason: "this TorchServe builtin handler is not implemented. \(supported).")
        }
        let isPython = handler.hasSuffix(".py") || handler.contains(":") || !handler.contains(".")
        if isPython {
            return .unsupportedHandler(
                handler,
                reason: "Ember does not run Python handlers. Describe the pre- and postprocessing in a handler spec "
                    + "instead: add a file \(defaultFileName) starting with 'ember_handler: 1' (input, preprocess, "
                    + "model, postprocess) to the archive with --extra-files, or pass it as --handler. \(supported).")
        }
        return .unsupportedHandler(handler, reason: "no such builtin handler or spec file in the archive. \(supported).")
    }
}
