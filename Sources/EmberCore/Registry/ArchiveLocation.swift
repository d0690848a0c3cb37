import Foundation

/// Where a registration's `url` points, checked before any I/O (contract §3.3, stricter on purpose):
/// an archive file or directory in the model store, named directly or by a `file://` URL inside it.
enum ArchiveLocation {
    static func resolve(_ url: String, modelStore: String?) throws(ServerError) -> String {
        guard !url.isEmpty else { throw ServerError(status: 404, type: "ModelNotFoundException", message: "empty url") }
        guard !url.contains("..") else {
            throw ServerError(status: 404, type: "ModelNotFoundException", message: "Relative path is not allowed in url: \(url)")
        }
        guard let modelStore else {
            throw ServerError(status: 404, type: "ModelNotFoundException", message: "Model store has not been configured.")
        }
        let store = URL(fileURLWithPath: modelStore).standardizedFileURL.resolvingSymlinksInPath()
        let candidate: URL
        let lowered = url.lowercased()
        if lowered.hasPrefix("file://") {
            candidate = URL(fileURLWithPath: String(url.dropFirst("file://".count)))
        } else if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || url.contains("://") {
            throw ServerError(
                status: 404, type: "ModelNotFoundException",
                message: "Given URL \(url) does not match any allowed URL(s)")
        } else if url.hasPrefix("/") {
            candidate = URL(fileURLWithPath: url)
        } else {
            candidate = store.appendingPathComponent(url)
        }
        let resolved = candidate.standardizedFileURL.resolvingSymlinksInPath()
        guard resolved.path.hasPrefix(store.path + "/") else {
            throw ServerError(
                status: 404, type: "ModelNotFoundException",
                message: "Given URL \(url) does not match any allowed URL(s): only archives in the model store are served")
        }
        guard FileManager.default.fileExists(atPath: resolved.path) else {
            throw ServerError(status: 404, type: "ModelNotFoundException", message: "Model not found at: \(url)")
        }
        return resolved.path
    }
}

/// TorchServe's rule for model names (`^[A-Za-z0-9][A-Za-z0-9_\-.]*$`).
enum ModelName {
    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "-" || $0 == "." }
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
