import Foundation

/// `MAR-INF/MANIFEST.json` in TorchServe's schema.
///
/// Decoding ignores keys Ember does not use (`modelServerVersion`, `implementationVersion`, ...);
/// ``jsonData()`` writes the keys in the order torch-model-archiver writes them.
public struct Manifest: Codable, Sendable, Equatable {
    /// The `model` section.
    public struct Model: Codable, Sendable, Equatable {
        public var modelName: String
        public var serializedFile: String?
        public var handler: String
        public var modelFile: String?
        public var modelVersion: String
        public var requirementsFile: String?
        public var configFile: String?
        public var extensions: String?
        public var description: String?

        public init(
            modelName: String, serializedFile: String? = nil, handler: String, modelFile: String? = nil,
            modelVersion: String, requirementsFile: String? = nil, configFile: String? = nil,
            extensions: String? = nil, description: String? = nil
        ) {
            self.modelName = modelName
            self.serializedFile = serializedFile
            self.handler = handler
            self.modelFile = modelFile
            self.modelVersion = modelVersion
            self.requirementsFile = requirementsFile
            self.configFile = configFile
            self.extensions = extensions
            self.description = description
        }

        private enum CodingKeys: String, CodingKey {
            case modelName, serializedFile, handler, modelFile, modelVersion, version, requirementsFile, configFile
            case extensions, description
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            modelName = try container.decode(String.self, forKey: .modelName)
            serializedFile = try container.decodeIfPresent(String.self, forKey: .serializedFile)
            handler = try container.decode(String.self, forKey: .handler)
            modelFile = try container.decodeIfPresent(String.self, forKey: .modelFile)
            // Old archives say `version`; TorchServe's default is 1.0.
            modelVersion =
                try container.decodeIfPresent(String.self, forKey: .modelVersion)
                ?? container.decodeIfPresent(String.self, forKey: .version) ?? "1.0"
            requirementsFile = try container.decodeIfPresent(String.self, forKey: .requirementsFile)
            configFile = try container.decodeIfPresent(String.self, forKey: .configFile)
            extensions = try container.decodeIfPresent(String.self, forKey: .extensions)
            description = try container.decodeIfPresent(String.self, forKey: .description)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(modelName, forKey: .modelName)
            try container.encodeIfPresent(serializedFile, forKey: .serializedFile)
            try container.encode(handler, forKey: .handler)
            try container.encodeIfPresent(modelFile, forKey: .modelFile)
            try container.encode(modelVersion, forKey: .modelVersion)
            try container.encodeIfPresent(requirementsFile, forKey: .requirementsFile)
            try container.encodeIfPresent(configFile, forKey: .configFile)
            try container.encodeIfPresent(extensions, forKey: .extensions)
            try container.encodeIfPresent(description, forKey: .description)
        }
    }

    /// `dd/MM/yyyy HH:mm:ss`, local time. Missing in some hand-made archives.
    public var createdOn: String?
    /// `python`, `python3` or `LSP`.
    public var runtime: String
    public var model: Model
    /// Missing in some hand-made archives.
    public var archiverVersion: String?
    public var description: String?

    public init(
        createdOn: String? = Manifest.timestamp(), runtime: String = ArchiveRuntime.python.rawValue, model: Model,
        archiverVersion: String? = Manifest.archiverVersion, description: String? = nil
    ) {
        self.createdOn = createdOn
        self.runtime = runtime
        self.model = model
        self.archiverVersion = archiverVersion
        self.description = description
    }

    private enum CodingKeys: String, CodingKey {
        case createdOn, runtime, model, archiverVersion, description
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        createdOn = try container.decodeIfPresent(String.self, forKey: .createdOn)
        runtime = try container.decodeIfPresent(String.self, forKey: .runtime) ?? ArchiveRuntime.python.rawValue
        model = try container.decode(Model.self, forKey: .model)
        archiverVersion = try container.decodeIfPresent(String.self, forKey: .archiverVersion)
        description = try container.decodeIfPresent(String.self, forKey: .description)
    }

    /// The `archiverVersion` Ember writes: the torch-model-archiver release whose output it mirrors.
    public static let archiverVersion = "0.12.0"

    /// Decodes a manifest from `MANIFEST.json` bytes.
    public static func decode(_ data: Data) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: data)
    }

    /// `createdOn` for `date` as torch-model-archiver formats it: `%d/%m/%Y %H:%M:%S`, local time.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "dd/MM/yyyy HH:mm:ss"
        return formatter.string(from: date)
    }

    /// The manifest as torch-model-archiver writes it (Python's `json.dumps(indent=2)`):
    /// its key order, 2-space indentation, optional keys omitted, non-ASCII escaped.
    public func jsonData() -> Data {
        var top: [(String, JSONText)] = []
        if let createdOn { top.append(("createdOn", .string(createdOn))) }
        if let description { top.append(("description", .string(description))) }
        top.append(("runtime", .string(runtime)))
        var modelFields: [(String, JSONText)] = [("modelName", .string(model.modelName))]
        if let value = model.serializedFile { modelFields.append(("serializedFile", .string(value))) }
        modelFields.append(("handler", .string(model.handler)))
        if let value = model.modelFile { modelFields.append(("modelFile", .string(value))) }
        modelFields.append(("modelVersion", .string(model.modelVersion)))
        if let value = model.requirementsFile { modelFields.append(("requirementsFile", .string(value))) }
        if let value = model.configFile { modelFields.append(("configFile", .string(value))) }
        if let value = model.extensions { modelFields.append(("extensions", .string(value))) }
        if let value = model.description { modelFields.append(("description", .string(value))) }
        top.append(("model", .object(modelFields)))
        if let archiverVersion { top.append(("archiverVersion", .string(archiverVersion))) }
        return Data(JSONText.object(top).rendered(indent: 0).utf8)
    }
}

/// Just enough JSON to write a manifest with a fixed key order.
private indirect enum JSONText {
    case string(String)
    case object([(String, JSONText)])

    func rendered(indent: Int) -> String {
        switch self {
        case .string(let text):
            return Self.quoted(text)
        case .object(let fields):
            guard !fields.isEmpty else { return "{}" }
            let inner = String(repeating: " ", count: indent + 2)
            let lines = fields.map { inner + Self.quoted($0.0) + ": " + $0.1.rendered(indent: indent + 2) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "}"
        }
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: result += "\\\""
            case 0x5C: result += "\\\\"
            case 0x0A: result += "\\n"
            case 0x0D: result += "\\r"
            case 0x09: result += "\\t"
            case 0x08: result += "\\b"
            case 0x0C: result += "\\f"
            case 0x20..<0x7F: result.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: result += String(format: "\\u%04x", unit)
            }
        }
        return result + "\""
    }
}
