import EmberArchive
import EmberCore
import Logging
import TorchBackend

/// Describes a model's tensors at load, for the Open Inference Protocol's metadata: input names from
/// `forward`'s schema, the input's type and shape from the handler spec, and the outputs from a
/// warm-up forward on zeros of the declared shape (batch 1), which also proves the model runs before
/// the version reports ready. A model that cannot be warmed up is served with `-1` dims, not refused.
struct TensorModelDescriber {
    let module: TorchModule
    let spec: HandlerSpec
    let logger: Logger

    /// The per-request (batch-less) input the spec declares; nil dims are unknown (-1).
    var declaredInput: (datatype: TensorDataType, rowShape: [Int]?) {
        switch spec.input {
        case .tensor(let dtype, let shape): (TensorDataType(dtype), shape)
        case .image: (.fp32, imageShape)
        }
    }

    /// An image model's input after its geometry steps: 3 × the last crop or exact resize.
    private var imageShape: [Int] {
        for step in spec.preprocess.reversed() {
            switch step {
            case .centerCrop(let height, let width): return [3, height, width]
            case .resize(.exact(let height, let width), _, _): return [3, height, width]
            case .resize(.shorterSide, _, _): return [3, -1, -1]
            default: continue
            }
        }
        return [3, -1, -1]
    }

    func describe() -> TensorMetadata {
        let names = (try? module.forwardArgumentNames()) ?? []
        let (datatype, rowShape) = declaredInput
        let inputName = names.first ?? "input__0"
        let input = TensorSpec(name: inputName, datatype: datatype, shape: [-1] + (rowShape ?? [-1]))
        guard names.count <= 1, let rowShape, rowShape.allSatisfy({ $0 >= 0 }), let dtype = datatype.torch else {
            logger.info("model not warmed up: its input shape is not fully declared", metadata: ["input.shape": "\(input.shape)"])
            return TensorMetadata(inputs: [input], outputs: [], warmUpTime: nil)
        }
        do {
            let started = ContinuousClock.now
            let zeros = try Self.zeros(dtype, shape: [1] + rowShape)
            let output = try module.forward([zeros])
            let warmUp = ContinuousClock.now - started
            var outputs: [TensorSpec] = []
            for (name, tensor) in output.namedTensors() {
                let (type, shape) = try tensor.info()
                let batchless: [Int] = shape.isEmpty ? [] : [-1] + Array(shape.dropFirst())
                outputs.append(TensorSpec(name: name, datatype: TensorDataType(type), shape: batchless))
            }
            logger.info("model warmed up", metadata: ["warmup.seconds": "\(warmUp.seconds)", "outputs": "\(outputs.map(\.name))"])
            return TensorMetadata(inputs: [input], outputs: outputs, warmUpTime: warmUp)
        } catch {
            logger.warning(
                "warm-up forward failed; the model is served with unknown output dims", metadata: ["error": "\(error)"])
            return TensorMetadata(inputs: [input], outputs: [], warmUpTime: nil)
        }
    }

    private static func zeros(_ dtype: TorchBackend.DType, shape: [Int]) throws -> TorchTensor {
        let count = try NamedTensor.elementCount(of: shape, name: "warm-up")
        return try TorchTensor(Tensor(dtype: dtype, shape: shape, storage: [UInt8](repeating: 0, count: count * dtype.byteSize)))
    }
}
