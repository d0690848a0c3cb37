import EmberCore

/// Integer parameters (query string or JSON body) read as TorchServe reads them, but checked: text
/// that is not a number counts as absent (TorchServe falls back to its default there), a number
/// outside `range`, or too large for any integer, is a 400 naming the parameter and the range.
/// `belowIsAbsent`: a number under the range is "not given" (TorchServe's `-1` means "use the default").
enum IntegerParameter {
    static func parse(_ text: String?, name: String, range: ClosedRange<Int>, belowIsAbsent: Bool = false)
        throws(ServerError) -> Int?
    {
        guard let text, isInteger(text) else { return nil }
        let negative = text.utf8.first == UInt8(ascii: "-")
        guard let value = Int(text) else {
            if negative && belowIsAbsent { return nil }
            throw .outOfRange(name, range, got: text)
        }
        if value < range.lowerBound && belowIsAbsent { return nil }
        guard range.contains(value) else { throw .outOfRange(name, range, got: text) }
        return value
    }

    /// An optional sign and decimal digits: what Java's `Integer.parseInt` would try to read.
    static func isInteger(_ text: String) -> Bool {
        let digits = text.utf8.first == UInt8(ascii: "-") || text.utf8.first == UInt8(ascii: "+") ? text.utf8.dropFirst() : text.utf8[...]
        return !digits.isEmpty && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
