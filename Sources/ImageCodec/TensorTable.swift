import ImageKernels

/// torchvision's `ToTensor()` followed by `Normalize(mean, std)` (or `ToTensor()` alone), as a
/// table of the 256 float32 values each channel's byte can become.
///
/// Both transforms are element-wise functions of one byte: `ToTensor` is `float32(v) / 255` and
/// `Normalize` is `(x - float32(mean)) / float32(std)`, each one IEEE float32 operation. The table
/// holds exactly those results, so looking the bytes up gives torchvision's tensor bit for bit, at
/// the cost of a copy.
public struct TensorTable: Sendable, Equatable {
    /// `values[channel * 256 + byte]`, three channels.
    public let values: [Float]

    /// `ToTensor()` alone: `float32(v) / 255`.
    public init() {
        let scaled = (0..<256).map { Float($0) / Float(255) }
        values = scaled + scaled + scaled
    }

    /// `ToTensor()` then `Normalize(mean, std)`; one value (every channel) or three.
    public init?(mean: [Double], std: [Double]) {
        guard mean.count == std.count, mean.count == 1 || mean.count == 3, std.allSatisfy({ $0 != 0 }) else {
            return nil
        }
        var values: [Float] = []
        values.reserveCapacity(768)
        for channel in 0..<3 {
            let index = mean.count == 1 ? 0 : channel
            let (m, s) = (Float(mean[index]), Float(std[index]))
            for byte in 0..<256 { values.append((Float(byte) / Float(255) - m) / s) }
        }
        self.values = values
    }

    /// The image as a float32 CHW tensor's bytes (native byte order), `3 * height * width * 4` long.
    public func chwFloat32Bytes(of image: DecodedImage) -> [UInt8] {
        let pixelCount = image.width * image.height
        var storage = [UInt8](repeating: 0, count: pixelCount * 3 * MemoryLayout<Float>.size)
        image.pixels.withUnsafeBufferPointer { source in
            values.withUnsafeBufferPointer { table in
                storage.withUnsafeMutableBytes { destination in
                    ek_tensorize_rgb8(
                        source.baseAddress, pixelCount, table.baseAddress,
                        destination.baseAddress?.assumingMemoryBound(to: Float.self))
                }
            }
        }
        return storage
    }
}
