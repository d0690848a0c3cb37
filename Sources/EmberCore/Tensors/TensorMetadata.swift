/// A tensor a model takes or returns: name, element type and shape, `-1` where any size goes (the
/// batch dimension first).
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var datatype: TensorDataType
    public var shape: [Int]

    public init(name: String, datatype: TensorDataType, shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// What a loaded model version says about its tensors: from its handler spec, its `forward` schema and
/// the warm-up forward made at load.
public struct TensorMetadata: Sendable, Equatable {
    /// Triton's platform name for the model's format.
    public var platform: String
    public var inputs: [TensorSpec]
    public var outputs: [TensorSpec]
    /// How long the warm-up forward took; nil when the model could not be warmed up (dims are then -1).
    public var warmUpTime: Duration?

    public init(platform: String = "pytorch_libtorch", inputs: [TensorSpec], outputs: [TensorSpec], warmUpTime: Duration?) {
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
        self.warmUpTime = warmUpTime
    }
}

extension LoadedModel {
    /// Models that do not describe their tensors (fakes, other backends) have none.
    public var tensorMetadata: TensorMetadata? { nil }
}
