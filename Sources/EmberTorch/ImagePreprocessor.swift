import Foundation
import EmberArchive
import EmberCore
import ImageCodec
import TorchBackend

/// Runs an image spec's preprocess steps: geometry (resize, crop) per image, then, once every image
/// has one shape, the element-wise steps (to float, normalize) on the stacked batch.
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
            return try decoder.decode(bytes)
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

    /// The image as a tensor after the per-image (geometry) steps.
    func perImage(_ image: DecodedImage) throws -> TorchTensor {
        var state = try ImageState.uint8(TorchTensor(Tensor(shape: [image.height, image.width, 3], uint8s: image.pixels)))
        for step in geometrySteps {
            state = try state.applying(step, batched: false)
        }
        return state.tensor
    }

    /// Stacks per-image tensors and runs the remaining steps on the batch.
    func batch(_ images: [TorchTensor]) throws -> TorchTensor {
        let stacked = try TorchTensor.stack(images)
        var state = geometrySteps.contains(where: \.producesFloat) ? ImageState.float(stacked) : ImageState.uint8(stacked)
        for step in elementwiseSteps {
            state = try state.applying(step, batched: true)
        }
        // A model takes float input: an image spec without to_float still gets [0, 1] floats.
        if case .uint8(let tensor) = state { return try tensor.imageToFloat() }
        return state.tensor
    }

    private var lastGeometryIndex: Int { steps.lastIndex(where: \.isGeometry) ?? -1 }
    private var geometrySteps: ArraySlice<PreprocessStep> { steps[...lastGeometryIndex] }
    private var elementwiseSteps: ArraySlice<PreprocessStep> { steps[(lastGeometryIndex + 1)...] }
}

/// An image in flight: uint8 HWC until `to_float`, float CHW after it.
private enum ImageState {
    case uint8(TorchTensor)
    case float(TorchTensor)

    var tensor: TorchTensor {
        switch self {
        case .uint8(let tensor), .float(let tensor): tensor
        }
    }

    func applying(_ step: PreprocessStep, batched: Bool) throws -> ImageState {
        switch (step, self) {
        case (.decodeImage, _):
            return self
        case (.resize(let size, let interpolation, let antialias), .uint8(let image)):
            let (height, width) = try outputSize(size, of: image, heightDim: batched ? 1 : 0)
            return .uint8(try image.resizedImage(height: height, width: width, interpolation: interpolation.torch, antialias: antialias))
        case (.resize(let size, let interpolation, let antialias), .float(let image)):
            let (height, width) = try outputSize(size, of: image, heightDim: batched ? 2 : 1)
            return .float(try image.resized(height: height, width: width, interpolation: interpolation.torch, antialias: antialias))
        case (.centerCrop(let height, let width), .uint8(let image)):
            return .uint8(try image.centerCroppedImage(height: height, width: width))
        case (.centerCrop(let height, let width), .float(let image)):
            return .float(try image.centerCropped(height: height, width: width))
        case (.toFloat, .uint8(let image)):
            return .float(try image.imageToFloat())
        case (.toFloat, .float):
            return self
        case (.normalize(let mean, let std), .float(let image)):
            return .float(try image.normalized(mean: mean, std: std))
        case (.normalize(let mean, let std), .uint8(let image)):
            return .float(try image.imageToFloat().normalized(mean: mean, std: std))
        }
    }

    /// torchvision's `Resize`: an int sets the shorter side and keeps the aspect ratio (truncating the
    /// longer side); a pair is the exact height and width.
    private func outputSize(_ size: ResizeSize, of image: TorchTensor, heightDim: Int) throws -> (Int, Int) {
        switch size {
        case .exact(let height, let width):
            return (height, width)
        case .shorterSide(let target):
            let shape = try image.info().shape
            let height = shape[heightDim]
            let width = shape[heightDim + 1]
            if width <= height {
                return (Int(Double(target) * Double(height) / Double(width)), target)
            }
            return (target, Int(Double(target) * Double(width) / Double(height)))
        }
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
    var torch: TorchBackend.Interpolation {
        switch self {
        case .bilinear: .bilinear
        case .bicubic: .bicubic
        case .nearest: .nearest
        }
    }
}
