// ember-image-bench: the image_classifier pipeline stage by stage, in-process, one thread, exactly as
// the server runs it (ImageCodec's decode, Pillow-exact resize, torchvision crop + ToTensor/Normalize
// table, then libtorch's forward). Prints one JSON object per image (kind "image_pipeline") for
// benchmarks/run.py, with the same image decoded with libjpeg-turbo's DCT scaling beside it and what
// that changes in the tensor and in the top-5.
//
//   ember-image-bench --model PATH [--image PATH]... [--seconds 2] [--threads 1]
import Foundation
import ImageCodec
import TorchBackend

struct Options {
    var model = "examples/resnet18/resnet18.pt"
    var images: [String] = []
    var seconds = 2.0
    var threads = 1
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ember-image-bench: \(message)\n".utf8))
    exit(2)
}

func parseOptions() -> Options {
    var options = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    func value(_ flag: String) -> String {
        guard let next = args.next() else { fail("\(flag) needs a value") }
        return next
    }
    while let arg = args.next() {
        switch arg {
        case "--model": options.model = value(arg)
        case "--image": options.images.append(value(arg))
        case "--seconds":
            guard let seconds = Double(value(arg)), seconds > 0, seconds <= 600 else { fail("bad --seconds") }
            options.seconds = seconds
        case "--threads":
            guard let threads = Int(value(arg)), threads >= 1 else { fail("bad --threads") }
            options.threads = threads
        default: fail("unknown argument \(arg)")
        }
    }
    if options.images.isEmpty { options.images = ["examples/resnet18/sample.jpg"] }
    return options
}

/// The median of `body`'s wall time in milliseconds over repeated runs for about `seconds` (3 runs at least).
func medianMilliseconds(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    let clock = ContinuousClock()
    let deadline = clock.now + .milliseconds(Int(seconds * 1000))
    repeat {
        let started = clock.now
        try body()
        let elapsed = clock.now - started
        samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
    } while (clock.now < deadline || samples.count < 3) && samples.count < 100_000
    samples.sort()
    return samples[samples.count / 2]
}

let crop = 224
let shorterSide = 256
let table = TensorTable(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])!

func resizeTarget(width: Int, height: Int) -> (width: Int, height: Int) {
    TorchvisionGeometry.resizedSize(width: width, height: height, shorterSide: shorterSide)
}

func resized(_ image: DecodedImage) throws -> DecodedImage {
    let target = resizeTarget(width: image.sourceWidth, height: image.sourceHeight)
    return try image.resized(width: target.width, height: target.height, filter: .bilinear)
}

func normalized(_ image: DecodedImage) throws -> [UInt8] {
    table.chwFloat32Bytes(of: try image.centerCropped(width: crop, height: crop))
}

func probabilities(_ module: TorchModule, _ storage: [UInt8]) throws -> [Float] {
    let input = try TorchTensor(Tensor(dtype: .float32, shape: [1, 3, crop, crop], storage: storage))
    guard let logits = try module.forward([input]).tensor else { fail("the model returned no tensor") }
    return try logits.softmax(dim: 1).value().floats ?? []
}

func top5(_ values: [Float]) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] }.prefix(5))
}

func floats(_ storage: [UInt8]) -> [Float] {
    storage.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func json(_ object: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

let options = parseOptions()
do {
    try TorchRuntime.setIntraOpThreads(options.threads)
    let module = try TorchModule(contentsOf: options.model)
    let exactDecoder = ImageDecoder()
    let scaledDecoder = ImageDecoder(dctScaling: true)
    for path in options.images {
        guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
        let bytes = [UInt8](data)
        let stageSeconds = options.seconds / 4
        let decoded = try exactDecoder.decode(bytes)
        let small = try resized(decoded)
        let storage = try normalized(small)
        _ = try probabilities(module, storage)  // warm-up: TorchScript optimises on the first calls
        _ = try probabilities(module, storage)

        let decodeMs = try medianMilliseconds(seconds: stageSeconds) { _ = try exactDecoder.decode(bytes) }
        let resizeMs = try medianMilliseconds(seconds: stageSeconds) { _ = try resized(decoded) }
        let normalizeMs = try medianMilliseconds(seconds: stageSeconds) { _ = try normalized(small) }
        let forwardMs = try medianMilliseconds(seconds: stageSeconds) { _ = try probabilities(module, storage) }

        let minimum: (Int, Int) -> (width: Int, height: Int)? = { resizeTarget(width: $0, height: $1) }
        let scaledDecoded = try scaledDecoder.decode(bytes, minimumSize: minimum)
        let scaledSmall = try resized(scaledDecoded)
        let scaledStorage = try normalized(scaledSmall)
        let scaledDecodeMs = try medianMilliseconds(seconds: stageSeconds / 2) {
            _ = try scaledDecoder.decode(bytes, minimumSize: minimum)
        }
        let scaledResizeMs = try medianMilliseconds(seconds: stageSeconds / 2) { _ = try resized(scaledDecoded) }

        let exact = floats(storage)
        let scaled = floats(scaledStorage)
        let differences = zip(exact, scaled).map { abs($0 - $1) }
        let exactProbabilities = try probabilities(module, storage)
        let scaledProbabilities = try probabilities(module, scaledStorage)
        let probabilityChange = zip(exactProbabilities, scaledProbabilities).map { abs($0 - $1) }.max() ?? 0
        let total = decodeMs + resizeMs + normalizeMs + forwardMs
        print(
            json([
                "kind": "image_pipeline", "image": (path as NSString).lastPathComponent,
                "width": decoded.width, "height": decoded.height, "bytes": bytes.count,
                "decode_ms": decodeMs, "resize_ms": resizeMs, "normalize_ms": normalizeMs, "forward_ms": forwardMs,
                "total_ms": total,
                "dct": [
                    "scale": "1/\(decoded.width / max(1, scaledDecoded.width))",
                    "decoded_width": scaledDecoded.width, "decoded_height": scaledDecoded.height,
                    "decode_ms": scaledDecodeMs, "resize_ms": scaledResizeMs,
                    "total_ms": scaledDecodeMs + scaledResizeMs + normalizeMs + forwardMs,
                    "max_abs_diff": Double(differences.max() ?? 0),
                    "differing_fraction": Double(differences.filter { $0 != 0 }.count) / Double(max(1, exact.count)),
                    "max_probability_change": Double(probabilityChange),
                    "top1_same": top5(exactProbabilities).first == top5(scaledProbabilities).first,
                    "top5_same": top5(exactProbabilities) == top5(scaledProbabilities),
                ] as [String: Any],
            ]))
    }
} catch {
    fail("\(error)")
}
