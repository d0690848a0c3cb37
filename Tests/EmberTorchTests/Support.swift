import EmberArchive
import EmberCore
import Foundation
import ImageCodec
import Logging
import TorchBackend

@testable import EmberTorch

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    static func bytes(_ name: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: url(name))) }

    static let imageNames = [
        "landscape.jpg", "portrait.png", "wide-gray.jpg", "rgba.png", "palette.png", "exact224.png", "small.jpg",
        "strip.png", "gray.png",
    ]

    /// What torchvision + TorchServe's handlers answered, from make_fidelity.py.
    static let expected: JSONValue = {
        do {
            return try JSONValue.parse(try bytes("expected.json"))
        } catch {
            fatalError("expected.json: \(error)")
        }
    }()

    static func pipeline(model: String, spec: HandlerSpec, labels: Bool = false) throws -> HandlerPipeline {
        HandlerPipeline(
            module: try TorchModule(contentsOf: url(model).path), spec: spec,
            labels: labels ? try LabelMap(contentsOf: url("index_to_name.json")) : nil,
            decoder: ImageDecoder(), logger: Logger(label: "test"))
    }
}

extension JSONValue {
    var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int(let value): Double(value)
        default: nil
        }
    }

    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    var objectPairs: [(String, JSONValue)]? {
        if case .object(let pairs) = self { return pairs }
        return nil
    }
}

extension HandlerPipeline {
    /// The answers without their forward times.
    func answers(_ bodies: [[UInt8]]) -> [Result<JSONValue, ServerError>] {
        run(bodies).map { $0.map(\.value) }
    }
}
