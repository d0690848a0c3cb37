import EmberCore

/// The Open Inference Protocol's element rules, shared by its REST routes and its gRPC service: a
/// datatype's wire name, and elements (JSON values, or gRPC's typed contents brought to them) as the
/// little-endian bytes a ``NamedTensor`` holds, each element range-checked for its type.
public enum OIPTensorElements {
    /// The datatype named `name`, or a 400 listing the known ones.
    public static func datatype(_ name: String, input: String) throws(ServerError) -> TensorDataType {
        guard let datatype = TensorDataType(rawValue: name) else {
            throw .badRequest(
                "Input '\(input)': unknown datatype '\(name)'; one of "
                    + TensorDataType.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return datatype
    }

    /// Elements as `datatype`'s bytes; integers never pass through `Double`.
    public static func bytes(_ elements: [JSONValue], _ datatype: TensorDataType, input: String) throws(ServerError)
        -> [UInt8]
    {
        try OIPTensorCodec.encode(elements, datatype, name: input)
    }
}
