import EmberCore

/// A tensor read from a JSON request body: TorchServe's `{"data": …}`, KServe's `{"instances": […]}`
/// or a bare nested list.
struct JSONTensor {
    /// The rows it contributes to the batch, each of the declared per-row shape.
    var rows: NumericRows
    var rowShape: [Int]
    /// True when the request sent several rows and expects a list back.
    var isMultiRow: Bool

    static let formatHint = #"Send {"data": [...]}, {"instances": [...]} or a nested list of numbers."#

    /// What the model's dtype asks of each number.
    struct Element {
        var dtypeName: String
        /// Integer dtypes (and bool) keep their values as `Int64`, exactly: a trip through `Double`
        /// rounds every integer above 2^53 and traps converting 2^63 back.
        var integral: Bool
        var boolean: Bool

        var integerRange: ClosedRange<Int64> {
            switch dtypeName {
            case "int32": Int64(Int32.min)...Int64(Int32.max)
            case "uint8": 0...255
            case "bool": 0...1
            default: Int64.min...Int64.max
            }
        }
    }

    /// Decodes and validates against the declared per-row shape (`-1` matches any size).
    static func decode(_ body: [UInt8], declaredShape: [Int]?, dtypeName: String, integral: Bool, boolean: Bool)
        throws(ServerError) -> JSONTensor
    {
        let element = Element(dtypeName: dtypeName, integral: integral, boolean: boolean)
        guard !body.isEmpty else { throw .badRequest("The request body is empty. " + formatHint) }
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            throw .badRequest("The request body is not valid JSON (\(error)). " + formatHint)
        }
        switch document {
        case .object:
            if let data = document["data"] ?? document["body"] {
                return try single(data, declaredShape: declaredShape, element)
            }
            if case .array(let instances)? = document["instances"] {
                return try many(instances, declaredShape: declaredShape, element)
            }
            throw .badRequest("The JSON object has no \"data\" or \"instances\" field. " + formatHint)
        case .array:
            return try single(document, declaredShape: declaredShape, element)
        default:
            throw .badRequest("The JSON body is not a tensor. " + formatHint)
        }
    }

    private static func single(_ value: JSONValue, declaredShape: [Int]?, _ element: Element) throws(ServerError)
        -> JSONTensor
    {
        var flat = NumericRows.Flat(integral: element.integral)
        let shape = try shapeAndValues(value, into: &flat, element)
        guard let declared = declaredShape else {
            return JSONTensor(rows: flat.oneRow, rowShape: shape, isMultiRow: false)
        }
        if matches(shape, declared) {
            return JSONTensor(rows: flat.oneRow, rowShape: shape, isMultiRow: false)
        }
        if shape.count == declared.count + 1, matches(Array(shape.dropFirst()), declared), shape[0] > 0 {
            return JSONTensor(rows: flat.split(into: shape[0]), rowShape: Array(shape.dropFirst()), isMultiRow: true)
        }
        throw .badRequest(shapeMessage(got: shape, declared: declared, dtypeName: element.dtypeName))
    }

    private static func many(_ instances: [JSONValue], declaredShape: [Int]?, _ element: Element) throws(ServerError)
        -> JSONTensor
    {
        guard !instances.isEmpty else { throw .badRequest("\"instances\" is empty. " + formatHint) }
        var rows: [NumericRows.Flat] = []
        var rowShape: [Int]?
        for instance in instances {
            var flat = NumericRows.Flat(integral: element.integral)
            let shape = try shapeAndValues(instance, into: &flat, element)
            if let declared = declaredShape, !matches(shape, declared) {
                throw .badRequest(shapeMessage(got: shape, declared: declared, dtypeName: element.dtypeName, instance: true))
            }
            if let rowShape, rowShape != shape {
                throw .badRequest("All instances must have one shape; got \(rowShape) and \(shape).")
            }
            rowShape = shape
            rows.append(flat)
        }
        let joined: NumericRows =
            element.integral ? .integers(rows.map(\.integers)) : .reals(rows.map(\.reals))
        return JSONTensor(rows: joined, rowShape: rowShape ?? [], isMultiRow: true)
    }

    /// How a whole list of `shape` splits into rows of the declared shape, as ``decode`` splits it:
    /// one row of that shape, or `n > 0` rows; nil when it is neither (decode says why). The elements
    /// of `instances` are one row each, of the declared shape.
    static func rows(ofShape shape: [Int], declaredShape: [Int]?, instances: Bool = false)
        -> (count: Int, rowShape: [Int], isMultiRow: Bool)?
    {
        if instances {
            guard let count = shape.first, count > 0 else { return nil }
            let rowShape = Array(shape.dropFirst())
            if let declared = declaredShape, !matches(rowShape, declared) { return nil }
            return (count, rowShape, true)
        }
        guard let declared = declaredShape else { return (1, shape, false) }
        if matches(shape, declared) { return (1, shape, false) }
        if shape.count == declared.count + 1, matches(Array(shape.dropFirst()), declared), shape[0] > 0 {
            return (shape[0], Array(shape.dropFirst()), true)
        }
        return nil
    }

    private static func matches(_ shape: [Int], _ declared: [Int]) -> Bool {
        shape.count == declared.count && zip(shape, declared).allSatisfy { $1 == -1 || $0 == $1 }
    }

    private static func shapeMessage(got shape: [Int], declared: [Int], dtypeName: String, instance: Bool = false) -> String {
        let wanted = declared.map { $0 == -1 ? "*" : String($0) }.joined(separator: ", ")
        if instance {
            return "Each instance must have shape [\(wanted)] of \(dtypeName); got shape \(shape)."
        }
        return "The input has shape \(shape); the model expects [\(wanted)] (one row) or [n, \(wanted)] (n rows) of \(dtypeName)."
    }

    /// The shape of a rectangular nested list, appending its numbers in row-major order.
    private static func shapeAndValues(_ value: JSONValue, into flat: inout NumericRows.Flat, _ element: Element)
        throws(ServerError) -> [Int]
    {
        switch value {
        case .int(let number):
            try append(integer: Int64(number), shown: String(number), into: &flat, element)
            return []
        case .double(let number):
            // JSON has no NaN or infinity literals, but 1e999 parses to infinity.
            guard number.isFinite else {
                throw .badRequest("The input has a number too large to be finite (\(number)); NaN and infinities are not accepted.")
            }
            guard !element.boolean else { throw .badRequest("Expected booleans for \(element.dtypeName); got \(number).") }
            if element.integral {
                guard number == number.rounded(.towardZero) else {
                    throw .badRequest("Expected integers for \(element.dtypeName); got \(number).")
                }
                // An integer literal beyond Int64 arrives here as a double, rounded: -9223372036854775809
                // becomes -2^63, which would pass for Int64.min. So a double must be inside ±2^63;
                // Int64.min itself is exact when written as an integer.
                guard abs(number) < 0x1p63, let exact = Int64(exactly: number) else {
                    throw .badRequest("The value \(number) does not fit in \(element.dtypeName) (\(element.integerRange.lowerBound)…\(element.integerRange.upperBound)).")
                }
                try append(integer: exact, shown: "\(number)", into: &flat, element)
                return []
            }
            guard element.dtypeName != "float32" || abs(number) <= Double(Float.greatestFiniteMagnitude) else {
                throw .badRequest("The value \(number) does not fit in float32.")
            }
            flat.reals.append(number)
            return []
        case .bool(let flag):
            guard element.boolean else { throw .badRequest("Expected numbers for \(element.dtypeName); got \(flag).") }
            flat.integers.append(flag ? 1 : 0)
            return []
        case .array(let elements):
            guard let first = elements.first else { return [0] }
            let inner = try shapeAndValues(first, into: &flat, element)
            for item in elements.dropFirst() {
                let shape = try shapeAndValues(item, into: &flat, element)
                guard shape == inner else {
                    throw .badRequest("The nested lists are ragged: sub-lists of shapes \(inner) and \(shape).")
                }
            }
            return [elements.count] + inner
        case .null, .string, .object:
            throw .badRequest("Expected a number for \(element.dtypeName); got \(value.compact().prefix(40)).")
        }
    }

    private static func append(integer: Int64, shown: String, into flat: inout NumericRows.Flat, _ element: Element)
        throws(ServerError)
    {
        if element.boolean, integer != 0, integer != 1 {
            throw .badRequest("Expected booleans for \(element.dtypeName); got \(shown).")
        }
        guard element.integral else {
            flat.reals.append(Double(integer))
            return
        }
        let range = element.integerRange
        guard range.contains(integer) else {
            throw .badRequest("The value \(shown) does not fit in \(element.dtypeName) (\(range.lowerBound)…\(range.upperBound)).")
        }
        flat.integers.append(integer)
    }
}

/// Rows of numbers as the model's dtype wants them: integers exactly, reals as `Double`.
enum NumericRows {
    case reals([[Double]])
    case integers([[Int64]])

    var count: Int {
        switch self {
        case .reals(let rows): rows.count
        case .integers(let rows): rows.count
        }
    }

    /// One row's numbers while they are read.
    struct Flat {
        let integral: Bool
        var reals: [Double] = []
        var integers: [Int64] = []

        var oneRow: NumericRows { integral ? .integers([integers]) : .reals([reals]) }

        /// `count` equal rows (the caller checked that the shape's first dimension is `count` > 0).
        func split(into count: Int) -> NumericRows {
            func rows<T>(_ values: [T]) -> [[T]] {
                let length = values.count / count
                return (0..<count).map { Array(values[$0 * length..<($0 + 1) * length]) }
            }
            return integral ? .integers(rows(integers)) : .reals(rows(reals))
        }
    }
}
