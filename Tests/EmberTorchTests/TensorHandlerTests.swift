import EmberArchive
import EmberCore
import Testing
import TorchBackend

@testable import EmberTorch

/// The MLP-style spec: JSON tensors in, {"prediction", "probabilities"} out, shapes checked.
@Suite struct TensorHandlerTests {
    static let specYAML = """
        ember_handler: 1
        input: {type: tensor, dtype: float32, shape: [4]}
        postprocess:
          - softmax: {dim: 1}
          - classification: {}
        """

    func pipeline() throws -> HandlerPipeline {
        let spec = try HandlerSpec.parse(yaml: Self.specYAML, fileName: "spec.yaml")
        return HandlerPipeline(
            module: try TorchModule(contentsOf: Fixtures.directory.deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("TorchBackendTests/Fixtures/mlp.pt").path),
            spec: spec, labels: nil, decoder: .init(), logger: .init(label: "test"))
    }

    /// Softmax of the generator's MLP outputs for its two input rows.
    let row0: [Float] = [0.5, -1.0, 2.0, 0.25]
    let row1: [Float] = [1.0, 1.0, 1.0, 1.0]

    func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func everyInputFormAnswersPerRow() throws {
        let pipeline = try pipeline()
        let results = pipeline.answers([
            body(#"{"data": [0.5, -1.0, 2.0, 0.25]}"#),
            body("[1, 1, 1, 1]"),
            body(#"{"instances": [[0.5, -1.0, 2.0, 0.25], [1, 1, 1, 1]]}"#),
            body(#"{"data": [[0.5, -1.0, 2.0, 0.25], [1, 1, 1, 1]]}"#),
        ])
        let single = try results[0].get()
        #expect(single["prediction"] == 1)
        let probabilities = try #require(single["probabilities"]?.arrayValue).compactMap(\.doubleValue)
        #expect(probabilities.count == 3)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-5)
        let second = try results[1].get()
        #expect(second["prediction"] == 1)
        // Multi-row requests answer a list, one object per row, equal to the single answers.
        #expect(try results[2].get() == [single, second])
        #expect(try results[3].get() == [single, second])
    }

    @Test(arguments: [
        (#"{"data": [1, 2, 3]}"#, "shape [3]"),
        (#"{"data": [[1, 2], [3, 4]]}"#, "shape [2, 2]"),
        (#"{"data": [1, 2, "x", 4]}"#, "Expected a number"),
        (#"{"data": [[1, 2, 3, 4], [1, 2]]}"#, "ragged"),
        (#"{"nothing": 1}"#, "no \"data\""),
        ("{not json", "not valid JSON"),
        ("", "empty"),
        (#"{"data": [1, 2, 3, 1e39]}"#, "does not fit in float32"),
        (#"{"data": [1, 2, 3, 1e999]}"#, "NaN and infinities are not accepted"),
        (#"{"data": [1, 2, 3, NaN]}"#, "not valid JSON"),
        (#"{"data": [1, 2, 3, -Infinity]}"#, "not valid JSON"),
    ])
    func badTensorsAre400WithAClearMessage(input: String, fragment: String) throws {
        let results = try pipeline().answers([body(input), body("[1, 1, 1, 1]")])
        guard case .failure(let failure) = results[0] else {
            Issue.record("expected a failure for \(input)")
            return
        }
        #expect(failure.code == .badRequest)
        #expect(failure.message.contains(fragment), "\(failure.message)")
        // The good request batched with it still answers.
        #expect(try results[1].get()["prediction"] == 1)
    }

    @Test func aModelThatThrowsFailsOnlyItsRequest() throws {
        let spec = try HandlerSpec.parse(
            yaml: "ember_handler: 1\ninput: {type: tensor, dtype: float32, shape: [2]}\npostprocess: [identity]",
            fileName: "spec.yaml")
        let module = try TorchModule(contentsOf: Fixtures.directory.deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("TorchBackendTests/Fixtures/throws.pt").path)
        let pipeline = HandlerPipeline(module: module, spec: spec, labels: nil, decoder: .init(), logger: .init(label: "t"))
        let results = pipeline.answers([body("[1, 2]"), body("[-5, -6]"), body("[3, 4]")])
        #expect(try results[0].get() == [1.0, 2.0])
        guard case .failure(let failure) = results[1] else {
            Issue.record("the negative input should fail")
            return
        }
        #expect(failure.code == .predictionFailed)
        #expect(failure.message == "Prediction failed")
        #expect(try results[2].get() == [3.0, 4.0])
    }
}
