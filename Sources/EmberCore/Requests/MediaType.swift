/// The media type of a `Content-Type` value (`type/subtype`): lowercased, parameters and surrounding
/// blanks removed. Standard library only: this runs for every prediction.
public func mediaType(ofContentType contentType: String) -> String {
    var head = contentType.prefix { $0 != ";" }
    while let first = head.first, first == " " || first == "\t" { head = head.dropFirst() }
    while let last = head.last, last == " " || last == "\t" { head = head.dropLast() }
    return head.lowercased()
}
