import CTorchShim

// float32 tensors straight between a Swift `[Float]` and libtorch: one copy each way, without the
// `Tensor` value's byte storage in between (the JSON tensor path and small outputs, per request).
extension TorchTensor {
    /// A float32 tensor of `shape` over a copy of `floats` (row-major).
    public convenience init(shape: [Int], floats: [Float]) throws(TorchError) {
        var elements = 1
        for size in shape {
            guard size >= 0 else { throw TorchError(code: .invalidArgument, message: "negative dimension in shape \(shape)") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw TorchError(code: .invalidArgument, message: "shape \(shape) is too large") }
            elements = product
        }
        guard elements == floats.count else {
            throw TorchError(
                code: .invalidArgument, message: "shape \(shape) of float32 needs \(elements) elements, got \(floats.count)")
        }
        var out: OpaquePointer?
        let error = withUnsafeTemporaryAllocation(of: Int64.self, capacity: Swift.max(shape.count, 1)) { dims in
            for (index, size) in shape.enumerated() { dims[index] = Int64(size) }
            return floats.withUnsafeBytes { bytes in
                CTorchShim_TensorCreate(
                    DType.float32.shimValue, dims.baseAddress, shape.count, bytes.baseAddress, bytes.count, &out)
            }
        }
        try TorchError.check(error)
        self.init(owning: try Self.require(out))
    }

    /// The elements as `Float` (to the CPU, contiguous) with the shape, or nil when the tensor is not float32.
    public func floatValues() throws(TorchError) -> (shape: [Int], values: [Float])? {
        let (dtype, shape) = try info()
        guard dtype == .float32 else { return nil }
        let count = shape.reduce(1, *)
        var thrown: TorchError?
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let error = CTorchShim_TensorCopyData(handle, buffer.baseAddress, count * MemoryLayout<Float>.stride) {
                thrown = TorchError(consuming: error)
                initialized = 0
            } else {
                initialized = count
            }
        }
        if let thrown { throw thrown }
        return (shape, values)
    }
}
