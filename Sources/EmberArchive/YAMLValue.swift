import Yams

/// A YAML document as plain data: what `model-config.yaml` or a handler spec contains, with no types
/// instantiated from tags.
public enum YAMLValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([YAMLValue])
    case mapping([String: YAMLValue])

    /// The value under `key` when this is a mapping.
    public subscript(key: String) -> YAMLValue? {
        if case .mapping(let entries) = self { return entries[key] }
        return nil
    }

    /// The element at `index` when this is an array and the index is in range.
    public subscript(index: Int) -> YAMLValue? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, for ints and doubles alike.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var arrayValue: [YAMLValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var mappingValue: [String: YAMLValue]? {
        if case .mapping(let value) = self { return value }
        return nil
    }

    /// A short name for the kind of value, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "string"
        case .array: return "list"
        case .mapping: return "mapping"
        }
    }

    /// Parses a YAML document. An empty document is `.null`.
    ///
    /// - Parameter fileName: names the file in the error when the text is not YAML.
    /// - Throws: ``ArchiveError`` of kind `invalidYAML`.
    public static func parse(_ text: String, fileName: String) throws -> YAMLValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ArchiveError.invalidYAML(file: fileName, reason: "\(error)")
        }
        guard let node else { return .null }
        return try YAMLValue(node: node, fileName: fileName)
    }

    private init(node: Node, fileName: String) throws {
        switch node {
        case .scalar(let scalar):
            self = YAMLValue(scalar: scalar, tag: Tag.Name(rawValue: node.tag.rawValue))
        case .sequence(let sequence):
            self = .array(try sequence.map { try YAMLValue(node: $0, fileName: fileName) })
        case .mapping(let mapping):
            var entries: [String: YAMLValue] = [:]
            for (key, value) in mapping {
                let keyText = key.scalar?.string ?? "\(key)"
                guard entries[keyText] == nil else {
                    throw ArchiveError.invalidYAML(file: fileName, reason: "duplicate key '\(keyText)'")
                }
                entries[keyText] = try YAMLValue(node: value, fileName: fileName)
            }
            self = .mapping(entries)
        case .alias:
            throw ArchiveError.invalidYAML(file: fileName, reason: "unresolved alias")
        }
    }

    private init(scalar: Node.Scalar, tag: Tag.Name) {
        switch tag {
        case .null:
            self = .null
        case .bool:
            self = Bool.construct(from: scalar).map(YAMLValue.bool) ?? .string(scalar.string)
        case .int:
            self = Int.construct(from: scalar).map(YAMLValue.int) ?? .string(scalar.string)
        case .float:
            self = Double.construct(from: scalar).map(YAMLValue.double) ?? .string(scalar.string)
        default:
            // Strings, and every other tag (timestamps, custom `!!python/...` tags): kept as their text.
            self = .string(scalar.string)
        }
    }
}
