/// An 8-bit RGB image, row-major HWC, as TorchServe's handlers see a picture after PIL's
/// `convert("RGB")`.
public struct DecodedImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height * width * 3` bytes.
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
