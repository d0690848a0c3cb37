import Foundation
import ImageCodec
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func bytes(_ name: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: fixtures.appendingPathComponent(name)))
}

@Suite struct ImageDecoderTests {
    /// Each file decodes to exactly the RGB bytes PIL's convert("RGB") produced.
    @Test(arguments: ["rgb.jpg", "rgb.png", "gray.jpg", "gray.png", "rgba.png", "palette.png", "exif-rotated.jpg"])
    func decodesLikePIL(name: String) throws {
        let image = try ImageDecoder().decode(try bytes(name))
        #expect(image.width == 33)
        #expect(image.height == 21)
        let expected = try bytes(name + ".rgb")
        let differing = zip(image.pixels, expected).filter { $0 != $1 }.count
        #expect(image.pixels.count == expected.count)
        #expect(differing == 0, "\(differing) bytes differ from PIL")
    }

    @Test func formatIsDetectedFromContent() throws {
        #expect(ImageDecoder.format(of: try bytes("rgb.jpg")) == .jpeg)
        #expect(ImageDecoder.format(of: try bytes("rgb.png")) == .png)
        #expect(ImageDecoder.format(of: Array("{\"data\": 1}".utf8)) == nil)
    }

    @Test func emptyAndUnknownInputs() {
        #expect(throws: ImageDecodingError.empty) { try ImageDecoder().decode([]) }
        #expect(throws: ImageDecodingError.unsupportedFormat) { try ImageDecoder().decode(Array("hello".utf8)) }
    }

    @Test func truncatedFilesAreCorrupt() throws {
        for name in ["rgb.png", "rgb.jpg"] {
            let whole = try bytes(name)
            let error = #expect(throws: ImageDecodingError.self) {
                try ImageDecoder().decode(Array(whole.prefix(40)))
            }
            #expect(error?.message.contains("cannot be decoded") == true, "\(name): \(String(describing: error))")
        }
    }

    @Test func decompressionBombIsRefusedFromItsHeader() throws {
        let error = #expect(throws: ImageDecodingError.self) { try ImageDecoder().decode(try bytes("bomb.png")) }
        #expect(error?.isTooLarge == true)
        #expect(error?.message.contains("50000x50000") == true)
        #expect(throws: ImageDecodingError.tooLarge(width: 33, height: 21, limit: 100)) {
            try ImageDecoder(maxPixels: 100).decode(try bytes("rgb.jpg"))
        }
    }
}
