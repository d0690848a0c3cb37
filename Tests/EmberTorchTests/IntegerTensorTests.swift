import EmberArchive
import EmberCore
import Testing
import TorchBackend

@testable import EmberTorch

/// Integer tensors reach the model exactly (no trip through `Double`) and come back exactly; a value
/// that does not fit the model's dtype is a 400. The model: int_mod.pt (EmberServerTests' fixtures),
/// [N, 4] int64 → [N, 8]: each value modulo 7, then the input itself.
@Suite struct IntegerTensorTests {
    func pipeline(dtype: String = "int64") throws -> HandlerPipeline {
        let spec = try HandlerSpec.parse(
            yaml: "ember_handler: 1\ninput: {type: tensor, dtype: \(dtype), shape: [4]}\npostprocess: [identity]",
            fileName: "spec.yaml")
        let module = try TorchModule(contentsOf: Fixtures.directory.deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("EmberServerTests/Fixtures/int_mod.pt").path)
        return HandlerPipeline(module: module, spec: spec, labels: nil, decoder: .init(), logger: .init(label: "t"))
    }

    func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func int64ValuesArriveAndReturnExactly() throws {
        let results = try pipeline().answers([
            body(#"{"data": [[9223372036854775807, 2, 3, 4]]}"#),
            body("[9007199254740993, -9223372036854775808, 0, 7]"),
            body(#"{"instances": [[1, 2, 3, 4.0], [8, 9, 10, 11]]}"#),
        ])
        #expect(try results[0].get() == [[0, 2, 3, 4, 9_223_372_036_854_775_807, 2, 3, 4]])
        // 2^53 + 1: 5 modulo 7; rounded through a double it would be 2^53, 4 modulo 7.
        #expect(try results[1].get() == [5, 6, 0, 0, 9_007_199_254_740_993, -9_223_372_036_854_775_808, 0, 7])
        #expect(try results[2].get() == [[1, 2, 3, 4, 1, 2, 3, 4], [1, 2, 3, 4, 8, 9, 10, 11]])
    }

    @Test(arguments: [
        ("[9223372036854775808, 2, 3, 4]", "does not fit in int64"),
        ("[-9223372036854775809, 2, 3, 4]", "does not fit in int64"),
        ("[1e300, 2, 3, 4]", "does not fit in int64"),
        ("[1.5, 2, 3, 4]", "Expected integers for int64"),
        ("[true, 2, 3, 4]", "Expected numbers for int64"),
    ])
    func int64ValuesThatDoNotFitAre400(input: String, fragment: String) throws {
        let results = try pipeline().answers([body(input), body("[1, 2, 3, 4]")])
        guard case .failure(let failure) = results[0] else {
            Issue.record("expected a failure for \(input)")
            return
        }
        #expect(failure.code == .badRequest)
        #expect(failure.message.contains(fragment), "\(failure.message)")
        #expect(try results[1].get() == [1, 2, 3, 4, 1, 2, 3, 4])
    }

    @Test func narrowerIntegerTypesCheckTheirRange() throws {
        // The model computes in int64; the spec's dtype decides what a request may send.
        for (dtype, tooLarge) in [("int32", "2147483648"), ("uint8", "256"), ("uint8", "-1")] {
            let results = try pipeline(dtype: dtype).answers([body("[\(tooLarge), 1, 2, 3]")])
            guard case .failure(let failure) = results[0] else {
                Issue.record("\(tooLarge) should not fit \(dtype)")
                continue
            }
            #expect(failure.message.contains("does not fit in \(dtype)"), "\(failure.message)")
        }
    }
}
