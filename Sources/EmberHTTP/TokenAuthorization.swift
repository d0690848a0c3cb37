import EmberCore
import Foundation
import Synchronization

/// TorchServe's token authorization (contract §9.1): an inference key and a management key that
/// expire after `token_expiration_min`, and an API key (never expires) that rotates the other two.
/// Keys are 6 random bytes from the system CSPRNG, base64url (8 characters), compared in constant time.
///
/// Or, for replicas that must accept the same keys, the keys of an operator's file in the same format
/// (`token_key_file`, see `TokenKeyFile`): never rotated nor written by the server, expiring only where
/// the file gives an `expiration time`, replaced by `reload()` when the file changes.
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

    /// Where the keys come from.
    public enum Origin: Sendable, Equatable {
        /// Made here, written to `file` (`key_file.json`) when there is one, rotated with the API key.
        case generated
        /// Read from the operator's file at this path, and re-read when it changes.
        case operatorFile(URL)
    }

    /// How long a key lives after it is made.
    public let lifetime: TimeInterval
    /// Where the keys are written (`key_file.json`), or nil to keep them in memory only.
    public let file: URL?
    public let origin: Origin
    private let keys: Mutex<Keys>
    /// The operator file's bytes the keys were read from (a change is what `reload()` looks for).
    private let source: Mutex<[UInt8]>

    /// Makes fresh keys; call `writeFile()` to publish them.
    public init(expirationMinutes: Double = 60, file: URL? = nil) {
        let lifetime = expirationMinutes * 60
        let now = Date()
        self.lifetime = lifetime
        self.file = file
        origin = .generated
        source = Mutex([])
        keys = Mutex(
            Keys(
                management: Token(key: Self.newKey(), expiration: now + lifetime),
                inference: Token(key: Self.newKey(), expiration: now + lifetime),
                api: Self.newKey()))
    }

    /// The keys of the operator's key file at `path` (TorchServe's `key_file.json` format): a missing,
    /// unreadable or malformed file is a `ConfigurationError` naming it.
    public init(operatorFile path: URL) throws {
        let bytes = try TokenKeyFile.read(path)
        let parsed = try TokenKeyFile.parse(bytes, name: path.path)
        lifetime = .infinity
        file = nil
        origin = .operatorFile(path)
        source = Mutex(bytes)
        keys = Mutex(Keys(management: parsed.management, inference: parsed.inference, api: parsed.api ?? ""))
    }

    /// How a `reload()` went.
    public enum Reload: Sendable, Equatable {
        /// The file is as it was (or the keys are generated: there is nothing to re-read).
        case unchanged
        /// The file changed and its keys are now the ones required.
        case replaced
        /// The file changed but cannot be used (the reason); the previous keys stay.
        case refused(String)
    }

    /// Re-reads the operator's key file and, when it changed and reads well, swaps its keys in.
    /// Blocking file I/O: call it from a thread of its own (`KeyFileWatcher`), not from the event loops.
    public func reload() -> Reload {
        guard case .operatorFile(let path) = origin else { return .unchanged }
        let bytes: [UInt8]
        let parsed: TokenKeyFile.Keys
        do {
            bytes = try TokenKeyFile.read(path)
            if bytes == source.withLock({ $0 }) { return .unchanged }
            parsed = try TokenKeyFile.parse(bytes, name: path.path)
        } catch {
            return .refused("\(error)")
        }
        keys.withLock { keys in
            keys = Keys(management: parsed.management, inference: parsed.inference, api: parsed.api ?? "")
        }
        source.withLock { $0 = bytes }
        return .replaced
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
        guard origin == .generated else { return false }
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
        guard origin == .generated, let file else { return }
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
