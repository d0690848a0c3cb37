import Foundation

/// Model archives on disk for a ``FakeInferenceBackend``: unpacked directories (`no-archive` format)
/// whose serialized file is not TorchScript.
public enum FakeArchives {
    /// Writes the archive `name` (version `version`) as the directory `<store>/<name>`; returns it.
    @discardableResult
    public static func write(name: String, version: String = "1.0", into store: URL) throws -> URL {
        let directory = store.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("MAR-INF"), withIntermediateDirectories: true)
        try Data("not torchscript".utf8).write(to: directory.appendingPathComponent("model.pt"))
        let manifest = """
            {"runtime": "python", "archiverVersion": "0.12.0", "model": {"modelName": "\(name)", \
            "serializedFile": "model.pt", "handler": "base_handler", "modelVersion": "\(version)"}}
            """
        try Data(manifest.utf8).write(to: directory.appendingPathComponent("MAR-INF/MANIFEST.json"))
        return directory
    }

    /// A fresh, empty model store in the temporary directory.
    public static func temporaryStore() throws -> URL {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("ember-fake-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        return store
    }
}
