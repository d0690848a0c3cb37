import Foundation
import TorchBackend

/// The committed TorchScript fixtures and the numbers `Fixtures/make_fixtures.py` printed for them.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Expected: Decodable {
        struct Values: Decodable {
            var input: [Float]?
            var shape: [Int]?
            var output: [Float]?
            var logits: [Float]?
            var values: [Float]?
            var indices: [Int64]?
            var pixels: [UInt8]?
        }
        var mlp: Values
        var softmax: Values
        var topk3: Values
        var resize_aa: Values
        var pil_resize: Values
        var classifier_input: Values
    }

    static let expected: Expected = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
            return try JSONDecoder().decode(Expected.self, from: data)
        } catch {
            fatalError("cannot read expected.json: \(error)")
        }
    }()

    static func image30x40() throws -> Tensor {
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("image30x40.rgb")))
        return try Tensor(shape: [30, 40, 3], uint8s: bytes)
    }
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
