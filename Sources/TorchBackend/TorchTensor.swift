import CTorchShim

/// A tensor in libtorch's memory. Operations on it stay in libtorch; ``value()`` copies it out.
///
/// Not `Sendable`: a worker creates, uses and drops its tensors on its own thread.
public final class TorchTensor {
    let handle: OpaquePointer

    init(owning handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        CTorchShim_TensorFree(handle)
    }

    /// Copies a Swift tensor into libtorch.
    public convenience init(_ tensor: Tensor) throws(TorchError) {
        var out: OpaquePointer?
        let shape = tensor.shape.map(Int64.init)
        let error = tensor.storage.withUnsafeBytes { bytes in
            shape.withUnsafeBufferPointer { dims in
                CTorchShim_TensorCreate(
                    tensor.dtype.shimValue, dims.baseAddress, dims.count, bytes.baseAddress, bytes.count, &out)
            }
        }
        try TorchError.check(error)
        self.init(owning: try Self.require(out))
    }

    /// The element type and shape.
    public func info() throws(TorchError) -> (dtype: DType, shape: [Int]) {
        var shimType = CTORCHSHIM_FLOAT32
        var rank = 0
        try TorchError.check(CTorchShim_TensorInfo(handle, &shimType, &rank))
        guard let dtype = DType(shimValue: shimType) else {
            throw TorchError(code: .unsupported, message: "unsupported element type \(shimType)")
        }
        var shape = [Int64](repeating: 0, count: rank)
        shape.withUnsafeMutableBufferPointer { CTorchShim_TensorShape(handle, $0.baseAddress) }
        return (dtype, shape.map { Int($0) })
    }

    /// Copies the tensor out of libtorch (to the CPU, contiguous).
    public func value() throws(TorchError) -> Tensor {
        let (dtype, shape) = try info()
        let byteCount = shape.reduce(1, *) * dtype.byteSize
        var storage = [UInt8](repeating: 0, count: byteCount)
        let error = storage.withUnsafeMutableBytes { CTorchShim_TensorCopyData(handle, $0.baseAddress, byteCount) }
        try TorchError.check(error)
        return try Tensor(dtype: dtype, shape: shape, storage: storage)
    }

    static func require(_ handle: OpaquePointer?) throws(TorchError) -> OpaquePointer {
        guard let handle else {
            throw TorchError(code: .unknown, message: "libtorch returned no tensor and no error")
        }
        return handle
    }

    /// Calls a shim function with one tensor out-parameter and wraps the result.
    static func make(_ call: (UnsafeMutablePointer<OpaquePointer?>) -> OpaquePointer?) throws(TorchError) -> TorchTensor {
        var out: OpaquePointer?
        try TorchError.check(call(&out))
        return TorchTensor(owning: try require(out))
    }

    /// Calls a shim function with two tensor out-parameters (values, indices).
    static func makePair(
        _ call: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<OpaquePointer?>) -> OpaquePointer?
    ) throws(TorchError) -> (values: TorchTensor, indices: TorchTensor) {
        var first: OpaquePointer?
        var second: OpaquePointer?
        try TorchError.check(call(&first, &second))
        return (TorchTensor(owning: try require(first)), TorchTensor(owning: try require(second)))
    }
}
