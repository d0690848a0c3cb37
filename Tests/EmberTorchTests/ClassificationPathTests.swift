import EmberArchive
import EmberCore
import Foundation
import Testing
import TorchBackend

@testable import EmberTorch

/// The classification answer made in Swift from one copy of the output against libtorch's own ops and
/// JSONValue's rendering: the same argmax, the same bytes.
@Suite struct ClassificationPathTests {
    func mlp() throws -> TorchModule {
        try TorchModule(contentsOf: Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TorchBackendTests/Fixtures/mlp.pt").path)
    }

    /// What the pipeline answered before: softmax, argmax and two copies through libtorch, rendered by JSONValue.
    func libtorchAnswer(_ module: TorchModule, rows: [[Float]]) throws -> [UInt8] {
        let input = try TorchTensor(Tensor(shape: [rows.count, rows[0].count], floats: rows.flatMap { $0 }))
        let output = try #require(try module.forward([input]).tensor)
        let probabilities = try output.softmax(dim: 1)
        let predictions = try #require(try probabilities.argmax(dim: 1).value().int64s)
        let values = try probabilities.value().doubleValues
        let classes = values.count / rows.count
        let answers: [JSONValue] = (0..<rows.count).map { row in
            ["prediction": .int(Int(predictions[row])),
             "probabilities": .array(values[(row * classes)..<((row + 1) * classes)].map { .double($0) })]
        }
        return Array((rows.count == 1 ? answers[0] : .array(answers)).prettyPrinted().utf8)
    }

    @Test func answersAreByteIdenticalToLibtorchsOnARealModel() throws {
        let pipeline = try TensorHandlerTests().pipeline()
        let module = try mlp()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let literals = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                (0..<4).map { _ in "\(Float.random(in: -20...20, using: &generator))" }
            }
            // The floats as any JSON reader makes them: the literal's nearest Double, rounded to Float.
            let rows = try literals.map { row in try row.map { Float(try #require(Double($0))) } }
            let text = literals.map { "[" + $0.joined(separator: ", ") + "]" }
            let body = rows.count == 1 ? #"{"data": \#(text[0])}"# : #"{"data": [\#(text.joined(separator: ", "))]}"#
            let answer = try #require(pipeline.bodies([Array(body.utf8)]).first).get()
            #expect(answer.body == (try libtorchAnswer(module, rows: rows)), "\(body)")
        }
    }

    @Test func argmaxTakesTheFirstNaNElseTheFirstMaximumAsLibtorchDoes() throws {
        let rows: [[Float]] = [
            [1, 3, 3, 2], [3, 3, 3, 3], [.nan, 1, 2, 3], [1, .nan, 5, .nan], [-.infinity, -.infinity, -.infinity, -.infinity],
            [0, -0.0, 0, -1], [.infinity, 1, .infinity, .nan], [-1, -2, -3, -0.5],
        ]
        let tensor = try TorchTensor(shape: [rows.count, 4], floats: rows.flatMap { $0 })
        let expected = try #require(try tensor.argmax(dim: 1).value().int64s).map { Int($0) }
        #expect(rows.map(Postprocessor.argmax) == expected)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            // Few distinct values, so ties are common.
            let row = (0..<7).map { _ in Float(Int.random(in: 0...3, using: &generator)) }
            let libtorch = try TorchTensor(shape: [1, 7], floats: row).argmax(dim: 1).value().int64s?.first
            #expect(Postprocessor.argmax(row) == libtorch.map { Int($0) }, "\(row)")
        }
    }

    @Test func floatTensorsRoundTripThroughLibtorch() throws {
        let values: [Float] = [1.5, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 3]
        let tensor = try TorchTensor(shape: [5, 1], floats: values)
        let copied = try #require(try tensor.floatValues())
        #expect(copied.shape == [5, 1])
        #expect(copied.values.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(throws: TorchError.self) { try TorchTensor(shape: [2, 2], floats: values) }
        #expect(throws: TorchError.self) { try TorchTensor(shape: [-1, 5], floats: values) }
        #expect(try TorchTensor(Tensor(shape: [2], int64s: [1, 2])).floatValues() == nil)
    }
}
