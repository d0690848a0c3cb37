import EmberCore

/// A request path split as TorchServe splits it (Java `String.split("/")`): empty segments from a
/// leading slash are dropped and so is a trailing slash, so `/models/x/` is `/models/x`.
struct RequestPath: Sendable, Equatable {
    let segments: [String]

    init(_ path: String) {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var parts = withoutQuery.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.utf8.contains(UInt8(ascii: "%")) ? URLEncodedForm.percentDecoded(segment, plusIsSpace: false) : String(segment)
        }
        if parts.first == "" { parts.removeFirst() }
        while parts.last == "" { parts.removeLast() }
        segments = parts
    }

    var count: Int { segments.count }
    subscript(index: Int) -> String? { segments.indices.contains(index) ? segments[index] : nil }
}
