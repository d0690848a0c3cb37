import Foundation

/// Downloads an allow-listed archive URL into the model store. The server's implementation uses HTTP
/// with a size limit, a timeout and redirects only to allowed URLs; the registry calls it on a thread of
/// its own.
public protocol ArchiveFetcher: Sendable {
    /// Downloads `url` to `destination` (which does not exist yet), or throws a ServerError.
    func fetch(_ url: URL, to destination: URL, allowedURLs: [String]) throws(ServerError)
}

extension ArchiveFetcher {
    /// Whether `url` may be followed (a redirect target, for example).
    public func isAllowed(_ url: String, allowedURLs: [String]) -> Bool {
        URLAllowList(allowedURLs).allows(url)
    }
}
