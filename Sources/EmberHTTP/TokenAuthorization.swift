import EmberCore
import Foundation
import Synchronization

/// TorchServe's token authorization (contract §9.1): an inference key and a management key that
/// expire after `token_expiration_min`, and an API key (never expires) that rotates the other two.
/// Keys are 6 random bytes from the system CSPRNG, base64url (8 characters), compared in constant time.
public final class TokenAuthorization: Sendable {
    /// Which listener a key opens; the raw value is `/token?type=`'s.
    public enum Scope: String, Sendable, CaseIterable {
        case inference, management
    }

    public struct Token: Sendable, Equatable {
        public let key: String
        public let expiration: Date
    }

    private struct Keys {
        var management: Token
        var inference: Token
        let api: String

        subscript(scope: Scope) -> Token {
            get { scope == .inference ? inference : management }
            set {
                if scope == .inference { inference = newValue } else { management = newValue }
            }
        }
    }

    /// How long a key lives after it is made.
    public let lifetime: TimeInterval
    /// Where the keys are written (`key_file.json`), or nil to keep them in memory only.
    public let file: URL?
    private let keys: Mutex<Keys>

    /// Makes fresh keys; call `writeFile()` to publish them.
    public init(expirationMinutes: Double = 60, file: URL? = nil) {
        let lifetime = expirationMinutes * 60
        let now = Date()
        self.lifetime = lifetime
        self.file = file
        keys = Mutex(
            Keys(
                management: Token(key: Self.newKey(), expiration: now + lifetime),
                inference: Token(key: Self.newKey(), expiration: now + lifetime),
                api: Self.newKey()))
    }

    public func token(for scope: Scope) -> Token { keys.withLock { $0[scope] } }
    public var apiKey: String { keys.withLock { $0.api } }

    /// Whether `header` (the `Authorization` value) carries the unexpired key of `scope`.
    public func check(_ header: String?, for scope: Scope, now: Date = Date()) -> Bool {
        guard let presented = Self.bearerKey(header) else { return false }
        let token = token(for: scope)
        let matches = Self.constantTimeEqual(presented, token.key)
        return matches && now < token.expiration
    }

    /// Regenerates the key of `scope` (and its expiry) when `header` carries the API key, and rewrites
    /// the key file. Returns false, changing nothing, when the API key is wrong or missing.
    public func rotate(_ scope: Scope, authorizedBy header: String?) throws -> Bool {
        guard let presented = Self.bearerKey(header) else { return false }
        return try keys.withLock { keys in
            guard Self.constantTimeEqual(presented, keys.api) else { return false }
            let previous = keys[scope]
            keys[scope] = Token(key: Self.newKey(), expiration: Date() + lifetime)
            // Under the lock, so the file always ends with the newest keys; a key that cannot be
            // published is not used either.
            do {
                try write(keys)
            } catch {
                keys[scope] = previous
                throw error
            }
            return true
        }
    }

    /// Writes `key_file.json` (mode 0600, atomically); does nothing without a file.
    public func writeFile() throws {
        try keys.withLock { try write($0) }
    }

    private func write(_ keys: Keys) throws {
        guard let file else { return }
        try AtomicFile.write(Array(Self.document(keys).prettyPrinted().utf8), to: file, mode: 0o600)
    }

    /// TorchServe's key file, Gson-pretty, keys in its order.
    private static func document(_ keys: Keys) -> JSONValue {
        func entry(_ token: Token) -> JSONValue {
            ["key": .string(token.key), "expiration time": .string(timestamp(token.expiration))]
        }
        return [
            "management": entry(keys.management),
            "inference": entry(keys.inference),
            "API": ["key": .string(keys.api)],
        ]
    }

    // MARK: Pieces

    /// The key in `Bearer <key>`: TorchServe's `^Bearer\s+(\S+)$`, `Bearer` case-sensitive.
    static func bearerKey(_ header: String?) -> String? {
        guard let header else { return nil }
        let scalars = header.unicodeScalars
        guard scalars.starts(with: "Bearer".unicodeScalars) else { return nil }
        let rest = scalars.dropFirst(6)
        let isSpace: (Unicode.Scalar) -> Bool = { [" ", "\t", "\n", "\u{0B}", "\u{0C}", "\r"].contains($0) }
        guard let first = rest.first, isSpace(first) else { return nil }
        let key = rest.drop(while: isSpace)
        guard !key.isEmpty, !key.contains(where: isSpace) else { return nil }
        return String(String.UnicodeScalarView(key))
    }

    /// Compares every byte of `expected` whatever the differences, so timing reveals nothing of the key.
    static func constantTimeEqual(_ presented: String, _ expected: String) -> Bool {
        let lhs = Array(presented.utf8)
        let rhs = Array(expected.utf8)
        var difference = lhs.count ^ rhs.count
        for index in rhs.indices {
            let byte = index < lhs.count ? lhs[index] : 0
            difference |= Int(byte ^ rhs[index])
        }
        return difference == 0
    }

    /// base64url of 6 bytes from the system CSPRNG (getrandom on Linux): 8 characters.
    static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<6).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    /// `2026-11-21T17:30:16.258101969Z`, as Java's `Instant.toString`.
    static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let nanoseconds = min(999_999_999, max(0, Int((interval - Double(seconds)) * 1e9)))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let fraction = String(nanoseconds)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 9 - fraction.count) + fraction + "Z"
    }
}
