/// A float32 tensor read straight from a request body's bytes into the `[Float]` that becomes the
/// model's input: no `JSONValue` tree (one heap box per number), no `[Double]` in between.
///
/// Only the common, well-formed layouts take this path: `{"data": <list>}`, KServe's
/// `{"instances": <list>}` and a bare `<list>`, where `<list>` is a rectangular nested list of numbers,
/// at least one level deep, without empty lists.
/// Anything else (another key or a second key, a string, a bool, `null`, an escape in the
/// key, a byte order mark, a number that float32 cannot hold, malformed JSON) answers nil, and the body
/// goes through ``JSONTensor``, which accepts or refuses it with its own messages. So this path never
/// changes what is accepted, only how fast.
///
/// Each number becomes the `Float` JSONTensor would make of it: the literal read as the nearest `Double`
/// (an integer literal through `Int64` when it fits, as `JSONValue` reads it: `-0` is `+0.0`), then
/// rounded to `Float`. Small literals use Clinger's exact fast path (at most 2^53 in the significand,
/// a power of ten up to 10^22: one correctly rounded IEEE operation); the rest go through the standard
/// library's correctly rounded parser.
struct JSONFloatTensor: Equatable {
    /// Row-major.
    var values: [Float]
    /// The shape of the whole list (not yet split into rows).
    var shape: [Int]
    /// The list was `instances`: each of its elements is one row.
    var isInstances = false

    /// Nesting deeper than this is left to JSONTensor (which refuses it past 64, as JSONValue does).
    static let maxDepth = 32

    static func parse(_ body: [UInt8]) -> JSONFloatTensor? {
        body.withUnsafeBufferPointer { bytes in
            var parser = Parser(bytes: bytes)
            return parser.document()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var values: [Float] = []
        /// Element count of the lists at each depth (-1: none closed yet), set when the first list at
        /// that depth closes; inner lists close first.
        var counts: [Int] = []
        /// The depth every number is at, set by the first one.
        var leafDepth: Int?
        var isInstances = false

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            // Each number takes at least two bytes with its separator, so this never reallocates for a
            // body of up to 8 KiB; a larger one grows as it is read (a body that is not a list of
            // numbers is refused early without having reserved its size).
            values.reserveCapacity(Swift.min(bytes.count / 2 + 1, 4096))
        }

        mutating func document() -> JSONFloatTensor? {
            skipWhitespace()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "["):
                guard list(depth: 0) else { return nil }
            case UInt8(ascii: "{"):
                position += 1
                skipWhitespace()
                switch key() {
                case "data"?: break
                case "instances"?: isInstances = true
                default: return nil
                }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "["), list(depth: 0) else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: "}")) else { return nil }
            default:
                return nil
            }
            skipWhitespace()
            guard position == bytes.count, let leafDepth, counts.count == leafDepth, !counts.contains(-1) else {
                return nil
            }
            return JSONFloatTensor(values: values, shape: counts, isInstances: isInstances)
        }

        /// A key without escapes or control characters; nil otherwise.
        mutating func key() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                    position += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                position += 1
            }
            return nil
        }

        /// A list at `position` (its `[`), checked rectangular against the lists read before it.
        mutating func list(depth: Int) -> Bool {
            guard depth < JSONFloatTensor.maxDepth else { return false }
            position += 1
            var count = 0
            while true {
                skipWhitespace()
                guard position < bytes.count else { return false }
                if bytes[position] == UInt8(ascii: "[") {
                    // A list where numbers were found at this depth, or deeper than they are: ragged.
                    if let leafDepth, leafDepth <= depth + 1 { return false }
                    guard list(depth: depth + 1) else { return false }
                } else {
                    if leafDepth == nil { leafDepth = depth + 1 }
                    guard leafDepth == depth + 1, let value = number() else { return false }
                    values.append(value)
                }
                count += 1
                skipWhitespace()
                guard position < bytes.count else { return false }
                let separator = bytes[position]
                position += 1
                if separator == UInt8(ascii: ",") { continue }
                guard separator == UInt8(ascii: "]") else { return false }
                break
            }
            while counts.count <= depth { counts.append(-1) }
            if counts[depth] == -1 {
                counts[depth] = count
            } else if counts[depth] != count {
                return false
            }
            return true
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x0A, 0x0D, 0x09: position += 1
                default: return
                }
            }
        }

        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }

        /// A JSON number (RFC 8259's grammar, as JSONValue reads it) as float32; nil when it is not one,
        /// or is out of float32's range (JSONTensor says so).
        mutating func number() -> Float? {
            let start = position
            let negative = take(UInt8(ascii: "-"))
            let digitsStart = position
            var significand: UInt64 = 0
            var significantDigits = 0
            var decimalExponent = 0
            while isDigit(position) {
                let digit = UInt64(bytes[position] &- UInt8(ascii: "0"))
                if significantDigits < 19 {
                    significand = significand &* 10 &+ digit
                    if significand != 0 { significantDigits += 1 }
                } else {
                    decimalExponent += 1
                    significantDigits += 1
                }
                position += 1
            }
            guard position > digitsStart else { return nil }
            if position - digitsStart > 1, bytes[digitsStart] == UInt8(ascii: "0") { return nil }
            var isInteger = true
            if take(UInt8(ascii: ".")) {
                isInteger = false
                let fractionStart = position
                while isDigit(position) {
                    if significantDigits < 19 {
                        significand = significand &* 10 &+ UInt64(bytes[position] &- UInt8(ascii: "0"))
                        if significand != 0 { significantDigits += 1 }
                        decimalExponent -= 1
                    } else {
                        significantDigits += 1
                    }
                    position += 1
                }
                guard position > fractionStart else { return nil }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                isInteger = false
                position += 1
                var exponentNegative = false
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                    exponentNegative = bytes[position] == UInt8(ascii: "-")
                    position += 1
                }
                let exponentStart = position
                var exponent = 0
                while isDigit(position) {
                    // Beyond this the value is 0 or infinite whatever the digits; the slow path sees it.
                    if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[position] &- UInt8(ascii: "0")) }
                    position += 1
                }
                guard position > exponentStart else { return nil }
                decimalExponent += exponentNegative ? -exponent : exponent
            }
            let double: Double
            if isInteger {
                // JSONValue reads an integer literal that fits Int64 as an Int, and JSONTensor converts
                // it with Double(Int64): the same rounding as the decimal's, but `-0` is +0.0.
                if significantDigits <= 18 || fitsInt64(start: start) {
                    guard let integer = integerValue(negative: negative, digitsStart: digitsStart) else { return nil }
                    double = Double(integer)
                } else {
                    guard let parsed = slowDouble(start: start) else { return nil }
                    double = parsed
                }
            } else if significantDigits <= 19, significand <= 1 << 53, abs(decimalExponent) <= 22 {
                let magnitude =
                    decimalExponent < 0
                    ? Double(significand) / Self.powersOfTen[-decimalExponent]
                    : Double(significand) * Self.powersOfTen[decimalExponent]
                double = negative ? -magnitude : magnitude
            } else {
                guard let parsed = slowDouble(start: start) else { return nil }
                double = parsed
            }
            guard double.isFinite, abs(double) <= Double(Float.greatestFiniteMagnitude) else { return nil }
            return Float(double)
        }

        /// Whether the integer literal from `start` fits Int64 (so JSONValue reads it as an Int).
        func fitsInt64(start: Int) -> Bool {
            Int64(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)) != nil
        }

        /// The integer literal's value (the caller checked it fits).
        func integerValue(negative: Bool, digitsStart: Int) -> Int64? {
            var magnitude: UInt64 = 0
            for index in digitsStart..<position {
                let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] &- UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                magnitude = sum
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
                return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return Int64(magnitude)
        }

        /// The standard library's correctly rounded parse, for literals outside the exact fast path.
        func slowDouble(start: Int) -> Double? {
            Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }

        /// 10^0 … 10^22, each exact in a Double.
        static let powersOfTen: [Double] = (0...22).map { exponent in
            var value = 1.0
            for _ in 0..<exponent { value *= 10 }
            return value
        }
    }
}
