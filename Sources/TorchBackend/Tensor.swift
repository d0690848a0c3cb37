/// A tensor as a Swift value: element type, shape and contiguous row-major storage.
///
/// `Tensor` is what crosses between requests, workers and the shim. Operations run on
/// ``TorchTensor`` (libtorch-owned memory) and come back as a `Tensor` with ``TorchTensor/value()``.
public struct Tensor: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// Row-major element bytes, `elementCount * dtype.byteSize` long.
    public let storage: [UInt8]

    public var elementCount: Int { shape.reduce(1, *) }

    /// A tensor over raw element bytes; fails when the byte count does not fit the shape.
    public init(dtype: DType, shape: [Int], storage: [UInt8]) throws(TorchError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TorchError(code: .invalidArgument, message: "negative dimension in shape \(shape)")
        }
        let expected = shape.reduce(1, *) * dtype.byteSize
        guard storage.count == expected else {
            throw TorchError(
                code: .invalidArgument,
                message: "shape \(shape) of \(dtype) needs \(expected) bytes, got \(storage.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], floats: [Float]) throws(TorchError) {
        try self.init(dtype: .float32, shape: shape, storage: Self.bytes(of: floats))
    }

    public init(shape: [Int], doubles: [Double]) throws(TorchError) {
        try self.init(dtype: .float64, shape: shape, storage: Self.bytes(of: doubles))
    }

    public init(shape: [Int], int64s: [Int64]) throws(TorchError) {
        try self.init(dtype: .int64, shape: shape, storage: Self.bytes(of: int64s))
    }

    public init(shape: [Int], int32s: [Int32]) throws(TorchError) {
        try self.init(dtype: .int32, shape: shape, storage: Self.bytes(of: int32s))
    }

    public init(shape: [Int], uint8s: [UInt8]) throws(TorchError) {
        try self.init(dtype: .uint8, shape: shape, storage: uint8s)
    }

    public init(shape: [Int], bools: [Bool]) throws(TorchError) {
        try self.init(dtype: .bool, shape: shape, storage: bools.map { $0 ? 1 : 0 })
    }

    /// The elements as `Float`, or nil when the tensor holds another type.
    public var floats: [Float]? { dtype == .float32 ? elements(Float.self) : nil }
    public var doubles: [Double]? { dtype == .float64 ? elements(Double.self) : nil }
    public var int64s: [Int64]? { dtype == .int64 ? elements(Int64.self) : nil }
    public var int32s: [Int32]? { dtype == .int32 ? elements(Int32.self) : nil }
    public var uint8s: [UInt8]? { dtype == .uint8 ? storage : nil }
    public var bools: [Bool]? { dtype == .bool ? storage.map { $0 != 0 } : nil }

    /// Every element converted to `Double`, whatever the element type.
    public var doubleValues: [Double] {
        switch dtype {
        case .float32: elements(Float.self).map(Double.init)
        case .float64: elements(Double.self)
        case .int64: elements(Int64.self).map(Double.init)
        case .int32: elements(Int32.self).map(Double.init)
        case .uint8: storage.map(Double.init)
        case .bool: storage.map { $0 != 0 ? 1 : 0 }
        }
    }

    private func elements<T>(_ type: T.Type) -> [T] {
        storage.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
                let destination = UnsafeMutableRawBufferPointer(buffer)
                destination.copyMemory(from: raw)
                initialized = elementCount
            }
        }
    }

    private static func bytes<T>(of values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}
