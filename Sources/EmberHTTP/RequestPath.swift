import EmberCore

/// A request path split as TorchServe splits it (Java `String.split("/")`): empty segments from a
/// leading slash are dropped and so is a trailing slash, so `/models/x/` is `/models/x`.
struct RequestPath: Sendable, Equatable {
    let segments: [String]

    init(_ path: String) {
        // One pass over the bytes (this runs for every request): segments end at "/", the path at "?".
        let bytes = path.utf8
        var parts: [String] = []
        var start = bytes.startIndex
        var index = start
        var escaped = false
        func take(upTo end: String.Index) {
            let segment = path[start..<end]
            parts.append(escaped ? URLEncodedForm.percentDecoded(segment, plusIsSpace: false) : String(segment))
        }
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "?") { break }
            if byte == UInt8(ascii: "/") {
                take(upTo: index)
                start = bytes.index(after: index)
                escaped = false
            } else if byte == UInt8(ascii: "%") {
                escaped = true
            }
            index = bytes.index(after: index)
        }
        take(upTo: index)
        if parts.first == "" { parts.removeFirst() }
        while parts.last == "" { parts.removeLast() }
        segments = parts
    }

    var count: Int { segments.count }
    subscript(index: Int) -> String? { segments.indices.contains(index) ? segments[index] : nil }
}
