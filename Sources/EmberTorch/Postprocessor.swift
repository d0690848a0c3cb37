import EmberArchive
import EmberCore
import TorchBackend

/// Runs a spec's postprocess steps on the batched model output and renders one JSON answer per row.
struct Postprocessor {
    let steps: [PostprocessStep]
    let labels: LabelMap?

    /// What the steps have produced so far.
    private enum Stage {
        case tensor(TorchTensor)
        case topK(values: TorchTensor, indices: TorchTensor)
        case argmax(TorchTensor)
        case rendered([PipelineAnswer])
    }

    func run(_ output: TorchTensor, rows: Int) throws -> [PipelineAnswer] {
        var stage = Stage.tensor(output)
        var labelled = false
        for step in steps {
            switch (step, stage) {
            case (.softmax(let dim), .tensor(let tensor)):
                stage = .tensor(try tensor.softmax(dim: dim))
            case (.topk(let k), .tensor(let tensor)):
                let (values, indices) = try tensor.topK(k, dim: 1)
                stage = .topK(values: values, indices: indices)
            case (.argmax(let dim), .tensor(let tensor)):
                stage = .argmax(try tensor.argmax(dim: dim))
            case (.labels, _):
                labelled = true
            case (.classification, .tensor(let tensor)):
                stage = .rendered(try classification(tensor))
            case (.segmentation, .tensor(let tensor)):
                stage = .rendered(try segmentation(tensor).map(PipelineAnswer.json))
            case (.identity, _):
                continue
            default:
                throw ServerError(.internalError, "postprocess step \(step) cannot follow the previous steps")
            }
        }
        let answers = try render(stage, labelled: labelled)
        guard answers.count == rows else {
            throw ServerError(.predictionFailed, "number of batch response mismatched")
        }
        return answers
    }

    private func render(_ stage: Stage, labelled: Bool) throws -> [PipelineAnswer] {
        switch stage {
        case .rendered(let answers):
            return answers
        case .tensor(let tensor):
            return try Self.rows(of: try tensor.value()).map(PipelineAnswer.json)
        case .topK(let values, let indices):
            let probabilities = try values.value()
            let classes = try indices.value()
            let perRow = probabilities.shape.last ?? 0
            let flatValues = probabilities.doubleValues
            let flatIndices = classes.int64s ?? []
            return stride(from: 0, to: flatValues.count, by: max(perRow, 1)).map { start in
                .json(.object((start..<start + perRow).map { position in
                    (name(of: Int(flatIndices[position]), labelled: labelled), .double(flatValues[position]))
                }))
            }
        case .argmax(let indices):
            let flat = try indices.value().int64s ?? []
            return flat.map { .json(labelled ? .string(name(of: Int($0), labelled: true)) : .int(Int($0))) }
        }
    }

    private func name(of index: Int, labelled: Bool) -> String {
        guard labelled, let labels else { return String(index) }
        return labels.label(index)
    }

    /// `{"prediction": argmax, "probabilities": [...]}` per row. A float32 `[N, C]` output is copied out
    /// once and its argmax taken here, as libtorch takes it (the first NaN, else the first maximum): one
    /// libtorch call instead of an argmax and two copies per batch.
    private func classification(_ tensor: TorchTensor) throws -> [PipelineAnswer] {
        if let (shape, values) = try tensor.floatValues(), shape.count == 2, shape[1] > 0 {
            let classes = shape[1]
            return (0..<shape[0]).map { row in
                let probabilities = Array(values[(row * classes)..<((row + 1) * classes)])
                return .classification(prediction: Self.argmax(probabilities), probabilities: probabilities)
            }
        }
        let predictions = try tensor.argmax(dim: 1).value().int64s ?? []
        let rows = try Self.rows(of: try tensor.value())
        return zip(predictions, rows).map { prediction, row in
            .json(["prediction": .int(Int(prediction)), "probabilities": row])
        }
    }

    /// torch.argmax over one row: the index of the first NaN if there is one, else of the first maximum.
    static func argmax(_ row: [Float]) -> Int {
        var best = 0
        for index in row.indices.dropFirst() {
            if row[best].isNaN { break }
            if row[index].isNaN || row[index] > row[best] { best = index }
        }
        return best
    }

    /// TorchServe's image_segmenter answer: per pixel `[class, value]` (a probability after a softmax
    /// step), as `[H][W][2]`.
    private func segmentation(_ tensor: TorchTensor) throws -> [JSONValue] {
        let (values, indices) = try tensor.max(dim: 1)
        let probabilities = try values.value()
        let classes = try indices.value().int64s ?? []
        let shape = probabilities.shape
        guard shape.count == 3 else {
            throw ServerError(.predictionFailed,
                "segmentation needs an [N, C, H, W] output; got \(shape) after max over classes")
        }
        let flat = probabilities.doubleValues
        let (height, width) = (shape[1], shape[2])
        return (0..<shape[0]).map { image in
            .array((0..<height).map { y in
                .array((0..<width).map { x in
                    let position = (image * height + y) * width + x
                    return [.double(Double(classes[position])), .double(flat[position])]
                })
            })
        }
    }

    /// Splits a batched tensor into per-row nested lists (`tensor.tolist()` for each row). Integer
    /// tensors are rendered from their own values, exactly (an int64 above 2^53 would round, and
    /// 2^63 trap, through `Double`).
    static func rows(of tensor: Tensor) throws -> [JSONValue] {
        let element: (Int) -> JSONValue
        switch tensor.dtype {
        case .float32, .float64:
            let values = tensor.doubleValues
            element = { .double(values[$0]) }
        case .int64:
            let values = tensor.int64s ?? []
            element = { .int(Int(values[$0])) }
        case .int32:
            let values = tensor.int32s ?? []
            element = { .int(Int(values[$0])) }
        case .uint8:
            let values = tensor.uint8s ?? []
            element = { .int(Int(values[$0])) }
        case .bool:
            let values = tensor.bools ?? []
            element = { .bool(values[$0]) }
        }
        guard let rowCount = tensor.shape.first else { return [nested(element, shape: [], offset: 0)] }
        let rowShape = Array(tensor.shape.dropFirst())
        let rowLength = rowShape.reduce(1, *)
        return (0..<rowCount).map { nested(element, shape: rowShape, offset: $0 * rowLength) }
    }

    private static func nested(_ element: (Int) -> JSONValue, shape: [Int], offset: Int) -> JSONValue {
        func build(_ dims: ArraySlice<Int>, _ start: Int) -> JSONValue {
            guard let size = dims.first else { return element(start) }
            let stride = dims.dropFirst().reduce(1, *)
            return .array((0..<size).map { build(dims.dropFirst(), start + $0 * stride) })
        }
        return build(shape[...], offset)
    }
}
