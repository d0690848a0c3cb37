import Foundation

/// Why a form body could not be read.
public struct FormParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public var description: String { message }
}

/// Parses `multipart/form-data` bodies (RFC 7578) into fields.
public enum MultipartParser {
    /// The `boundary` parameter of a `multipart/form-data` content type, or nil for other types.
    public static func boundary(fromContentType contentType: String) -> String? {
        guard mediaType(ofContentType: contentType) == "multipart/form-data" else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst().map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    public static func parse(_ body: [UInt8], boundary: String) throws(FormParseError) -> [FormField] {
        let delimiter = Array("--\(boundary)".utf8)
        guard var cursor = firstIndex(of: delimiter, in: body, from: 0) else {
            throw FormParseError(message: "The multipart body does not contain its boundary.")
        }
        var fields: [FormField] = []
        let crlf: [UInt8] = [13, 10]
        while true {
            cursor += delimiter.count
            if body.count - cursor >= 2, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") {
                return fields
            }
            // The rest of the boundary line (transport padding) up to CRLF.
            guard let lineEnd = firstIndex(of: crlf, in: body, from: cursor) else {
                throw FormParseError(message: "The multipart body ends inside a boundary line.")
            }
            let partStart = lineEnd + 2
            guard let headerEnd = firstIndex(of: [13, 10, 13, 10], in: body, from: partStart - 2) else {
                throw FormParseError(message: "A multipart part has no end of headers.")
            }
            let headers = headerEnd >= partStart ? String(decoding: body[partStart..<headerEnd], as: UTF8.self) : ""
            let contentStart = headerEnd + 4
            guard let next = firstIndex(of: crlf + delimiter, in: body, from: contentStart) else {
                throw FormParseError(message: "A multipart part is not closed by the boundary.")
            }
            fields.append(try field(headers: headers, value: Array(body[contentStart..<next])))
            cursor = next + 2
        }
    }

    private static func field(headers: String, value: [UInt8]) throws(FormParseError) -> FormField {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in headers.split(separator: "\r\n", omittingEmptySubsequences: true) {
            let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0].lowercased() {
            case "content-disposition":
                name = parameter("name", in: pair[1])
                filename = parameter("filename", in: pair[1])
            case "content-type":
                contentType = pair[1]
            default:
                break
            }
        }
        guard let name else {
            throw FormParseError(message: "A multipart part has no Content-Disposition name.")
        }
        return FormField(name: name, contentType: contentType, filename: filename, value: value)
    }

    private static func parameter(_ key: String, in disposition: String) -> String? {
        for piece in disposition.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var value = pair[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, start >= 0, haystack.count - start >= needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
