import CPNG
import CTurboJPEG
import ImageKernels

/// Decodes JPEG and PNG bytes into RGB with libjpeg-turbo and libpng.
///
/// Grayscale, RGBA, palette and CMYK images become RGB the way PIL's `convert("RGB")` does (alpha is
/// dropped, not composited; CMYK through PIL's `cmyk2rgb`), and EXIF orientation is ignored, as TorchServe ignores it. The size is
/// read from the header and checked against `maxPixels` before any pixel memory is allocated.
public struct ImageDecoder: Sendable {
    /// PIL's `Image.MAX_IMAGE_PIXELS`, past which PIL warns of a decompression bomb.
    public static let defaultMaxPixels = 89_478_485

    public var maxPixels: Int
    /// Decode large JPEGs at reduced scale in the DCT domain when the caller says how small the image
    /// may be (`decode(_:minimumSize:)`). Much faster on photos; the pixels are not PIL's. Off by default.
    public var dctScaling: Bool

    public init(maxPixels: Int = ImageDecoder.defaultMaxPixels, dctScaling: Bool = false) {
        self.maxPixels = maxPixels
        self.dctScaling = dctScaling
    }

    public enum Format: String, Sendable { case jpeg, png }

    /// The format named by the first bytes, if it is one we decode.
    public static func format(of bytes: some Collection<UInt8>) -> Format? {
        let head = Array(bytes.prefix(8))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }

    public func decode(_ bytes: [UInt8]) throws(ImageDecodingError) -> DecodedImage {
        try decode(bytes, minimumSize: nil)
    }

    /// Decodes, and when ``dctScaling`` is on and the image is a JPEG, lets libjpeg-turbo decode it at
    /// 1/2, 1/4 or 1/8 scale in the DCT domain, as small as still gives at least
    /// `minimumSize(sourceWidth, sourceHeight)` pixels. The result then has other pixels than a full
    /// decode followed by the same resize; ``DecodedImage/sourceWidth`` keeps the size in the file.
    public func decode(
        _ bytes: [UInt8], minimumSize: ((Int, Int) -> (width: Int, height: Int)?)?
    ) throws(ImageDecodingError) -> DecodedImage {
        guard !bytes.isEmpty else { throw .empty }
        switch Self.format(of: bytes) {
        case .jpeg: return try decodeJPEG(bytes, minimumSize: dctScaling ? minimumSize : nil)
        case .png: return try decodePNG(bytes)
        case nil: throw .unsupportedFormat
        }
    }

    private func checkSize(width: Int, height: Int) throws(ImageDecodingError) {
        guard width > 0, height > 0 else {
            throw .corrupt(format: "image", detail: "it has no pixels")
        }
        guard width.multipliedReportingOverflow(by: height).partialValue <= maxPixels,
            width <= maxPixels, height <= maxPixels
        else {
            throw .tooLarge(width: width, height: height, limit: maxPixels)
        }
    }

    private func decodeJPEG(
        _ bytes: [UInt8], minimumSize: ((Int, Int) -> (width: Int, height: Int)?)?
    ) throws(ImageDecodingError) -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw .corrupt(format: "JPEG", detail: "libjpeg-turbo could not start")
        }
        defer { tjDestroy(handle) }
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else {
            throw .corrupt(format: "JPEG", detail: Self.turboMessage(handle))
        }
        try checkSize(width: Int(width), height: Int(height))
        let scale = minimumSize.flatMap { $0(Int(width), Int(height)) }.map {
            Self.dctScale(width: Int(width), height: Int(height), atLeast: $0)
        } ?? 1
        let (scaledWidth, scaledHeight) = (Self.scaled(Int(width), by: scale), Self.scaled(Int(height), by: scale))
        // PIL decodes CMYK and YCCK JPEGs as CMYK with Adobe's inverted polarity; libjpeg-turbo will
        // not make RGB of them, so they come out as CMYK and are converted as PIL converts them.
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let channels = isCMYK ? 4 : 3
        var pixels = [UInt8](repeating: 0, count: scaledWidth * scaledHeight * channels)
        let status = bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { destination in
                tjDecompress2(
                    handle, source.baseAddress, UInt(bytes.count), destination.baseAddress, Int32(scaledWidth), 0,
                    Int32(scaledHeight), Int32(isCMYK ? TJPF_CMYK.rawValue : TJPF_RGB.rawValue), 0)
            }
        }
        // A warning (for example a truncated but still displayable file) is accepted, as PIL does
        // with LOAD_TRUNCATED_IMAGES off only for fatal errors.
        if status != 0, tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) {
            throw .corrupt(format: "JPEG", detail: Self.turboMessage(handle))
        }
        if isCMYK {
            let pixelCount = scaledWidth * scaledHeight
            var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
            pixels.withUnsafeBufferPointer { source in
                rgb.withUnsafeMutableBufferPointer { ek_cmyk_to_rgb8(source.baseAddress, pixelCount, $0.baseAddress) }
            }
            pixels = rgb
        }
        return DecodedImage(
            width: scaledWidth, height: scaledHeight, pixels: pixels, sourceWidth: Int(width),
            sourceHeight: Int(height))
    }

    /// libjpeg-turbo's DCT scaling factors that have fast paths: 1/2, 1/4, 1/8 (as a denominator).
    static let dctDenominators = [8, 4, 2]

    /// The largest reduction that still leaves at least `minimum` pixels on both axes, so the resize
    /// after it only ever shrinks.
    static func dctScale(width: Int, height: Int, atLeast minimum: (width: Int, height: Int)) -> Int {
        for denominator in dctDenominators
        where scaled(width, by: denominator) >= minimum.width && scaled(height, by: denominator) >= minimum.height {
            return denominator
        }
        return 1
    }

    /// `TJSCALED(dimension, 1/denominator)`: the size libjpeg-turbo decodes to, rounded up.
    static func scaled(_ dimension: Int, by denominator: Int) -> Int {
        (dimension + denominator - 1) / denominator
    }

    private static func turboMessage(_ handle: tjhandle) -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: message)
    }

    private func decodePNG(_ bytes: [UInt8]) throws(ImageDecodingError) -> DecodedImage {
        var image = png_image()
        image.version = CPNG_IMAGE_VERSION
        defer { png_image_free(&image) }
        let began = bytes.withUnsafeBufferPointer {
            png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count)
        }
        guard began != 0 else { throw .corrupt(format: "PNG", detail: Self.pngMessage(&image)) }
        try checkSize(width: Int(image.width), height: Int(image.height))
        image.format = CPNG_FORMAT_RGBA
        let pixelCount = Int(image.width) * Int(image.height)
        var rgba = [UInt8](repeating: 0, count: pixelCount * 4)
        let finished = rgba.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, 0, nil)
        }
        guard finished != 0 else { throw .corrupt(format: "PNG", detail: Self.pngMessage(&image)) }
        var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
        rgba.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { ek_rgba_to_rgb8(source.baseAddress, pixelCount, $0.baseAddress) }
        }
        return DecodedImage(width: Int(image.width), height: Int(image.height), pixels: rgb)
    }

    private static func pngMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
        }
    }
}
