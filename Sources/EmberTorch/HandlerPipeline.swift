import EmberArchive
import EmberCore
import ImageCodec
import Logging
import TorchBackend

/// One model version's declarative handler: decode each request, run the model once per batch,
/// postprocess, and answer each request on its own.
///
/// Runs on a worker's thread. The module is shared by every worker of the version.
package final class HandlerPipeline: Sendable {
    package let module: TorchModule
    let spec: HandlerSpec
    let labels: LabelMap?
    let decoder: ImageDecoder
    let logger: Logger

    init(module: TorchModule, spec: HandlerSpec, labels: LabelMap?, decoder: ImageDecoder, logger: Logger) {
        self.module = module
        self.spec = spec
        self.labels = labels
        self.decoder = decoder
        self.logger = logger
    }

    /// A request after decoding: the rows it adds to the batch.
    private struct Prepared {
        var index: Int
        var rows: Rows
        var isMultiRow: Bool
        var shapeKey: [Int]
    }

    /// Images are tensors once decoded and preprocessed; JSON rows stay numbers until the batch
    /// tensor is made from all of them at once (one allocation, no stack).
    private enum Rows {
        case images([TorchTensor])
        case values(NumericRows)
        /// float32 rows read straight from the body (JSONFloatTensor), row-major.
        case floats([Float], count: Int)

        var count: Int {
            switch self {
            case .images(let images): images.count
            case .values(let values): values.count
            case .floats(_, let count): count
            }
        }
    }

    /// An answer and the forward time of the batch that produced it.
    typealias Answer = (value: JSONValue, forwardTime: Duration)

    /// The answers as JSON values (tests and tools; the server takes ``bodies(_:)``).
    func run(_ bodies: [[UInt8]]) -> [Result<Answer, ServerError>] {
        answers(bodies).map { $0.map { ($0.answer.jsonValue, $0.forwardTime) } }
    }

    /// Each answer's body (Gson's layout, as `JSONValue.prettyPrinted()` renders it) and its forward time.
    func bodies(_ bodies: [[UInt8]]) -> [Result<(body: [UInt8], forwardTime: Duration), ServerError>] {
        answers(bodies).map { $0.map { ($0.answer.body(), $0.forwardTime) } }
    }

    typealias Answered = (answer: PipelineAnswer, forwardTime: Duration)

    private func answers(_ bodies: [[UInt8]]) -> [Result<Answered, ServerError>] {
        var results = [Result<Answered, ServerError>](repeating: .failure(.predictionFailed), count: bodies.count)
        var prepared: [Prepared] = []
        for (index, body) in bodies.enumerated() {
            do {
                prepared.append(try prepare(body, index: index))
            } catch let failure as ServerError {
                results[index] = .failure(failure)
            } catch {
                results[index] = .failure(.badRequest("The input cannot be prepared for the model: \(error)"))
            }
        }
        // Requests whose rows have one shape share one forward (the usual case: no grouping needed).
        if let first = prepared.first, prepared.allSatisfy({ $0.shapeKey == first.shapeKey }) {
            for (index, result) in runIsolatingFailures(prepared) { results[index] = result }
            return results
        }
        var groups: [[Int]: [Prepared]] = [:]
        for request in prepared { groups[request.shapeKey, default: []].append(request) }
        for group in groups.values {
            for (index, result) in runIsolatingFailures(group) { results[index] = result }
        }
        return results
    }

    private func runIsolatingFailures(_ group: [Prepared]) -> [(Int, Result<Answered, ServerError>)] {
        do {
            return try forward(group).map { ($0.0, .success(($0.1, $0.2))) }
        } catch {
            guard group.count > 1 else {
                let failure = Self.failure(for: error)
                logger.warning(
                    "inference failed", metadata: ["error": "\(error)", "error.code": "\(failure.code)"])
                return [(group[0].index, .failure(failure))]
            }
            // One bad request must not fail the others batched with it: run each alone.
            return group.flatMap { runIsolatingFailures([$0]) }
        }
    }

    private static func failure(for error: any Error) -> ServerError {
        if let failure = error as? ServerError { return failure }
        if let torch = error as? TorchError, torch.code == .outOfMemory { return .outOfResources }
        return .predictionFailed
    }

    private func forward(_ group: [Prepared]) throws -> [(Int, PipelineAnswer, Duration)] {
        let rowCount = group.reduce(0) { $0 + $1.rows.count }
        let input = try batchTensor(group, rowCount: rowCount)
        let started = ContinuousClock.now
        let result = try module.forward([input])
        let forwardTime = ContinuousClock.now - started
        let rowAnswers = try answers(for: result, rows: rowCount)
        var cursor = 0
        return group.map { request in
            let slice = Array(rowAnswers[cursor..<cursor + request.rows.count])
            cursor += request.rows.count
            return (request.index, request.isMultiRow ? .rows(slice) : slice[0], forwardTime)
        }
    }

    // MARK: Stages, one by one (benchmarks/pipeline times each)

    /// Decoding and the batch tensor: the model's input for bodies of one row shape.
    package func inputTensor(_ bodies: [[UInt8]]) throws -> TorchTensor {
        let group = try bodies.enumerated().map { try prepare($1, index: $0) }
        return try batchTensor(group, rowCount: group.reduce(0) { $0 + $1.rows.count })
    }

    /// The postprocess steps over a batch's output: one answer per row.
    package func answers(for output: ModelOutput, rows: Int) throws -> [PipelineAnswer] {
        try Postprocessor(steps: spec.postprocess, labels: labels).run(try selectOutput(output), rows: rows)
    }

    /// One answer's body.
    package static func render(_ answer: PipelineAnswer) -> [UInt8] {
        answer.body()
    }

    /// The model's input: the group's rows stacked along a new first dimension.
    private func batchTensor(_ group: [Prepared], rowCount: Int) throws -> TorchTensor {
        if case .tensor(let dtype, _) = spec.input, dtype == .float32, let floats = Self.floats(of: group) {
            return try TorchTensor(shape: [rowCount] + (group.first?.shapeKey ?? []), floats: floats)
        }
        var images: [TorchTensor] = []
        var reals: [Double] = []
        var integers: [Int64] = []
        for request in group {
            switch request.rows {
            case .images(let tensors): images += tensors
            case .values(.reals(let rows)): for row in rows { reals += row }
            case .values(.integers(let rows)): for row in rows { integers += row }
            case .floats(let values, _): reals += values.map(Double.init)
            }
        }
        if case .tensor(let dtype, _) = spec.input {
            let rowShape = group.first?.shapeKey ?? []
            let torchType = TorchBackend.DType(rawValue: dtype.rawValue) ?? .float32
            return try TorchTensor(Self.tensor(torchType, shape: [rowCount] + rowShape, reals: reals, integers: integers))
        }
        return try ImagePreprocessor(steps: spec.preprocess, decoder: decoder).batch(images)
    }

    /// A float32 group's rows as one buffer: a lone request's own, or all of them joined (rows read
    /// the slow way are rounded to Float as before). Nil when a request's rows are not real numbers.
    private static func floats(of group: [Prepared]) -> [Float]? {
        if group.count == 1, case .floats(let values, _) = group[0].rows { return values }
        var joined: [Float] = []
        for request in group {
            switch request.rows {
            case .floats(let values, _): joined += values
            case .values(.reals(let rows)): for row in rows { joined += row.map { Float($0) } }
            default: return nil
            }
        }
        return joined
    }

    private func selectOutput(_ output: ModelOutput) throws -> TorchTensor {
        let selected: ModelOutput?
        switch spec.modelOutput {
        case .key(let key)?: selected = output[key]
        case .index(let index)?: selected = output[index]
        case nil:
            if case .list = output { selected = output[0] } else { selected = output }
        }
        guard let tensor = selected?.tensor else {
            throw ServerError(.predictionFailed,
                "The model output has no tensor at \(spec.modelOutput.map { "\($0)" } ?? "the top level")")
        }
        return tensor
    }

    private func prepare(_ body: [UInt8], index: Int) throws -> Prepared {
        switch spec.input {
        case .image:
            let preprocessor = ImagePreprocessor(steps: spec.preprocess, decoder: decoder)
            let image = try preprocessor.perImage(try preprocessor.decode(body))
            return Prepared(index: index, rows: .images([image]), isMultiRow: false, shapeKey: try image.info().shape)
        case .tensor(let dtype, let shape):
            let torchType = TorchBackend.DType(rawValue: dtype.rawValue) ?? .float32
            if torchType == .float32, let fast = JSONFloatTensor.parse(body),
                let rows = JSONTensor.rows(ofShape: fast.shape, declaredShape: shape, instances: fast.isInstances)
            {
                return Prepared(
                    index: index, rows: .floats(fast.values, count: rows.count), isMultiRow: rows.isMultiRow,
                    shapeKey: rows.rowShape)
            }
            let decoded = try JSONTensor.decode(
                body, declaredShape: shape, dtypeName: dtype.rawValue,
                integral: ![.float32, .float64].contains(torchType), boolean: torchType == .bool)
            return Prepared(index: index, rows: .values(decoded.rows), isMultiRow: decoded.isMultiRow, shapeKey: decoded.rowShape)
        }
    }

    /// JSONTensor checked each value against the dtype's range; the clamps never change a value.
    private static func tensor(_ dtype: TorchBackend.DType, shape: [Int], reals: [Double], integers: [Int64]) throws
        -> Tensor
    {
        switch dtype {
        case .float32: try Tensor(shape: shape, floats: reals.map { Float($0) })
        case .float64: try Tensor(shape: shape, doubles: reals)
        case .int64: try Tensor(shape: shape, int64s: integers)
        case .int32: try Tensor(shape: shape, int32s: integers.map { Int32(clamping: $0) })
        case .uint8: try Tensor(shape: shape, uint8s: integers.map { UInt8(clamping: $0) })
        case .bool: try Tensor(shape: shape, bools: integers.map { $0 != 0 })
        }
    }
}
