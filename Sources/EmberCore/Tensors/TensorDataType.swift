/// The element types of the Open Inference Protocol (KServe v2, Triton), by their wire names.
public enum TensorDataType: String, Sendable, CaseIterable, Equatable {
    case bool = "BOOL"
    case uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", fp32 = "FP32", fp64 = "FP64", bf16 = "BF16"
    /// Byte strings: on the wire each element is a 4-byte little-endian length, then its bytes.
    case bytes = "BYTES"

    /// Bytes per element; nil for BYTES, whose elements have their own lengths.
    public var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .fp16, .bf16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .bytes: nil
        }
    }

    /// Triton's model-configuration name (`TYPE_FP32`, `TYPE_STRING` for BYTES).
    public var configName: String {
        self == .bytes ? "TYPE_STRING" : "TYPE_" + rawValue
    }
}
