import EmberCore
import Foundation

/// The operator's key file (`token_key_file`): TorchServe's `key_file.json` format, so one file
/// (a Kubernetes Secret) can give every replica the same keys.
///
/// ```json
/// {"management": {"key": "…"}, "inference": {"key": "…", "expiration time": "2026-11-21T17:30:16.258101969Z"},
///  "API": {"key": "…"}}
/// ```
///
/// `management` and `inference` are required; a key without `expiration time` never expires; `API`
/// may be present (a file TorchServe wrote) but rotates nothing: the server never writes this file.
public enum TokenKeyFile {
    /// A key file is a few hundred bytes; anything much larger is not one.
    public static let maximumSize = 64 * 1024
    /// Longer keys than this are refused (they would only make every header compare slower).
    public static let maximumKeyLength = 1024

    public struct Keys: Sendable, Equatable {
        public var management: TokenAuthorization.Token
        public var inference: TokenAuthorization.Token
        public var api: String?
    }

    /// The file's bytes, refusing a missing, unreadable or oversized file.
    public static func read(_ path: URL) throws(ConfigurationError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path.path) else {
            throw ConfigurationError("token_key_file \(path.path) cannot be opened (missing or not readable)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            throw ConfigurationError("token_key_file \(path.path) cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maximumSize else {
            throw ConfigurationError("token_key_file \(path.path) is larger than \(maximumSize) bytes: not a key file")
        }
        return [UInt8](data)
    }

    public static func parse(_ bytes: [UInt8], name: String) throws(ConfigurationError) -> Keys {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw ConfigurationError("token_key_file \(name) is not JSON: \(error)")
        }
        guard case .object = json else { throw ConfigurationError("token_key_file \(name) is not a JSON object") }
        func token(_ section: String) throws(ConfigurationError) -> TokenAuthorization.Token {
            guard let entry = json[section] else {
                throw ConfigurationError("token_key_file \(name) has no \"\(section)\" section")
            }
            let key = try self.key(entry, section: section, name: name)
            var expiration = Date.distantFuture
            if let value = entry["expiration time"] {
                guard case .string(let text) = value, let date = timestamp(text) else {
                    throw ConfigurationError(
                        "token_key_file \(name): \"\(section)\".\"expiration time\" must be a UTC time like "
                            + "2026-11-21T17:30:16.258101969Z")
                }
                expiration = date
            }
            return TokenAuthorization.Token(key: key, expiration: expiration)
        }
        var api: String?
        if let entry = json["API"] { api = try key(entry, section: "API", name: name) }
        return Keys(management: try token("management"), inference: try token("inference"), api: api)
    }

    /// A key a client can send as `Authorization: Bearer <key>`: non-empty, printable ASCII, no space.
    private static func key(_ entry: JSONValue, section: String, name: String) throws(ConfigurationError) -> String {
        guard case .string(let key)? = entry["key"] else {
            throw ConfigurationError("token_key_file \(name): \"\(section)\" has no \"key\" string")
        }
        guard !key.isEmpty, key.utf8.count <= maximumKeyLength, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigurationError(
                "token_key_file \(name): the \"\(section)\" key must be 1 to \(maximumKeyLength) printable ASCII "
                    + "characters without spaces")
        }
        return key
    }

    /// `2026-11-21T17:30:16.258101969Z` (Java's `Instant.toString`, what TorchServe writes), the fraction optional.
    static func timestamp(_ text: String) -> Date? {
        let pattern = /(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z/
        guard let match = text.wholeMatch(of: pattern),
            let year = Int32(match.1), let month = Int32(match.2), let day = Int32(match.3),
            let hour = Int32(match.4), let minute = Int32(match.5), let second = Int32(match.6),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        guard seconds != -1 || (year == 1969) else { return nil }
        var fraction = 0.0
        if let digits = match.7, let value = Double("0." + digits) { fraction = value }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
