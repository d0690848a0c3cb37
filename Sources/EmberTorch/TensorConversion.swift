import EmberArchive
import EmberCore
import TorchBackend

/// Element types between the Open Inference Protocol and libtorch. Only the types the shim carries
/// map; a request in another type is refused with the type the model takes.
extension TensorDataType {
    init(_ dtype: TorchBackend.DType) {
        switch dtype {
        case .float32: self = .fp32
        case .float64: self = .fp64
        case .int64: self = .int64
        case .int32: self = .int32
        case .uint8: self = .uint8
        case .bool: self = .bool
        }
    }

    init(_ dtype: EmberArchive.DType) {
        self.init(TorchBackend.DType(rawValue: dtype.rawValue) ?? .float32)
    }

    var torch: TorchBackend.DType? {
        switch self {
        case .fp32: .float32
        case .fp64: .float64
        case .int64: .int64
        case .int32: .int32
        case .uint8: .uint8
        case .bool: .bool
        default: nil
        }
    }
}

extension NamedTensor {
    /// A copied-out libtorch tensor under a name. The storage is the host's byte order, little-endian
    /// on every platform Ember builds for, which is the protocol's.
    init(name: String, _ tensor: Tensor) throws(ServerError) {
        try self.init(name: name, datatype: TensorDataType(tensor.dtype), shape: tensor.shape, data: tensor.storage)
    }
}

extension ModelOutput {
    /// The output's tensors by name: one tensor is `output__0`, a tuple or list `output__<i>`, a dict its
    /// keys (Triton's libtorch naming). Nested containers and non-tensor entries are left out.
    func namedTensors() -> [(name: String, tensor: TorchTensor)] {
        switch self {
        case .tensor(let tensor): return [("output__0", tensor)]
        case .list(let elements):
            return elements.enumerated().compactMap { index, element in element.tensor.map { ("output__\(index)", $0) } }
        case .dict(let entries):
            return entries.compactMap { entry in entry.value.tensor.map { (entry.key, $0) } }
        case .none: return []
        }
    }
}
