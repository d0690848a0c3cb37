import Foundation
import EmberArchive
import EmberCore
import Testing

@testable import EmberTorch

/// Ember's image_classifier must answer as TorchServe's: the same top-5 labels, and the same probabilities
/// up to the forward's float32 summation order (see ImagePipelineExactnessTests.forwardTolerance).
@Suite struct ImageClassifierFidelityTests {
    let spec = HandlerSpec.builtin(named: "image_classifier", archiveFiles: [HandlerSpec.labelFileName])

    func check(_ answer: JSONValue, against name: String) throws {
        let expected = try #require(Fixtures.expected["classifier"]?[name]?.arrayValue)
        let pairs = try #require(answer.objectPairs, "\(name): not an object: \(answer.compact())")
        #expect(pairs.count == 5)
        for (pair, reference) in zip(pairs, expected) {
            #expect(pair.0 == reference[0].flatMap { if case .string(let s) = $0 { s } else { nil } }, "\(name): label")
            let probability = try #require(pair.1.doubleValue)
            let wanted = try #require(reference[1]?.doubleValue)
            #expect(
                abs(probability - wanted) <= ImagePipelineExactnessTests.forwardTolerance,
                "\(name) \(pair.0): \(probability) vs \(wanted)")
        }
        // TorchServe's dict is in descending order of probability.
        let probabilities = pairs.compactMap { $0.1.doubleValue }
        #expect(probabilities == probabilities.sorted(by: >))
    }

    @Test(arguments: Fixtures.imageNames)
    func oneImagePerRequest(name: String) throws {
        let pipeline = try Fixtures.pipeline(model: "tiny_classifier.pt", spec: try #require(spec), labels: true)
        let results = pipeline.answers([try Fixtures.bytes("images/" + name)])
        try check(try results[0].get(), against: name)
    }

    @Test func allImagesInOneBatch() throws {
        let pipeline = try Fixtures.pipeline(model: "tiny_classifier.pt", spec: try #require(spec), labels: true)
        let bodies = try Fixtures.imageNames.map { try Fixtures.bytes("images/" + $0) }
        let results = pipeline.answers(bodies + bodies)
        #expect(results.count == 2 * bodies.count)
        for (index, result) in results.enumerated() {
            try check(try result.get(), against: Fixtures.imageNames[index % bodies.count])
        }
    }

    @Test func badImagesFailAloneAndTheRestOfTheBatchAnswers() throws {
        let pipeline = try Fixtures.pipeline(model: "tiny_classifier.pt", spec: try #require(spec), labels: true)
        let good = try Fixtures.bytes("images/landscape.jpg")
        let results = pipeline.answers([Array("not an image".utf8), good, [], Array(good.prefix(100))])
        for index in [0, 2, 3] {
            guard case .failure(let failure) = results[index] else {
                Issue.record("request \(index) should fail")
                continue
            }
            #expect(failure.code == .badRequest)
        }
        try check(try results[1].get(), against: "landscape.jpg")
    }

    @Test func base64ImageInJSON() throws {
        let pipeline = try Fixtures.pipeline(model: "tiny_classifier.pt", spec: try #require(spec), labels: true)
        let encoded = Data(try Fixtures.bytes("images/small.jpg")).base64EncodedString()
        let results = pipeline.answers([Array("{\"data\": \"\(encoded)\"}".utf8)])
        try check(try results[0].get(), against: "small.jpg")
    }

    @Test func withoutLabelsTheIndexIsTheLabel() throws {
        let pipeline = try Fixtures.pipeline(
            model: "tiny_classifier.pt", spec: try #require(HandlerSpec.builtin(named: "image_classifier")))
        let answer = try pipeline.answers([try Fixtures.bytes("images/landscape.jpg")])[0].get()
        #expect(answer.objectPairs?.first?.0 == "2")
    }
}


