import CTorchShim

/// Interpolation for resizing.
public enum Interpolation: String, Sendable, CaseIterable {
    case bilinear, bicubic, nearest

    var shimValue: CTorchShim_Interpolation {
        switch self {
        case .bilinear: CTORCHSHIM_BILINEAR
        case .bicubic: CTORCHSHIM_BICUBIC
        case .nearest: CTORCHSHIM_NEAREST
        }
    }
}

extension TorchTensor {
    /// Stacks tensors of one shape along a new dimension (requests into a batch).
    public static func stack(_ tensors: [TorchTensor], dim: Int = 0) throws(TorchError) -> TorchTensor {
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        return try make { out in
            handles.withUnsafeBufferPointer { CTorchShim_Stack($0.baseAddress, $0.count, Int64(dim), out) }
        }
    }

    /// Splits along `dim` into one tensor per index (a batch back into requests).
    public func unbind(dim: Int = 0) throws(TorchError) -> [TorchTensor] {
        let (_, shape) = try info()
        let normalized = dim < 0 ? dim + shape.count : dim
        guard shape.indices.contains(normalized) else {
            throw TorchError(code: .invalidArgument, message: "dimension \(dim) out of range for shape \(shape)")
        }
        var outs = [OpaquePointer?](repeating: nil, count: shape[normalized])
        let error = outs.withUnsafeMutableBufferPointer {
            CTorchShim_Unbind(handle, Int64(dim), $0.baseAddress, $0.count)
        }
        try TorchError.check(error)
        var parts: [TorchTensor] = []
        parts.reserveCapacity(outs.count)
        for out in outs {
            parts.append(TorchTensor(owning: try Self.require(out)))
        }
        return parts
    }

    public func softmax(dim: Int) throws(TorchError) -> TorchTensor {
        try Self.make { CTorchShim_Softmax(handle, Int64(dim), $0) }
    }

    public func argmax(dim: Int, keepDim: Bool = false) throws(TorchError) -> TorchTensor {
        try Self.make { CTorchShim_Argmax(handle, Int64(dim), keepDim, $0) }
    }

    /// The `k` largest values along `dim` in descending order, with their indices (int64).
    public func topK(_ k: Int, dim: Int) throws(TorchError) -> (values: TorchTensor, indices: TorchTensor) {
        try Self.makePair { CTorchShim_TopK(handle, Int64(k), Int64(dim), $0, $1) }
    }

    /// The maximum along `dim` and its index (int64); the dimension is removed.
    public func max(dim: Int) throws(TorchError) -> (values: TorchTensor, indices: TorchTensor) {
        try Self.makePair { CTorchShim_Max(handle, Int64(dim), $0, $1) }
    }

    /// `(x - mean[c]) / std[c]` over the channels of a CHW or NCHW float tensor.
    public func normalized(mean: [Double], std: [Double]) throws(TorchError) -> TorchTensor {
        guard mean.count == std.count else {
            throw TorchError(code: .invalidArgument, message: "mean has \(mean.count) values, std \(std.count)")
        }
        return try Self.make { out in
            mean.withUnsafeBufferPointer { m in
                std.withUnsafeBufferPointer { s in CTorchShim_Normalize(handle, m.baseAddress, s.baseAddress, m.count, out) }
            }
        }
    }

    /// Resizes the last two dimensions of a CHW or NCHW float tensor.
    public func resized(
        height: Int, width: Int, interpolation: Interpolation = .bilinear, antialias: Bool = true
    ) throws(TorchError) -> TorchTensor {
        try Self.make {
            CTorchShim_Resize(handle, Int64(height), Int64(width), interpolation.shimValue, antialias, $0)
        }
    }

    /// Resizes a uint8 HWC image and rounds back to uint8, as PIL resizes 8-bit images.
    public func resizedImage(
        height: Int, width: Int, interpolation: Interpolation = .bilinear, antialias: Bool = true
    ) throws(TorchError) -> TorchTensor {
        try Self.make {
            CTorchShim_ResizeImage(handle, Int64(height), Int64(width), interpolation.shimValue, antialias, $0)
        }
    }

    /// torchvision's centre crop of a CHW or NCHW tensor (zero padding where it is smaller).
    public func centerCropped(height: Int, width: Int) throws(TorchError) -> TorchTensor {
        try Self.make { CTorchShim_CenterCrop(handle, Int64(height), Int64(width), $0) }
    }

    /// torchvision's centre crop of a uint8 HWC or NHWC image.
    public func centerCroppedImage(height: Int, width: Int) throws(TorchError) -> TorchTensor {
        try Self.make { CTorchShim_CenterCropImage(handle, Int64(height), Int64(width), $0) }
    }

    /// uint8 HWC (NHWC) → float32 CHW (NCHW) in [0, 1].
    public func imageToFloat() throws(TorchError) -> TorchTensor {
        try Self.make { CTorchShim_ImageToFloat(handle, $0) }
    }

    public func converted(to dtype: DType) throws(TorchError) -> TorchTensor {
        try Self.make { CTorchShim_ToDType(handle, dtype.shimValue, $0) }
    }
}
