import CTorchShim

/// Element types that cross the shim.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float32, float64, int64, int32, uint8, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .uint8, .bool: 1
        }
    }

    var shimValue: CTorchShim_DType {
        switch self {
        case .float32: CTORCHSHIM_FLOAT32
        case .float64: CTORCHSHIM_FLOAT64
        case .int64: CTORCHSHIM_INT64
        case .int32: CTORCHSHIM_INT32
        case .uint8: CTORCHSHIM_UINT8
        case .bool: CTORCHSHIM_BOOL
        }
    }

    init?(shimValue: CTorchShim_DType) {
        guard let match = DType.allCases.first(where: { $0.shimValue == shimValue }) else { return nil }
        self = match
    }
}
