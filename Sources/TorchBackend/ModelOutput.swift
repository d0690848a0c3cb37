import CTorchShim

/// What a TorchScript model returned: a tensor, a tuple or list, or a string-keyed dict.
/// Numbers and booleans come back as 0-dimensional tensors.
public enum ModelOutput {
    case tensor(TorchTensor)
    case list([ModelOutput])
    case dict([(key: String, value: ModelOutput)])
    case none

    /// Takes ownership of a shim value and converts it, freeing the shim value.
    init(consuming value: OpaquePointer) throws(TorchError) {
        defer { CTorchShim_ValueFree(value) }
        switch CTorchShim_ValueGetKind(value) {
        case CTORCHSHIM_VALUE_TENSOR:
            self = .tensor(try TorchTensor.make { CTorchShim_ValueGetTensor(value, $0) })
        case CTORCHSHIM_VALUE_LIST:
            var elements: [ModelOutput] = []
            for index in 0..<CTorchShim_ValueCount(value) {
                elements.append(try ModelOutput(consuming: try Self.element(of: value, at: index)))
            }
            self = .list(elements)
        case CTORCHSHIM_VALUE_DICT:
            var entries: [(key: String, value: ModelOutput)] = []
            for index in 0..<CTorchShim_ValueCount(value) {
                var key: UnsafePointer<CChar>?
                try TorchError.check(CTorchShim_ValueGetKey(value, index, &key))
                let name = key.map { String(cString: $0) } ?? ""
                entries.append((name, try ModelOutput(consuming: try Self.element(of: value, at: index))))
            }
            self = .dict(entries)
        default:
            self = .none
        }
    }

    private static func element(of value: OpaquePointer, at index: Int) throws(TorchError) -> OpaquePointer {
        var out: OpaquePointer?
        try TorchError.check(CTorchShim_ValueGetElement(value, index, &out))
        guard let out else { throw TorchError(code: .unknown, message: "libtorch returned no element") }
        return out
    }

    /// The tensor, when the output is one.
    public var tensor: TorchTensor? {
        if case .tensor(let tensor) = self { return tensor }
        return nil
    }

    /// Entry `key` of a dict output.
    public subscript(key: String) -> ModelOutput? {
        guard case .dict(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// Element `index` of a tuple or list output.
    public subscript(index: Int) -> ModelOutput? {
        guard case .list(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
