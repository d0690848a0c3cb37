/// The four archive forms torch-model-archiver can produce (its `--archive-format` values).
public enum ArchiveFormat: String, Sendable, Equatable, CaseIterable {
    /// `<name>.mar`, a ZIP file with deflate compression.
    case zip = "default"
    /// `<name>.mar`, a ZIP file with stored (uncompressed) entries.
    case zipStore = "zip-store"
    /// `<name>.tar.gz`, every entry under `<name>/`.
    case tgz = "tgz"
    /// A plain directory `<name>/` holding `MAR-INF/MANIFEST.json`; read in place.
    case noArchive = "no-archive"

    /// The name of the output torch-model-archiver writes for a model in this format.
    public func outputName(modelName: String) -> String {
        switch self {
        case .zip, .zipStore: return modelName + ".mar"
        case .tgz: return modelName + ".tar.gz"
        case .noArchive: return modelName
        }
    }
}

/// The `runtime` a manifest declares.
public enum ArchiveRuntime: String, Sendable, Equatable, CaseIterable {
    case python
    case python3
    case lsp = "LSP"
}
