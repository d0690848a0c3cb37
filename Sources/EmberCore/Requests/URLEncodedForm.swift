/// `application/x-www-form-urlencoded` bodies and query strings.
public enum URLEncodedForm {
    /// Name/value pairs in order; `+` is a space, `%XX` a byte. Malformed escapes are kept literally.
    public static func parse(_ text: some StringProtocol) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            return (name, value)
        }
    }

    /// A form field name or value: `+` is a space, `%XX` a byte.
    public static func decode(_ component: some StringProtocol) -> String {
        percentDecoded(component, plusIsSpace: true)
    }

    /// `%XX` escapes decoded (malformed ones kept literally); `+` is a space only in forms, not in paths.
    public static func percentDecoded(_ component: some StringProtocol, plusIsSpace: Bool) -> String {
        guard component.contains("%") || (plusIsSpace && component.contains("+")) else { return String(component) }
        var bytes: [UInt8] = []
        let utf8 = Array(component.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if plusIsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
                let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
