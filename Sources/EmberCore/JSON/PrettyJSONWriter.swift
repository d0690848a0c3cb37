/// Gson's pretty printing (``JSONValue/prettyPrinted()``) written straight into bytes: the same output,
/// byte for byte, without the `String` in between, and usable without building a `JSONValue` first
/// (answers rendered from a model's floats per request).
public struct PrettyJSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// A whole document, with the final newline.
    public static func document(_ value: JSONValue) -> [UInt8] {
        var writer = PrettyJSONWriter(reservingCapacity: 64)
        writer.write(value, indent: 0)
        writer.newline()
        return writer.bytes
    }

    public mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: ascii("null")
        case .bool(let flag): ascii(flag ? "true" : "false")
        case .int(let number): write(integer: number)
        case .double(let number): write(number)
        case .string(let text): write(string: text)
        case .array(let elements):
            container(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), count: elements.count, indent: indent) {
                writer, index, inner in writer.write(elements[index], indent: inner)
            }
        case .object(let pairs):
            container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), count: pairs.count, indent: indent) {
                writer, index, inner in
                writer.write(key: pairs[index].0)
                writer.write(pairs[index].1, indent: inner)
            }
        }
    }

    /// `[`/`{`, each element on its own line at `indent + 2`, the closer at `indent`; empty as `[]`/`{}`.
    public mutating func container(
        open: UInt8, close: UInt8, count: Int, indent: Int, element: (inout PrettyJSONWriter, Int, Int) -> Void
    ) {
        bytes.append(open)
        guard count > 0 else {
            bytes.append(close)
            return
        }
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            line(indent: indent + 2)
            element(&self, index, indent + 2)
        }
        line(indent: indent)
        bytes.append(close)
    }

    /// An object's key and the `": "` after it.
    public mutating func write(key: String) {
        write(string: key)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
    }

    /// A newline and `indent` spaces.
    public mutating func line(indent: Int) {
        bytes.append(UInt8(ascii: "\n"))
        for _ in 0..<max(0, indent) { bytes.append(UInt8(ascii: " ")) }
    }

    public mutating func newline() { bytes.append(UInt8(ascii: "\n")) }

    public mutating func write(integer: Int) {
        if integer < 0 { bytes.append(UInt8(ascii: "-")) }
        write(digitsOf: integer.magnitude)
    }

    private mutating func write(digitsOf magnitude: UInt) {
        // Up to 20 digits, most significant first.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var value = magnitude
            var count = 0
            repeat {
                digits[19 - count] = UInt8(ascii: "0") &+ UInt8(value % 10)
                value /= 10
                count += 1
            } while value > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }

    /// As JSONValue renders a double: `%.1f` for integral values below 1e15 (`1.0`, `-0.0`), the shortest
    /// round-tripping form otherwise, `null` for NaN and infinities.
    public mutating func write(_ value: Double) {
        guard value.isFinite else {
            ascii("null")
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            if value.sign == .minus { bytes.append(UInt8(ascii: "-")) }
            write(digitsOf: UInt(abs(value)))
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0"))
            return
        }
        // The standard library's description, written through its ASCII buffer without a String.
        value.write(to: &self)
    }

    /// A string with JSONValue's escapes.
    public mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): ascii("\\\"")
            case UInt8(ascii: "\\"): ascii("\\\\")
            case UInt8(ascii: "\n"): ascii("\\n")
            case UInt8(ascii: "\r"): ascii("\\r")
            case UInt8(ascii: "\t"): ascii("\\t")
            case 0..<0x20:
                ascii("\\u00")
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func ascii(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
}

extension PrettyJSONWriter: TextOutputStream {
    public mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

    /// What the standard library's number types call with their digits (no `String` made).
    public mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
}
