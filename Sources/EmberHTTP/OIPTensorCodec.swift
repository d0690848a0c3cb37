import EmberCore

/// An Open Inference Protocol inference request, decoded: the tensors for the model, the request id
/// to echo and how each output is to be sent back.
struct OIPInferRequest: Sendable {
    var id: String?
    var tensors: TensorRequest
    /// Outputs to send as raw bytes after the JSON header (Triton's binary tensor extension).
    var binaryOutputs: Set<String>
    /// Whether outputs not named in the request go as binary (`binary_data_output`).
    var binaryByDefault: Bool

    func sendsBinary(_ name: String) -> Bool {
        tensors.outputs.isEmpty ? binaryByDefault : binaryOutputs.contains(name)
    }
}

/// JSON tensors and Triton's binary tensor extension, in both directions. Every shape product and
/// byte length is checked with overflow-checked arithmetic; the body is already bounded by
/// `max_request_size`, and no tensor is made larger than the bytes the client sent justify.
enum OIPTensorCodec {
    // MARK: Requests

    /// Decodes a request body. `headerLength` is `Inference-Header-Content-Length`: the JSON header's
    /// length, the raw tensor bytes following it; absent, the whole body is JSON.
    static func decodeRequest(_ body: [UInt8], headerLength: String?) throws(ServerError) -> OIPInferRequest {
        var jsonLength = body.count
        if let headerLength {
            guard let length = Int(headerLength), length >= 0 else {
                throw .badRequest("Inference-Header-Content-Length must be a byte count, got '\(headerLength)'.")
            }
            guard length <= body.count else {
                throw .badRequest(
                    "Inference-Header-Content-Length (\(length)) is beyond the body, which has \(body.count) bytes.")
            }
            jsonLength = length
        }
        let header: JSONValue
        do {
            header = try JSONValue.parse(body[0..<jsonLength])
        } catch {
            throw .badRequest("The inference request header is not valid JSON: \(error)")
        }
        guard case .object = header else { throw .badRequest("The inference request must be a JSON object.") }
        guard case .array(let inputValues)? = header["inputs"], !inputValues.isEmpty else {
            throw .badRequest("The inference request needs \"inputs\", a non-empty array of tensors.")
        }
        var binary = body[jsonLength...]
        var inputs: [NamedTensor] = []
        for value in inputValues {
            inputs.append(try decodeInput(value, binary: &binary))
        }
        guard binary.isEmpty else {
            throw .badRequest("\(binary.count) bytes follow the last binary input; binary_data_size must cover the body exactly.")
        }
        let requestParameters = header["parameters"]
        var outputs: [RequestedOutput] = []
        var binaryOutputs = Set<String>()
        if case .array(let outputValues)? = header["outputs"] {
            for value in outputValues {
                guard case .string(let name)? = value["name"] else { throw .badRequest("Each requested output needs a \"name\".") }
                let parameters = value["parameters"]
                var classification: Int?
                if let requested = parameters?["classification"] {
                    guard case .int(let k) = requested, k > 0 else {
                        throw .badRequest("Output '\(name)': classification must be a positive integer.")
                    }
                    classification = k
                }
                if let binary = try flag(parameters?["binary_data"], "binary_data") {
                    if binary { binaryOutputs.insert(name) }
                } else if try flag(requestParameters?["binary_data_output"], "binary_data_output") == true {
                    binaryOutputs.insert(name)
                }
                outputs.append(RequestedOutput(name: name, classification: classification))
            }
        }
        var id: String?
        switch header["id"] {
        case .string(let text)?: id = text
        case nil, .null?: id = nil
        default: throw .badRequest("The request \"id\" must be a string.")
        }
        let binaryByDefault = try flag(requestParameters?["binary_data_output"], "binary_data_output")
        return OIPInferRequest(
            id: id, tensors: TensorRequest(inputs: inputs, outputs: outputs), binaryOutputs: binaryOutputs,
            binaryByDefault: binaryByDefault == true)
    }

    private static func flag(_ value: JSONValue?, _ name: String) throws(ServerError) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw .badRequest("The parameter \(name) must be true or false.")
        }
    }

    private static func decodeInput(_ value: JSONValue, binary: inout ArraySlice<UInt8>) throws(ServerError) -> NamedTensor {
        guard case .string(let name)? = value["name"] else { throw .badRequest("Each input needs a \"name\".") }
        guard case .string(let typeName)? = value["datatype"] else {
            throw .badRequest("Input '\(name)' needs a \"datatype\".")
        }
        let datatype = try OIPTensorElements.datatype(typeName, input: name)
        guard case .array(let dims)? = value["shape"] else { throw .badRequest("Input '\(name)' needs a \"shape\" array.") }
        var shape: [Int] = []
        for dim in dims {
            guard case .int(let size) = dim, size >= 0 else {
                throw .badRequest("Input '\(name)': shape dimensions must be integers of 0 or more.")
            }
            shape.append(size)
        }
        let count = try NamedTensor.elementCount(of: shape, name: name)
        if let size = value["parameters"]?["binary_data_size"] {
            guard case .int(let byteCount) = size, byteCount >= 0 else {
                throw .badRequest("Input '\(name)': binary_data_size must be a byte count.")
            }
            guard byteCount <= binary.count else {
                throw .badRequest(
                    "Input '\(name)': binary_data_size is \(byteCount) bytes but only \(binary.count) remain in the body (truncated?).")
            }
            let data = Array(binary.prefix(byteCount))
            binary = binary.dropFirst(byteCount)
            return try NamedTensor(name: name, datatype: datatype, shape: shape, data: data)
        }
        guard let data = value["data"] else {
            throw .badRequest("Input '\(name)' has neither \"data\" nor a binary_data_size parameter.")
        }
        var elements: [JSONValue] = []
        flatten(data, into: &elements)
        guard elements.count == count else {
            throw .badRequest("Input '\(name)': shape \(shape) needs \(count) elements, \"data\" has \(elements.count).")
        }
        return try NamedTensor(name: name, datatype: datatype, shape: shape, data: encode(elements, datatype, name: name))
    }

    private static func flatten(_ value: JSONValue, into elements: inout [JSONValue]) {
        if case .array(let items) = value {
            for item in items { flatten(item, into: &elements) }
        } else {
            elements.append(value)
        }
    }

    /// JSON elements as little-endian bytes of `datatype`; integers never pass through `Double`.
    static func encode(_ elements: [JSONValue], _ datatype: TensorDataType, name: String) throws(ServerError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(elements.count * (datatype.elementSize ?? 8))
        func integer(_ element: JSONValue, _ range: ClosedRange<Int>) throws(ServerError) -> Int {
            guard case .int(let value) = element, range.contains(value) else {
                throw .badRequest("Input '\(name)': \(datatype.rawValue) data must be integers in \(range), got \(element.compact()).")
            }
            return value
        }
        func number(_ element: JSONValue) throws(ServerError) -> Double {
            switch element {
            case .int(let value): return Double(value)
            case .double(let value): return value
            default: throw .badRequest("Input '\(name)': \(datatype.rawValue) data must be numbers, got \(element.compact()).")
            }
        }
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        var strings: [[UInt8]] = []
        for element in elements {
            switch datatype {
            case .bool:
                guard case .bool(let flag) = element else {
                    throw .badRequest("Input '\(name)': BOOL data must be true or false, got \(element.compact()).")
                }
                bytes.append(flag ? 1 : 0)
            case .uint8: append(UInt8(try integer(element, 0...Int(UInt8.max))))
            case .uint16: append(UInt16(try integer(element, 0...Int(UInt16.max))))
            case .uint32: append(UInt32(try integer(element, 0...Int(UInt32.max))))
            case .uint64: append(UInt64(try integer(element, 0...Int.max)))
            case .int8: append(Int8(try integer(element, Int(Int8.min)...Int(Int8.max))))
            case .int16: append(Int16(try integer(element, Int(Int16.min)...Int(Int16.max))))
            case .int32: append(Int32(try integer(element, Int(Int32.min)...Int(Int32.max))))
            case .int64: append(Int64(try integer(element, Int.min...Int.max)))
            case .fp16: append(Float16(try number(element)).bitPattern)
            case .bf16: append(bfloat16Bits(Float(try number(element))))
            case .fp32: append(Float(try number(element)).bitPattern)
            case .fp64: append(try number(element).bitPattern)
            case .bytes:
                guard case .string(let text) = element else {
                    throw .badRequest("Input '\(name)': BYTES data must be strings, got \(element.compact()).")
                }
                strings.append(Array(text.utf8))
            }
        }
        return datatype == .bytes ? NamedTensor.byteData(strings) : bytes
    }

    /// bfloat16: the upper half of a float's bits, rounded to nearest even.
    private static func bfloat16Bits(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7fc0 }
        let bits = value.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
    }

    // MARK: Responses

    /// The response: its JSON header and, when some output goes as binary, the raw bytes after it
    /// (`headerLength` is then the header's length, for `Inference-Header-Content-Length`).
    static func encodeResponse(
        model: String, version: String, request: OIPInferRequest, outputs: [NamedTensor]
    ) -> (body: [UInt8], headerLength: Int?) {
        var binary: [UInt8] = []
        var outputValues: [JSONValue] = []
        for tensor in outputs {
            var pairs: [(String, JSONValue)] = [
                ("name", .string(tensor.name)), ("datatype", .string(tensor.datatype.rawValue)),
                ("shape", .array(tensor.shape.map { .int($0) })),
            ]
            if request.sendsBinary(tensor.name) {
                pairs.append(("parameters", ["binary_data_size": .int(tensor.data.count)]))
                binary += tensor.data
            } else {
                pairs.append(("data", .array(jsonElements(tensor))))
            }
            outputValues.append(.object(pairs))
        }
        var header: [(String, JSONValue)] = [("model_name", .string(model)), ("model_version", .string(version))]
        if let id = request.id { header.append(("id", .string(id))) }
        header.append(("outputs", .array(outputValues)))
        let json = Array(JSONValue.object(header).compact().utf8)
        let anyBinary = outputs.contains { request.sendsBinary($0.name) }
        return anyBinary ? (json + binary, json.count) : (json, nil)
    }

    /// A tensor's elements as flat JSON values (floats in their shortest form).
    static func jsonElements(_ tensor: NamedTensor) -> [JSONValue] {
        let data = tensor.data
        func load<T: FixedWidthInteger>(_ type: T.Type, _ index: Int) -> T {
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { raw in
                for byte in 0..<MemoryLayout<T>.size { raw[byte] = data[index * MemoryLayout<T>.size + byte] }
            }
            return T(littleEndian: value)
        }
        let count = tensor.elementCount
        switch tensor.datatype {
        case .bool: return (0..<count).map { .bool(data[$0] != 0) }
        case .uint8: return (0..<count).map { .int(Int(load(UInt8.self, $0))) }
        case .uint16: return (0..<count).map { .int(Int(load(UInt16.self, $0))) }
        case .uint32: return (0..<count).map { .int(Int(load(UInt32.self, $0))) }
        case .uint64: return (0..<count).map { .int(Int(truncatingIfNeeded: load(UInt64.self, $0))) }
        case .int8: return (0..<count).map { .int(Int(load(Int8.self, $0))) }
        case .int16: return (0..<count).map { .int(Int(load(Int16.self, $0))) }
        case .int32: return (0..<count).map { .int(Int(load(Int32.self, $0))) }
        case .int64: return (0..<count).map { .int(Int(load(Int64.self, $0))) }
        case .fp16: return (0..<count).map { shortest(Float(Float16(bitPattern: load(UInt16.self, $0)))) }
        case .bf16: return (0..<count).map { shortest(Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16)) }
        case .fp32: return (0..<count).map { shortest(Float(bitPattern: load(UInt32.self, $0))) }
        case .fp64: return (0..<count).map { .double(Double(bitPattern: load(UInt64.self, $0))) }
        case .bytes:
            let elements = (try? NamedTensor.byteElements(data, name: tensor.name)) ?? []
            return elements.map { .string(String(decoding: $0, as: UTF8.self)) }
        }
    }

    /// A float as the shortest decimal that reads back as the same float.
    private static func shortest(_ value: Float) -> JSONValue {
        guard value.isFinite else { return .null }
        return .double(Double(value.description) ?? Double(value))
    }
}
