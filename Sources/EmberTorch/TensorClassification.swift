import EmberCore
import Foundation
import TorchBackend

/// Triton's classification extension: an output's top `k` classes per row, as BYTES strings
/// `"score:index"` or `"score:index:label"` when the model has a label file, highest first.
struct TensorClassification {
    let labels: LabelMap?

    func classify(_ tensor: NamedTensor, top k: Int) throws -> NamedTensor {
        guard k > 0 else { throw ServerError.badRequest("classification for output '\(tensor.name)' must be 1 or more.") }
        guard let dtype = tensor.datatype.torch, let classes = tensor.shape.last, classes > 0 else {
            throw ServerError.badRequest("Output '\(tensor.name)' \(tensor.shape) cannot be classified.")
        }
        let values = try Tensor(dtype: dtype, shape: tensor.shape, storage: tensor.data).doubleValues
        let rows = values.count / classes
        let kept = min(k, classes)
        var elements: [[UInt8]] = []
        for row in 0..<rows {
            let scores = values[(row * classes)..<((row + 1) * classes)]
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] || scores[$0] == scores[$1] && $0 < $1 }
            for index in ranked.prefix(kept) {
                let classIndex = index - row * classes
                var text = String(format: "%f:%d", scores[index], classIndex)
                if let labels { text += ":" + labels.label(classIndex) }
                elements.append(Array(text.utf8))
            }
        }
        let shape = tensor.shape.count > 1 ? Array(tensor.shape.dropLast()) + [kept] : [kept]
        return try NamedTensor(name: tensor.name, datatype: .bytes, shape: shape, data: NamedTensor.byteData(elements))
    }
}
