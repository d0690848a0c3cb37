import EmberArchive
import EmberCore
import Foundation
import ImageCodec
import Testing
import TorchBackend

@testable import EmberTorch

/// The tensors Ember's image pipeline makes are torchvision's, bit for bit, and so are the answers:
/// every image of `Fixtures/pipeline/` (made by make_pipeline.py with PIL: 1x1 to 2000x1500, JPEG
/// baseline / progressive / 4:4:4 / gray / CMYK, PNG RGB / RGBA / L / P) against the SHA-256 of the
/// float32 tensor torchvision produced, and the tiny classifier's and segmenter's answers against
/// PyTorch's on that tensor: the same labels and classes, and probabilities within
/// ``forwardTolerance``.
@Suite struct ImagePipelineExactnessTests {
    /// The generator's torchvision pipelines, as handler-spec steps.
    static let pipelines: [String: [PreprocessStep]] = [
        "imagenet": HandlerSpec.imageNetPreprocess,
        "bicubic-pad": [
            .decodeImage(mode: .rgb), .resize(size: .exact(height: 300, width: 200), interpolation: .bicubic, antialias: true),
            .centerCrop(height: 320, width: 190), .toFloat, .normalize(mean: [0.5], std: [0.25]),
        ],
        "nearest": [
            .decodeImage(mode: .rgb), .resize(size: .shorterSide(100), interpolation: .nearest, antialias: true),
            .centerCrop(height: 90, width: 90), .toFloat,
        ],
    ]

    /// The tensors are compared bit for bit. The model's probabilities are PyTorch's to the last bit when
    /// libtorch runs the forward with the generator's intra-op threading; other tests in the suite change
    /// libtorch's global thread settings, which reorders the convolutions' float32 sums, so the answers are
    /// compared to a few float32 ulps.
    static let forwardTolerance = 1e-6

    static let expected: JSONValue = {
        do {
            return try JSONValue.parse(try Fixtures.bytes("pipeline/expected.json"))
        } catch {
            fatalError("pipeline/expected.json: \(error)")
        }
    }()

    static let cases: [JSONValue] = expected["cases"]?.arrayValue ?? []
    static let files: [String] = cases.compactMap { if case .string(let name)? = $0["file"] { name } else { nil } }

    static func entry(_ file: String) throws -> JSONValue {
        try #require(cases.first { $0["file"] == .string(file) }, "\(file) is not in expected.json")
    }

    static func tensorBytes(_ file: String, steps: [PreprocessStep], decoder: ImageDecoder = ImageDecoder()) throws
        -> (shape: [Int], bytes: [UInt8])
    {
        let preprocessor = ImagePreprocessor(steps: steps, decoder: decoder)
        let tensor = try preprocessor.perImage(try preprocessor.decode(try Fixtures.bytes("pipeline/" + file))).value()
        #expect(tensor.dtype == .float32)
        return (tensor.shape, tensor.storage)
    }

    @Test func everySizeAndFormatIsCovered() {
        #expect(Self.files.count >= 27)
        let sizes = Set(Self.cases.compactMap { entry -> String? in
            guard let width = entry["width"]?.doubleValue, let height = entry["height"]?.doubleValue else { return nil }
            return "\(Int(width))x\(Int(height))"
        })
        #expect(sizes == ["1x1", "7x300", "224x224", "225x225", "257x255", "333x777", "1000x200", "2000x1500"])
        let formats = Set(Self.cases.compactMap { if case .string(let format)? = $0["format"] { format } else { nil } })
        #expect(formats.isSuperset(of: [
            "jpeg-baseline", "jpeg-progressive", "jpeg-444", "jpeg-gray", "jpeg-cmyk", "png-rgb", "png-rgba", "png-l",
            "png-p",
        ]))
    }

    @Test(arguments: files)
    func tensorIsTorchvisionsBitForBit(file: String) throws {
        let entry = try Self.entry(file)
        for (name, steps) in Self.pipelines.sorted(by: { $0.key < $1.key }) {
            let reference = try #require(entry["pipelines"]?[name], "\(file): no \(name) reference")
            let (shape, bytes) = try Self.tensorBytes(file, steps: steps)
            let wantedShape = try #require(reference["shape"]?.arrayValue).compactMap { $0.doubleValue.map(Int.init) }
            #expect(shape == wantedShape, "\(file) \(name): shape")
            guard case .string(let digest)? = reference["sha256"] else {
                Issue.record("\(file) \(name): no digest")
                continue
            }
            let actual = SHA256.hex(bytes)
            if actual != digest {
                Issue.record(Comment(rawValue: try Self.explainMismatch(file: file, pipeline: name, reference, bytes)))
            }
        }
    }

    /// What differs, from the sampled values, and a dump to compare element by element with the generator.
    static func explainMismatch(file: String, pipeline: String, _ reference: JSONValue, _ bytes: [UInt8]) throws
        -> String
    {
        let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var largest: Double = 0
        for sample in reference["samples"]?.arrayValue ?? [] {
            guard let index = sample[0]?.doubleValue.map(Int.init), let wanted = sample[1]?.doubleValue,
                values.indices.contains(index)
            else { continue }
            largest = max(largest, abs(Double(values[index]) - wanted))
        }
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("ember-\(pipeline)-\(file).f32")
        try Data(bytes).write(to: dump)
        return "\(file) \(pipeline): the tensor is not torchvision's (max abs difference over the sampled values "
            + "\(largest)); compare all of it with: /usr/bin/python3 Tests/EmberTorchTests/Fixtures/make_pipeline.py "
            + "--compare \(dump.path) Tests/EmberTorchTests/Fixtures/pipeline/\(file) \(pipeline)"
    }

    static let classifierSpec = HandlerSpec.builtin(named: "image_classifier", archiveFiles: [HandlerSpec.labelFileName])

    static func checkTop5(_ answer: JSONValue, file: String) throws {
        let expected = try #require(try entry(file)["top5"]?.arrayValue)
        let pairs = try #require(answer.objectPairs, "\(file): \(answer.compact())")
        #expect(pairs.count == 5)
        for (pair, reference) in zip(pairs, expected) {
            guard case .string(let label)? = reference[0], let probability = reference[1]?.doubleValue else {
                Issue.record("\(file): bad reference \(reference.compact())")
                continue
            }
            #expect(pair.0 == label, "\(file): label")
            let answered = try #require(pair.1.doubleValue)
            #expect(abs(answered - probability) <= forwardTolerance, "\(file) \(label): \(answered) vs PyTorch's \(probability)")
        }
    }

    @Test(arguments: files)
    func classifierAnswerIsPyTorchs(file: String) throws {
        let pipeline = try Fixtures.pipeline(model: "tiny_classifier.pt", spec: try #require(Self.classifierSpec), labels: true)
        let answer = try pipeline.answers([try Fixtures.bytes("pipeline/" + file)])[0].get()
        try Self.checkTop5(answer, file: file)
    }

    @Test func batchedAnswersAreTheSame() throws {
        let pipeline = try Fixtures.pipeline(model: "tiny_classifier.pt", spec: try #require(Self.classifierSpec), labels: true)
        let files = Array(Self.files.prefix(12))
        let results = pipeline.answers(try files.map { try Fixtures.bytes("pipeline/" + $0) })
        for (file, result) in zip(files, results) { try Self.checkTop5(try result.get(), file: file) }
    }

    @Test func segmenterAnswerIsPyTorchs() throws {
        let spec = try #require(HandlerSpec.builtin(named: "image_segmenter"))
        let pipeline = try Fixtures.pipeline(model: "tiny_segmenter.pt", spec: spec)
        let segmented = Self.cases.filter { $0["segmentation"] != nil }
        #expect(segmented.count >= 3)
        for entry in segmented {
            guard case .string(let file)? = entry["file"] else { continue }
            let rows = try #require(try pipeline.answers([try Fixtures.bytes("pipeline/" + file)])[0].get().arrayValue)
            let pixels = rows.flatMap { $0.arrayValue ?? [] }
            let classes = try #require(entry["segmentation"]?["classes"]?.arrayValue).compactMap(\.doubleValue)
            let probabilities = try #require(entry["segmentation"]?["probabilities"]?.arrayValue).compactMap(\.doubleValue)
            #expect(pixels.count == classes.count)
            let answered = pixels.map { ($0[0]?.doubleValue, $0[1]?.doubleValue) }
            let same = zip(answered, zip(classes, probabilities)).filter {
                $0.0 == $1.0 && abs(($0.1 ?? -1) - $1.1) <= Self.forwardTolerance
            }.count
            #expect(same == classes.count, "\(file): \(same) of \(classes.count) pixels as PyTorch")
        }
    }

    @Test func dctScalingDecodesSmallerAndChangesPixels() throws {
        let file = "2000x1500-jpeg-baseline.jpg"
        var decoder = ImageDecoder()
        decoder.dctScaling = true
        let image = try ImagePreprocessor(steps: HandlerSpec.imageNetPreprocess, decoder: decoder)
            .decode(try Fixtures.bytes("pipeline/" + file))
        // Resize(256) of 2000x1500 is 341x256: a quarter (500x375) is the smallest decode that covers it.
        #expect(image.width == 500 && image.height == 375)
        #expect(image.sourceWidth == 2000 && image.sourceHeight == 1500)
        let (shape, bytes) = try Self.tensorBytes(file, steps: HandlerSpec.imageNetPreprocess, decoder: decoder)
        #expect(shape == [3, 224, 224])
        let digest = try Self.entry(file)["pipelines"]?["imagenet"]?["sha256"]
        #expect(digest != .string(SHA256.hex(bytes)), "DCT scaling changes the pixels, so it must be off by default")
        // Off (the default), the same file decodes at full size.
        #expect(try ImagePreprocessor(steps: HandlerSpec.imageNetPreprocess, decoder: ImageDecoder())
            .decode(try Fixtures.bytes("pipeline/" + file)).width == 2000)
    }

    @Test func dctScalingIsAPerModelSetting() throws {
        #expect(try ModelConfig(yaml: "jpegDCTScaling: true").jpegDCTScaling == true)
        #expect(try ModelConfig(yaml: "batchSize: 1").jpegDCTScaling == nil)
    }

    @Test func resizeToAHugeSizeIsABadRequest() throws {
        // A 1x1 image resized so that its shorter side is 100000 pixels is 10^10 pixels: refused, not allocated.
        let steps: [PreprocessStep] = [
            .decodeImage(mode: .rgb), .resize(size: .exact(height: 100_000, width: 100_000), interpolation: .bilinear, antialias: true),
        ]
        let preprocessor = ImagePreprocessor(steps: steps, decoder: ImageDecoder())
        let image = try preprocessor.decode(try Fixtures.bytes("pipeline/1x1-png-rgb.png"))
        let error = #expect(throws: ServerError.self) { _ = try preprocessor.perImage(image) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("limit") == true, "\(String(describing: error))")
    }
}
