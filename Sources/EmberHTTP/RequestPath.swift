/// A request path split as TorchServe splits it (Java `String.split("/")`): empty segments from a
/// leading slash are dropped and so is a trailing slash, so `/models/x/` is `/models/x`.
struct RequestPath: Sendable, Equatable {
    let segments: [String]

    init(_ path: String) {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var parts = withoutQuery.split(separator: "/", omittingEmptySubsequences: false).map {
            URLEncodedFormDecoding.percentDecoded(String($0))
        }
        if parts.first == "" { parts.removeFirst() }
        while parts.last == "" { parts.removeLast() }
        segments = parts
    }

    var count: Int { segments.count }
    subscript(index: Int) -> String? { segments.indices.contains(index) ? segments[index] : nil }
}

/// Percent-decoding of a path segment (no `+` to space, unlike forms).
enum URLEncodedFormDecoding {
    static func percentDecoded(_ segment: String) -> String {
        guard segment.contains("%") else { return segment }
        var bytes: [UInt8] = []
        let utf8 = Array(segment.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
