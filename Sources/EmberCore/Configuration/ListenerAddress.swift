/// A listener address from `config.properties`: `http://HOST[:PORT]` or `https://HOST[:PORT]`.
public struct ListenerAddress: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(scheme: String = "http", host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses TorchServe's address grammar; a missing port takes `defaultPort` (or 443-style for https).
    public static func parse(_ text: String, defaultPort: Int, defaultTLSPort: Int) throws(ConfigurationError) -> Self {
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("http://") {
            scheme = "http"
        } else if lowered.hasPrefix("https://") {
            scheme = "https"
        } else {
            throw ConfigurationError("invalid address \(text): expected http://host[:port] or https://host[:port]")
        }
        var rest = String(text.dropFirst(scheme.count + 3))
        while rest.hasSuffix("/") { rest.removeLast() }
        var host = rest
        var port = scheme == "https" ? defaultTLSPort : defaultPort
        if rest.hasPrefix("[") {
            // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { throw ConfigurationError("invalid IPv6 address \(text)") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (0...65535).contains(value) else {
                    throw ConfigurationError("invalid port in \(text)")
                }
                port = value
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]), (0...65535).contains(value) else {
                throw ConfigurationError("invalid port in \(text)")
            }
            port = value
        }
        guard !host.isEmpty else { throw ConfigurationError("missing host in \(text)") }
        return ListenerAddress(scheme: scheme, host: host, port: port)
    }

    public var description: String {
        "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

/// A configuration that cannot be used, with a message for the person starting the server.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
