import Foundation
import EmberArchive
import EmberCore
import ImageCodec
import TorchBackend

/// Runs an image spec's preprocess steps on each image, then stacks the images into the batch.
///
/// Until `to_float` an image is 8-bit RGB pixels, and the steps are TorchServe's torchvision
/// transforms on a PIL image, reproduced bit for bit: `resize` is Pillow's resampling, `center_crop`
/// torchvision's offsets, and `to_float` (with a `normalize` right after it) a table of the exact
/// float32 values. Steps after `to_float` run on the float tensor in libtorch.
struct ImagePreprocessor {
    let steps: [PreprocessStep]
    let decoder: ImageDecoder

    /// Decodes an image request body: raw JPEG/PNG bytes, or base64 in `{"data": "…"}`.
    func decode(_ body: [UInt8]) throws(ServerError) -> DecodedImage {
        var bytes = body
        if ImageDecoder.format(of: body) == nil, let embedded = Self.base64Image(in: body) {
            bytes = embedded
        }
        do {
            return try decoder.decode(bytes, minimumSize: reducedDecodeSize)
        } catch {
            throw .badRequest(error.message)
        }
    }

    private static func base64Image(in body: [UInt8]) -> [UInt8]? {
        guard let document = try? JSONValue.parse(body) else { return nil }
        let candidates = [document["data"], document["body"], document["instances"]?[0]?["b64"], document["b64"]]
        for case .string(let text)? in candidates {
            if let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) { return [UInt8](data) }
        }
        return nil
    }

    /// With DCT scaling on, how small the decoder may make an image: the size of the first step's
    /// resize, when the first geometry step is a Pillow resize of the pixels (nil otherwise).
    private var reducedDecodeSize: ((Int, Int) -> (width: Int, height: Int)?)? {
        guard decoder.dctScaling, let index = steps.firstIndex(where: \.isGeometry),
            case .resize(let size, let interpolation, let antialias) = steps[index],
            !steps[..<index].contains(where: \.producesFloat), interpolation.pillowFilter(antialias: antialias) != nil
        else { return nil }
        return { width, height in size.target(width: width, height: height) }
    }

    /// The image as the model sees it: a float32 CHW tensor after every step.
    func perImage(_ image: DecodedImage) throws -> TorchTensor {
        var state = ImageState.pixels(image)
        var index = steps.startIndex
        while index < steps.endIndex {
            let step = steps[index]
            let next = index + 1 < steps.endIndex ? steps[index + 1] : nil
            if case .pixels(let pixels) = state, case .toFloat = step, case .normalize(let mean, let std)? = next {
                // ToTensor and Normalize in one table lookup: the same float32 values.
                state = .float(try Self.tensor(pixels, table: TensorTable(mean: mean, std: std)))
                index += 2
                continue
            }
            state = try state.applying(step, maxPixels: decoder.maxPixels)
            index += 1
        }
        switch state {
        case .pixels(let pixels):
            // A model takes float input: an image spec without to_float still gets [0, 1] floats.
            return try Self.tensor(pixels, table: TensorTable())
        case .float(let tensor):
            return tensor
        }
    }

    /// Stacks per-image tensors into the batch.
    func batch(_ images: [TorchTensor]) throws -> TorchTensor {
        let stacked = try TorchTensor.stack(images)
        if try stacked.info().dtype == .uint8 { return try stacked.imageToFloat() }
        return stacked
    }

    static func tensor(_ image: DecodedImage, table: TensorTable?) throws -> TorchTensor {
        guard let table else {
            throw ServerError.badRequest("normalize needs 1 or 3 mean/std values with std not 0")
        }
        return try TorchTensor(
            Tensor(dtype: .float32, shape: [3, image.height, image.width], storage: table.chwFloat32Bytes(of: image)))
    }
}

/// An image in flight: 8-bit RGB pixels until `to_float`, a float CHW tensor after it.
private enum ImageState {
    case pixels(DecodedImage)
    case float(TorchTensor)

    func applying(_ step: PreprocessStep, maxPixels: Int) throws -> ImageState {
        switch (step, self) {
        case (.decodeImage, _):
            return self
        case (.resize(let size, let interpolation, let antialias), .pixels(let image)):
            let target = try size.checkedTarget(width: image.sourceWidth, height: image.sourceHeight, maxPixels: maxPixels)
            guard let filter = interpolation.pillowFilter(antialias: antialias) else {
                // antialias: false is torchvision's resize of a uint8 tensor, not of a PIL image.
                let tensor = try TorchTensor(Tensor(shape: [image.height, image.width, 3], uint8s: image.pixels))
                let resized = try tensor.resizedImage(
                    height: target.height, width: target.width, interpolation: interpolation.torch, antialias: false)
                guard let bytes = try resized.value().uint8s else { throw ServerError.predictionFailed }
                return .pixels(DecodedImage(width: target.width, height: target.height, pixels: bytes))
            }
            return .pixels(try Self.badRequest { () throws(ImageDecodingError) in
                try image.resized(width: target.width, height: target.height, filter: filter, maxPixels: maxPixels)
            })
        case (.resize(let size, let interpolation, let antialias), .float(let image)):
            let shape = try image.info().shape
            guard shape.count == 3 else { throw ServerError.badRequest("The image cannot be resized to \(size)") }
            let target = try size.checkedTarget(width: shape[2], height: shape[1], maxPixels: maxPixels)
            return .float(
                try image.resized(
                    height: target.height, width: target.width, interpolation: interpolation.torch, antialias: antialias))
        case (.centerCrop(let height, let width), .pixels(let image)):
            return .pixels(try Self.badRequest { () throws(ImageDecodingError) in
                try image.centerCropped(width: width, height: height, maxPixels: maxPixels)
            })
        case (.centerCrop(let height, let width), .float(let image)):
            return .float(try image.centerCropped(height: height, width: width))
        case (.toFloat, .pixels(let image)):
            return .float(try ImagePreprocessor.tensor(image, table: TensorTable()))
        case (.toFloat, .float):
            return self
        case (.normalize(let mean, let std), .float(let image)):
            return .float(try image.normalized(mean: mean, std: std))
        case (.normalize(let mean, let std), .pixels(let image)):
            return .float(try ImagePreprocessor.tensor(image, table: TensorTable(mean: mean, std: std)))
        }
    }

    private static func badRequest(
        _ body: () throws(ImageDecodingError) -> DecodedImage
    ) throws(ServerError) -> DecodedImage {
        do {
            return try body()
        } catch {
            throw .badRequest(error.message)
        }
    }
}

extension ResizeSize {
    /// torchvision's output size for an image of `width` x `height`; nil when it is not a positive size.
    func target(width: Int, height: Int) -> (width: Int, height: Int)? {
        let target: (width: Int, height: Int)
        switch self {
        case .exact(let height, let width):
            target = (width, height)
        case .shorterSide(let side):
            target = TorchvisionGeometry.resizedSize(width: width, height: height, shorterSide: side)
        }
        guard target.width > 0, target.height > 0 else { return nil }
        return target
    }

    /// ``target(width:height:)``, refused with a client error when it is empty or over `maxPixels`.
    func checkedTarget(width: Int, height: Int, maxPixels: Int) throws(ServerError) -> (width: Int, height: Int) {
        guard let target = target(width: width, height: height) else {
            throw .badRequest("The \(width)x\(height) image cannot be resized to \(self)")
        }
        let (pixels, overflow) = target.width.multipliedReportingOverflow(by: target.height)
        guard !overflow, pixels <= maxPixels else {
            throw .badRequest(
                ImageDecodingError.resultTooLarge(width: target.width, height: target.height, limit: maxPixels).message)
        }
        return target
    }
}

extension InputSpec {
    var isImage: Bool {
        if case .image = self { return true }
        return false
    }
}

extension PreprocessStep {
    var isGeometry: Bool {
        switch self {
        case .resize, .centerCrop: true
        default: false
        }
    }

    var producesFloat: Bool {
        switch self {
        case .toFloat, .normalize: true
        default: false
        }
    }
}

extension EmberArchive.Interpolation {
    /// The Pillow filter torchvision uses for a PIL image, which always antialiases; nil for
    /// `antialias: false`, which only a tensor resize honours.
    func pillowFilter(antialias: Bool) -> ResampleFilter? {
        switch self {
        case .nearest: .nearest
        case .bilinear: antialias ? .bilinear : nil
        case .bicubic: antialias ? .bicubic : nil
        }
    }

    var torch: TorchBackend.Interpolation {
        switch self {
        case .bilinear: .bilinear
        case .bicubic: .bicubic
        case .nearest: .nearest
        }
    }
}
