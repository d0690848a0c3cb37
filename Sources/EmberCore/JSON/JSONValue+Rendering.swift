import Foundation

extension JSONValue {
    /// Gson's pretty printing as TorchServe uses it: 2-space indentation, `": "`, no HTML escaping,
    /// `[]`/`{}` for empty containers, and a final newline.
    public func prettyPrinted() -> String {
        var output = ""
        write(to: &output, indent: 0)
        output.append("\n")
        return output
    }

    /// One line, no spaces: for logs and compact bodies.
    public func compact() -> String {
        var output = ""
        write(to: &output, indent: nil)
        return output
    }

    private func write(to output: inout String, indent: Int?) {
        switch self {
        case .null: output.append("null")
        case .bool(let value): output.append(value ? "true" : "false")
        case .int(let value): output.append(String(value))
        case .double(let value): output.append(Self.format(value))
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            writeContainer(open: "[", close: "]", count: elements.count, to: &output, indent: indent) { index, output, inner in
                elements[index].write(to: &output, indent: inner)
            }
        case .object(let pairs):
            writeContainer(open: "{", close: "}", count: pairs.count, to: &output, indent: indent) { index, output, inner in
                Self.writeString(pairs[index].0, to: &output)
                output.append(inner == nil ? ":" : ": ")
                pairs[index].1.write(to: &output, indent: inner)
            }
        }
    }

    private func writeContainer(
        open: String, close: String, count: Int, to output: inout String, indent: Int?,
        element: (Int, inout String, Int?) -> Void
    ) {
        output.append(open)
        guard count > 0 else {
            output.append(close)
            return
        }
        let inner = indent.map { $0 + 2 }
        for index in 0..<count {
            if index > 0 { output.append(",") }
            if let inner { output.append("\n" + String(repeating: " ", count: inner)) }
            element(index, &output, inner)
        }
        if let indent { output.append("\n" + String(repeating: " ", count: indent)) }
        output.append(close)
    }

    /// Finite numbers as the shortest round-tripping form; NaN and infinities (not JSON) as null.
    private static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    private static func writeString(_ value: String, to output: inout String) {
        output.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case let c where c.value < 0x20:
                output.append("\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16))
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }
}
