import Foundation
import ImageCodec
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func bytes(_ name: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: fixtures.appendingPathComponent(name)))
}

@Suite struct ImageDecoderTests {
    /// Each file decodes to exactly the RGB bytes PIL's convert("RGB") produced.
    @Test(arguments: [
        "rgb.jpg", "rgb.png", "gray.jpg", "gray.png", "rgba.png", "palette.png", "cmyk.jpg", "progressive.jpg",
        "exif-rotated.jpg",
    ])
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

@Suite struct PillowResizeTests {
    /// rgb.png resized with every Pillow filter, against what Pillow itself made (make_images.py).
    @Test(arguments: ResampleFilter.allCases)
    func resizeIsPillowsByteForByte(filter: ResampleFilter) throws {
        let image = try ImageDecoder().decode(try bytes("rgb.png"))
        for (width, height) in [(50, 7), (5, 40), (1, 1), (33, 64)] {
            let resized = try image.resized(width: width, height: height, filter: filter)
            let expected = try bytes("resized-\(filter.rawValue)-\(width)x\(height).rgb")
            #expect(resized.width == width && resized.height == height)
            let differing = zip(resized.pixels, expected).filter { $0 != $1 }.count
            #expect(resized.pixels.count == expected.count)
            #expect(differing == 0, "\(filter) \(width)x\(height): \(differing) bytes differ from Pillow")
        }
    }

    @Test func theSameSizeIsACopy() throws {
        let image = try ImageDecoder().decode(try bytes("rgb.png"))
        #expect(try image.resized(width: 33, height: 21, filter: .bilinear) == image)
    }

    @Test func resultsOverTheLimitAreRefusedBeforeAllocating() throws {
        let image = try ImageDecoder().decode(try bytes("rgb.png"))
        let error = #expect(throws: ImageDecodingError.self) {
            try image.resized(width: 1 << 40, height: 1 << 40, filter: .bilinear)
        }
        #expect(error?.isTooLarge == true)
        #expect(throws: ImageDecodingError.self) { try image.centerCropped(width: 0, height: 10) }
        #expect(throws: ImageDecodingError.self) { try image.resized(width: 100, height: 100, filter: .bicubic, maxPixels: 50) }
    }

    /// torchvision's own numbers: `_compute_resized_output_size` and `center_crop`'s offsets.
    @Test func torchvisionGeometry() {
        #expect(TorchvisionGeometry.resizedSize(width: 7, height: 300, shorterSide: 256) == (256, 10971))
        #expect(TorchvisionGeometry.resizedSize(width: 2000, height: 1500, shorterSide: 256) == (341, 256))
        #expect(TorchvisionGeometry.resizedSize(width: 333, height: 777, shorterSide: 256) == (256, 597))
        #expect(TorchvisionGeometry.resizedSize(width: 1, height: 1, shorterSide: 256) == (256, 256))
        // int(round(x / 2.0)) rounds half to even: 16.5 -> 16, 17.5 -> 18.
        #expect(TorchvisionGeometry.cropOrigin(size: 257, crop: 224) == 16)
        #expect(TorchvisionGeometry.cropOrigin(size: 259, crop: 224) == 18)
        #expect(TorchvisionGeometry.cropOrigin(size: 256, crop: 224) == 16)
        #expect(TorchvisionGeometry.cropOrigin(size: 224, crop: 224) == 0)
        // A crop larger than the image pads (crop - size) // 2 on the left/top.
        #expect(TorchvisionGeometry.cropOrigin(size: 300, crop: 320) == -10)
        #expect(TorchvisionGeometry.cropOrigin(size: 7, crop: 10) == -1)
    }

    @Test func centerCropPadsWithBlack() throws {
        let image = DecodedImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        let cropped = try image.centerCropped(width: 4, height: 3)
        #expect(cropped.pixels == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            + [0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// ToTensor + Normalize as torchvision computes them in float32 (values from torch).
    @Test func tensorTableIsTorchvisionsFloat32() throws {
        let table = try #require(TensorTable(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]))
        // torchvision's tensor of the pixel (0, 128, 255), printed by Python.
        #expect(table.values[0] == Float(-2.1179039478302))
        #expect(table.values[256 + 128] == Float(0.20518219470977783))
        #expect(table.values[512 + 255] == Float(2.640000104904175))
        #expect(TensorTable().values[1] == Float(1) / Float(255))
        #expect(TensorTable(mean: [0.5, 0.5], std: [1, 1]) == nil)
        #expect(TensorTable(mean: [0.5], std: [0]) == nil)
    }
}
