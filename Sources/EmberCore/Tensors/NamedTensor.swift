/// One named tensor as a protocol carries it: row-major, little-endian element bytes. BYTES tensors
/// hold their elements as a 4-byte little-endian length followed by the bytes, one after the other.
///
/// Built only through ``init(name:datatype:shape:data:)``, which checks that the bytes fit the shape
/// with overflow-checked arithmetic, so every `NamedTensor` in the server is consistent.
public struct NamedTensor: Sendable, Equatable {
    public let name: String
    public let datatype: TensorDataType
    public let shape: [Int]
    public let data: [UInt8]
    /// The product of `shape`.
    public let elementCount: Int

    public init(name: String, datatype: TensorDataType, shape: [Int], data: [UInt8]) throws(ServerError) {
        let count = try Self.elementCount(of: shape, name: name)
        if let size = datatype.elementSize {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, bytes == data.count else {
                throw .badRequest(
                    "Input '\(name)': shape \(shape) of \(datatype.rawValue) needs \(overflow ? "too many" : String(bytes)) bytes, got \(data.count).")
            }
        } else {
            let elements = try Self.byteElements(data, name: name)
            guard elements.count == count else {
                throw .badRequest("Input '\(name)': shape \(shape) needs \(count) BYTES elements, got \(elements.count).")
            }
        }
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
        self.elementCount = count
    }

    /// The product of a shape's dimensions, refusing negative dimensions and overflow.
    public static func elementCount(of shape: [Int], name: String) throws(ServerError) -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw .badRequest("Input '\(name)': shape \(shape) has a negative dimension.") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .badRequest("Input '\(name)': shape \(shape) has too many elements.") }
            count = product
        }
        return count
    }

    /// The elements of a BYTES tensor's data (each a 4-byte little-endian length, then the bytes).
    public static func byteElements(_ data: [UInt8], name: String) throws(ServerError) -> [ArraySlice<UInt8>] {
        var elements: [ArraySlice<UInt8>] = []
        var cursor = data.startIndex
        while cursor < data.endIndex {
            guard data.endIndex - cursor >= 4 else {
                throw .badRequest("Input '\(name)': a BYTES element is cut short in its 4-byte length.")
            }
            let length =
                Int(data[cursor]) | Int(data[cursor + 1]) << 8 | Int(data[cursor + 2]) << 16 | Int(data[cursor + 3]) << 24
            cursor += 4
            guard data.endIndex - cursor >= length else {
                throw .badRequest("Input '\(name)': a BYTES element of \(length) bytes is cut short.")
            }
            elements.append(data[cursor..<cursor + length])
            cursor += length
        }
        return elements
    }

    /// BYTES wire data for these elements.
    public static func byteData(_ elements: [[UInt8]]) -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(elements.reduce(0) { $0 + 4 + $1.count })
        for element in elements {
            let length = UInt32(truncatingIfNeeded: element.count)
            data += [UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 24)]
            data += element
        }
        return data
    }
}

/// An output a tensor request asks for, with Triton's classification extension (top `classification`
/// classes as `"score:index[:label]"` strings instead of the tensor).
public struct RequestedOutput: Sendable, Equatable {
    public var name: String
    public var classification: Int?

    public init(name: String, classification: Int? = nil) {
        self.name = name
        self.classification = classification
    }
}

/// A request that carries tensors rather than a body to decode (Open Inference Protocol): its inputs
/// go to the model as they are, and its answer is the model's output tensors.
public struct TensorRequest: Sendable, Equatable {
    public var inputs: [NamedTensor]
    /// The outputs wanted, in order; empty means every output.
    public var outputs: [RequestedOutput]

    public init(inputs: [NamedTensor], outputs: [RequestedOutput] = []) {
        self.inputs = inputs
        self.outputs = outputs
    }
}
