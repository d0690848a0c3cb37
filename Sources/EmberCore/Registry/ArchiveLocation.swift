import Foundation

/// Where a registration's `url` points, checked before any I/O (contract §3.3, stricter on purpose):
/// an archive file or directory in the model store, named directly or by a `file://` URL inside it, or
/// an `http(s)://` URL that matches one of `allowed_urls` (nothing does by default).
enum ArchiveLocation: Equatable {
    case local(path: String)
    /// To download into the model store as `fileName`.
    case remote(URL, fileName: String)

    static func resolve(_ url: String, modelStore: String?, allowedURLs: [String] = []) throws(ServerError) -> Self {
        guard !url.isEmpty else { throw ServerError(.archiveNotFound, "empty url") }
        guard !url.contains("..") else {
            throw ServerError(.archiveNotFound, "Relative path is not allowed in url: \(url)")
        }
        guard let modelStore else {
            throw ServerError(.archiveNotFound, "Model store has not been configured.")
        }
        let store = URL(fileURLWithPath: modelStore).standardizedFileURL.resolvingSymlinksInPath()
        let candidate: URL
        let lowered = url.lowercased()
        if lowered.hasPrefix("file://") {
            candidate = URL(fileURLWithPath: String(url.dropFirst("file://".count)))
        } else if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || url.contains("://") {
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), URLAllowList(allowedURLs).allows(url),
                let remote = URL(string: url), let fileName = remote.pathComponents.last,
                ModelName.isValidFileName(fileName)
            else {
                throw ServerError(.archiveNotFound, "Given URL \(url) does not match any allowed URL(s)")
            }
            return .remote(remote, fileName: fileName)
        } else if url.hasPrefix("/") {
            candidate = URL(fileURLWithPath: url)
        } else {
            candidate = store.appendingPathComponent(url)
        }
        let resolved = candidate.standardizedFileURL.resolvingSymlinksInPath()
        guard resolved.path.hasPrefix(store.path + "/") else {
            throw ServerError(.archiveNotFound,
                "Given URL \(url) does not match any allowed URL(s): only archives in the model store are served")
        }
        guard FileManager.default.fileExists(atPath: resolved.path) else {
            throw ServerError(.archiveNotFound, "Model not found at: \(url)")
        }
        return .local(path: resolved.path)
    }
}

/// `allowed_urls`: regular expressions a download URL must match whole (case-insensitive, as TorchServe).
struct URLAllowList: Sendable {
    let patterns: [String]

    init(_ patterns: [String]) { self.patterns = patterns }

    func allows(_ url: String) -> Bool {
        patterns.contains { pattern in
            guard let expression = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$", options: [.caseInsensitive])
            else { return false }
            return expression.firstMatch(in: url, range: NSRange(url.startIndex..., in: url)) != nil
        }
    }
}

/// TorchServe's rule for model names (`^[A-Za-z0-9][A-Za-z0-9_\-.]*$`).
enum ModelName {
    /// A downloaded archive's name in the store: the same characters, and an archive extension.
    static func isValidFileName(_ name: String) -> Bool {
        isValid(name) && (name.hasSuffix(".mar") || name.hasSuffix(".tar.gz") || name.hasSuffix(".model"))
    }

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
