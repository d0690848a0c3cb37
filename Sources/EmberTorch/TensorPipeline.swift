import EmberArchive
import EmberCore
import Foundation
import ImageCodec
import Logging
import TorchBackend

/// The tensor path of a model version (Open Inference Protocol requests): the request's tensors go to
/// the model without body decoding, and its answer is the model's output tensors. An image model also
/// takes its input as BYTES, each element an encoded JPEG/PNG that goes through the image pipeline.
///
/// Requests whose input has one type and row shape share one forward: their rows are concatenated
/// along the batch dimension and the outputs split back by rows. Runs on a worker's thread.
final class TensorPipeline: Sendable {
    let module: TorchModule
    let spec: HandlerSpec
    let labels: LabelMap?
    let decoder: ImageDecoder
    let metadata: TensorMetadata
    let modelName: String
    let logger: Logger

    init(
        module: TorchModule, spec: HandlerSpec, labels: LabelMap?, decoder: ImageDecoder, metadata: TensorMetadata,
        modelName: String, logger: Logger
    ) {
        self.module = module
        self.spec = spec
        self.labels = labels
        self.decoder = decoder
        self.metadata = metadata
        self.modelName = modelName
        self.logger = logger
    }

    typealias Answer = (tensors: [NamedTensor], forwardTime: Duration)

    /// A request after checking: its rows as raw bytes of one type, or as preprocessed images.
    private struct Prepared {
        var index: Int
        var request: TensorRequest
        var rows: Int
        var input: Input
        var groupKey: String
    }

    private enum Input {
        case raw(dtype: TorchBackend.DType, rowShape: [Int], data: [UInt8])
        case images([TorchTensor])
    }

    func run(_ requests: [TensorRequest]) -> [Result<Answer, ServerError>] {
        var results = [Result<Answer, ServerError>](repeating: .failure(.predictionFailed), count: requests.count)
        var groups: [String: [Prepared]] = [:]
        var order: [String] = []
        for (index, request) in requests.enumerated() {
            do {
                let prepared = try prepare(request, index: index)
                if groups[prepared.groupKey] == nil { order.append(prepared.groupKey) }
                groups[prepared.groupKey, default: []].append(prepared)
            } catch let failure as ServerError {
                results[index] = .failure(failure)
            } catch {
                results[index] = .failure(.badRequest("Input cannot be prepared for model \(modelName): \(error)"))
            }
        }
        for key in order {
            for (index, result) in runIsolatingFailures(groups[key] ?? []) { results[index] = result }
        }
        return results
    }

    // MARK: Checking a request

    private var declaredInput: TensorSpec? { metadata.inputs.first }

    /// Image models also take BYTES of encoded images (checked here, not through the image pipeline's types).
    private var isImageModel: Bool {
        if case .image = spec.input { return true }
        return false
    }

    /// A tensor spec without a shape takes any shape.
    private var acceptsAnyRank: Bool {
        if case .tensor(_, nil) = spec.input { return true }
        return false
    }

    private func prepare(_ request: TensorRequest, index: Int) throws -> Prepared {
        guard let declared = declaredInput else { throw ServerError.badRequest("Model \(modelName) declares no input.") }
        guard request.inputs.count == 1, let input = request.inputs.first else {
            throw ServerError.badRequest(
                "Model \(modelName) takes 1 input (\(declared.name)); the request has \(request.inputs.count): "
                    + request.inputs.map(\.name).joined(separator: ", "))
        }
        guard input.name == declared.name else {
            throw ServerError.badRequest(
                "Unknown input '\(input.name)' for model \(modelName); its input is '\(declared.name)'.")
        }
        try checkOutputNames(request.outputs)
        if input.datatype == .bytes, isImageModel {
            return try prepareImages(input, request: request, index: index)
        }
        guard input.datatype == declared.datatype, let dtype = input.datatype.torch else {
            let alternative = isImageModel ? " (or BYTES of encoded images)" : ""
            throw ServerError.badRequest(
                "Input '\(input.name)' of model \(modelName) takes datatype \(declared.datatype.rawValue)\(alternative), got \(input.datatype.rawValue).")
        }
        guard input.shape.count == declared.shape.count || acceptsAnyRank && !input.shape.isEmpty,
            zip(input.shape, declared.shape).allSatisfy({ $1 < 0 || $0 == $1 }),
            let rows = input.shape.first, rows > 0
        else {
            throw ServerError.badRequest(
                "Input '\(input.name)' of model \(modelName) takes shape \(declared.shape) (-1: any size, at least one row), got \(input.shape).")
        }
        let rowShape = Array(input.shape.dropFirst())
        return Prepared(
            index: index, request: request, rows: rows, input: .raw(dtype: dtype, rowShape: rowShape, data: input.data),
            groupKey: "\(dtype)\(rowShape)")
    }

    private func prepareImages(_ input: NamedTensor, request: TensorRequest, index: Int) throws -> Prepared {
        guard let rows = input.shape.first, rows > 0, input.shape.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw ServerError.badRequest(
                "Input '\(input.name)' of model \(modelName) as BYTES takes shape [N] or [N, 1], one encoded image per row; got \(input.shape).")
        }
        let preprocessor = ImagePreprocessor(steps: spec.preprocess, decoder: decoder)
        var images: [TorchTensor] = []
        for element in try NamedTensor.byteElements(input.data, name: input.name) {
            images.append(try preprocessor.perImage(try preprocessor.decode(Array(element))))
        }
        let shape = try images.first?.info().shape ?? []
        return Prepared(index: index, request: request, rows: rows, input: .images(images), groupKey: "image\(shape)")
    }

    private func checkOutputNames(_ outputs: [RequestedOutput]) throws {
        let known = metadata.outputs.map(\.name)
        guard !known.isEmpty else { return }  // undescribed: checked against the real outputs after the forward
        for output in outputs where !known.contains(output.name) {
            throw ServerError.badRequest(
                "Unknown output '\(output.name)' for model \(modelName); its outputs are: \(known.joined(separator: ", ")).")
        }
    }

    // MARK: Running

    private func runIsolatingFailures(_ group: [Prepared]) -> [(Int, Result<Answer, ServerError>)] {
        guard !group.isEmpty else { return [] }
        do {
            return try forward(group).map { ($0.0, .success($0.1)) }
        } catch {
            guard group.count > 1 else {
                let failure = Self.failure(for: error)
                logger.warning("inference failed", metadata: ["error": "\(error)", "error.code": "\(failure.code)"])
                return [(group[0].index, .failure(failure))]
            }
            return group.flatMap { runIsolatingFailures([$0]) }
        }
    }

    private static func failure(for error: any Error) -> ServerError {
        if let failure = error as? ServerError { return failure }
        if let torch = error as? TorchError {
            if torch.code == .outOfMemory { return .outOfResources }
            return ServerError(.predictionFailed, "The model failed on the input: \(torch.message)")
        }
        return .predictionFailed
    }

    private func forward(_ group: [Prepared]) throws -> [(Int, Answer)] {
        let totalRows = group.reduce(0) { $0 + $1.rows }
        let input = try batchInput(group, totalRows: totalRows)
        let started = ContinuousClock.now
        let output = try module.forward([input])
        let forwardTime = ContinuousClock.now - started
        var outputs: [(name: String, value: Tensor)] = []
        for (name, tensor) in output.namedTensors() { outputs.append((name, try tensor.value())) }
        var answers: [(Int, Answer)] = []
        var firstRow = 0
        for request in group {
            var tensors: [NamedTensor] = []
            for (name, value) in outputs {
                let slice =
                    group.count == 1 ? value : try Self.rows(of: value, from: firstRow, count: request.rows, total: totalRows)
                tensors.append(try NamedTensor(name: name, slice))
            }
            answers.append((request.index, (try select(tensors, for: request.request), forwardTime)))
            firstRow += request.rows
        }
        return answers
    }

    private func batchInput(_ group: [Prepared], totalRows: Int) throws -> TorchTensor {
        switch group[0].input {
        case .raw(let dtype, let rowShape, _):
            var data: [UInt8] = []
            for request in group { if case .raw(_, _, let bytes) = request.input { data += bytes } }
            return try TorchTensor(Tensor(dtype: dtype, shape: [totalRows] + rowShape, storage: data))
        case .images:
            var images: [TorchTensor] = []
            for request in group { if case .images(let tensors) = request.input { images += tensors } }
            return try ImagePreprocessor(steps: spec.preprocess, decoder: decoder).batch(images)
        }
    }

    /// Rows `from..<from+count` of a batched output whose first dimension is `total`.
    private static func rows(of tensor: Tensor, from: Int, count: Int, total: Int) throws -> Tensor {
        guard let first = tensor.shape.first, first == total, total > 0 else {
            throw ServerError(.predictionFailed, "The model's output \(tensor.shape) does not have one row per input row.")
        }
        let rowBytes = tensor.storage.count / total
        let slice = Array(tensor.storage[(from * rowBytes)..<((from + count) * rowBytes)])
        return try Tensor(dtype: tensor.dtype, shape: [count] + tensor.shape.dropFirst(), storage: slice)
    }

    /// The requested outputs in order (all when none are named), classification applied.
    private func select(_ tensors: [NamedTensor], for request: TensorRequest) throws -> [NamedTensor] {
        guard !request.outputs.isEmpty else { return tensors }
        return try request.outputs.map { wanted in
            guard let tensor = tensors.first(where: { $0.name == wanted.name }) else {
                throw ServerError.badRequest(
                    "Unknown output '\(wanted.name)' for model \(modelName); its outputs are: \(tensors.map(\.name).joined(separator: ", ")).")
            }
            guard let k = wanted.classification else { return tensor }
            return try TensorClassification(labels: labels).classify(tensor, top: k)
        }
    }
}
