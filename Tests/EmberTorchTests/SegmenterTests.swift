import EmberArchive
import EmberCore
import Testing

@testable import EmberTorch

@Suite struct SegmenterTests {
    @Test func perPixelClassAndProbabilityAsTorchServe() throws {
        let spec = try #require(HandlerSpec.builtin(named: "image_segmenter"))
        let pipeline = try Fixtures.pipeline(model: "tiny_segmenter.pt", spec: spec)
        let names = ["landscape.jpg", "gray.png"]
        let results = pipeline.answers(try names.map { try Fixtures.bytes("images/" + $0) })
        for (name, result) in zip(names, results) {
            let expected = try #require(Fixtures.expected["segmenter"]?[name])
            let rows = try #require(try result.get().arrayValue)
            #expect(rows.count == 28)
            let pixels = rows.flatMap { $0.arrayValue ?? [] }
            #expect(pixels.count == 28 * 28)
            let classes = try #require(expected["classes"]?.arrayValue).compactMap(\.doubleValue)
            let probabilities = try #require(expected["probabilities"]?.arrayValue).compactMap(\.doubleValue)
            var sameClass = 0
            for (index, pixel) in pixels.enumerated() {
                let pair = pixel.arrayValue ?? []
                #expect(pair.count == 2)
                if pair.first?.doubleValue == classes[index] { sameClass += 1 }
                #expect(abs((pair.last?.doubleValue ?? -1) - probabilities[index]) < 0.05)
            }
            // Ties between classes are rare; allow a handful of pixels to differ.
            #expect(sameClass >= pixels.count - 5, "\(name): \(sameClass) of \(pixels.count) pixels agree")
        }
    }
}
