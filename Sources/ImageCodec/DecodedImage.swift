/// An 8-bit RGB image, row-major HWC, as TorchServe's handlers see a picture after PIL's
/// `convert("RGB")`.
public struct DecodedImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height * width * 3` bytes.
    public let pixels: [UInt8]
    /// The size the file declares; larger than `width` x `height` when the decoder scaled the image
    /// down while decoding (``ImageDecoder/dctScaling``).
    public let sourceWidth: Int
    public let sourceHeight: Int

    public init(width: Int, height: Int, pixels: [UInt8], sourceWidth: Int? = nil, sourceHeight: Int? = nil) {
        self.width = width
        self.height = height
        self.pixels = pixels
        self.sourceWidth = sourceWidth ?? width
        self.sourceHeight = sourceHeight ?? height
    }
}
