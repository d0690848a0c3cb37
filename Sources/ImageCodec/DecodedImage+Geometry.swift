import ImageKernels

extension DecodedImage {
    /// Pillow's `Image.resize((width, height), filter)` of this RGB image, byte for byte: the
    /// antialiased fixed-point convolution of `Resample.c` (nearest: `Geometry.c`'s affine scale).
    ///
    /// - Parameter maxPixels: the largest result allowed; a bigger one is refused before allocating.
    public func resized(
        width newWidth: Int, height newHeight: Int, filter: ResampleFilter,
        maxPixels: Int = ImageDecoder.defaultMaxPixels
    ) throws(ImageDecodingError) -> DecodedImage {
        try Self.checkResult(width: newWidth, height: newHeight, maxPixels: maxPixels)
        if newWidth == width, newHeight == height { return self }
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        let status = pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                ek_resize_rgb8(
                    source.baseAddress, Int32(width), Int32(height), destination.baseAddress, Int32(newWidth),
                    Int32(newHeight), filter.kernel)
            }
        }
        switch status {
        case EK_OK: break
        case EK_OUT_OF_MEMORY: throw .resultTooLarge(width: newWidth, height: newHeight, limit: maxPixels)
        default: throw .invalidGeometry("\(width)x\(height) to \(newWidth)x\(newHeight)")
        }
        return DecodedImage(width: newWidth, height: newHeight, pixels: output)
    }

    /// torchvision's `CenterCrop((height, width))` of a PIL image: the offsets of
    /// ``TorchvisionGeometry/cropOrigin(size:crop:)``, black where the crop is larger than the image.
    public func centerCropped(
        width newWidth: Int, height newHeight: Int, maxPixels: Int = ImageDecoder.defaultMaxPixels
    ) throws(ImageDecodingError) -> DecodedImage {
        try Self.checkResult(width: newWidth, height: newHeight, maxPixels: maxPixels)
        if newWidth == width, newHeight == height { return self }
        let left = TorchvisionGeometry.cropOrigin(size: width, crop: newWidth)
        let top = TorchvisionGeometry.cropOrigin(size: height, crop: newHeight)
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                ek_crop_rgb8(
                    source.baseAddress, Int32(width), Int32(height), destination.baseAddress, Int32(newWidth),
                    Int32(newHeight), Int32(left), Int32(top))
            }
        }
        return DecodedImage(width: newWidth, height: newHeight, pixels: output)
    }

    private static func checkResult(width: Int, height: Int, maxPixels: Int) throws(ImageDecodingError) {
        guard width > 0, height > 0 else {
            throw .invalidGeometry("the target size \(width)x\(height) has no pixels")
        }
        let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixelCount <= maxPixels, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw .resultTooLarge(width: width, height: height, limit: maxPixels)
        }
    }
}
