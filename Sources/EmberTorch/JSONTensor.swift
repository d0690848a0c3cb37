import EmberCore

/// A tensor read from a JSON request body: TorchServe's `{"data": …}`, KServe's `{"instances": […]}`
/// or a bare nested list.
struct JSONTensor {
    /// The rows it contributes to the batch, each of the declared per-row shape.
    var rows: [[Double]]
    var rowShape: [Int]
    /// True when the request sent several rows and expects a list back.
    var isMultiRow: Bool

    static let formatHint = #"Send {"data": [...]}, {"instances": [...]} or a nested list of numbers."#

    /// Decodes and validates against the declared per-row shape (`-1` matches any size).
    static func decode(_ body: [UInt8], declaredShape: [Int]?, dtypeName: String, integral: Bool, boolean: Bool)
        throws(ServerError) -> JSONTensor
    {
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
                return try single(data, declaredShape: declaredShape, dtypeName: dtypeName, integral: integral, boolean: boolean)
            }
            if case .array(let instances)? = document["instances"] {
                return try many(instances, declaredShape: declaredShape, dtypeName: dtypeName, integral: integral, boolean: boolean)
            }
            throw .badRequest("The JSON object has no \"data\" or \"instances\" field. " + formatHint)
        case .array:
            return try single(document, declaredShape: declaredShape, dtypeName: dtypeName, integral: integral, boolean: boolean)
        default:
            throw .badRequest("The JSON body is not a tensor. " + formatHint)
        }
    }

    private static func single(
        _ value: JSONValue, declaredShape: [Int]?, dtypeName: String, integral: Bool, boolean: Bool
    ) throws(ServerError) -> JSONTensor {
        var flat: [Double] = []
        let shape = try shapeAndValues(value, into: &flat, integral: integral, boolean: boolean, dtypeName: dtypeName)
        guard let declared = declaredShape else {
            return JSONTensor(rows: [flat], rowShape: shape, isMultiRow: false)
        }
        if matches(shape, declared) {
            return JSONTensor(rows: [flat], rowShape: shape, isMultiRow: false)
        }
        if shape.count == declared.count + 1, matches(Array(shape.dropFirst()), declared), shape[0] > 0 {
            let rowLength = flat.count / shape[0]
            let rows = (0..<shape[0]).map { Array(flat[$0 * rowLength..<($0 + 1) * rowLength]) }
            return JSONTensor(rows: rows, rowShape: Array(shape.dropFirst()), isMultiRow: true)
        }
        throw .badRequest(shapeMessage(got: shape, declared: declared, dtypeName: dtypeName))
    }

    private static func many(
        _ instances: [JSONValue], declaredShape: [Int]?, dtypeName: String, integral: Bool, boolean: Bool
    ) throws(ServerError) -> JSONTensor {
        guard !instances.isEmpty else { throw .badRequest("\"instances\" is empty. " + formatHint) }
        var rows: [[Double]] = []
        var rowShape: [Int]?
        for instance in instances {
            var flat: [Double] = []
            let shape = try shapeAndValues(instance, into: &flat, integral: integral, boolean: boolean, dtypeName: dtypeName)
            if let declared = declaredShape, !matches(shape, declared) {
                throw .badRequest(shapeMessage(got: shape, declared: declared, dtypeName: dtypeName, instance: true))
            }
            if let rowShape, rowShape != shape {
                throw .badRequest("All instances must have one shape; got \(rowShape) and \(shape).")
            }
            rowShape = shape
            rows.append(flat)
        }
        return JSONTensor(rows: rows, rowShape: rowShape ?? [], isMultiRow: true)
    }

    private static func integerRange(_ dtypeName: String) -> ClosedRange<Int64>? {
        switch dtypeName {
        case "int32": Int64(Int32.min)...Int64(Int32.max)
        case "uint8": 0...255
        default: nil
        }
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
    private static func shapeAndValues(
        _ value: JSONValue, into flat: inout [Double], integral: Bool, boolean: Bool, dtypeName: String
    ) throws(ServerError) -> [Int] {
        switch value {
        case .int(let number):
            guard !boolean || number == 0 || number == 1 else { throw .badRequest("Expected booleans for \(dtypeName); got \(number).") }
            if let range = integerRange(dtypeName), !range.contains(Int64(number)) {
                throw .badRequest("The value \(number) does not fit in \(dtypeName).")
            }
            flat.append(Double(number))
            return []
        case .double(let number):
            // JSON has no NaN or infinity literals, but 1e999 parses to infinity.
            guard number.isFinite else {
                throw .badRequest("The input has a number too large to be finite (\(number)); NaN and infinities are not accepted.")
            }
            guard !boolean else { throw .badRequest("Expected booleans for \(dtypeName); got \(number).") }
            guard !integral || Int64(exactly: number) != nil else {
                throw .badRequest("Expected integers for \(dtypeName); got \(number).")
            }
            if let range = integerRange(dtypeName), let exact = Int64(exactly: number), !range.contains(exact) {
                throw .badRequest("The value \(number) does not fit in \(dtypeName).")
            }
            guard dtypeName != "float32" || abs(number) <= Double(Float.greatestFiniteMagnitude) else {
                throw .badRequest("The value \(number) does not fit in float32.")
            }
            flat.append(number)
            return []
        case .bool(let flag):
            guard boolean else { throw .badRequest("Expected numbers for \(dtypeName); got \(flag).") }
            flat.append(flag ? 1 : 0)
            return []
        case .array(let elements):
            guard let first = elements.first else { return [0] }
            let inner = try shapeAndValues(first, into: &flat, integral: integral, boolean: boolean, dtypeName: dtypeName)
            for element in elements.dropFirst() {
                let shape = try shapeAndValues(element, into: &flat, integral: integral, boolean: boolean, dtypeName: dtypeName)
                guard shape == inner else {
                    throw .badRequest("The nested lists are ragged: sub-lists of shapes \(inner) and \(shape).")
                }
            }
            return [elements.count] + inner
        case .null, .string, .object:
            throw .badRequest("Expected a number for \(dtypeName); got \(value.compact().prefix(40)).")
        }
    }
}
