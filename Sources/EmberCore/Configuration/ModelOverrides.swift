/// Per-model settings from the `models` JSON of `config.properties`; integers ≤ 0 are ignored, as in
/// TorchServe.
public struct ModelOverrides: Sendable, Equatable {
    public var defaultVersion: Bool?
    public var marName: String?
    public var minWorkers: Int?
    public var maxWorkers: Int?
    public var batchSize: Int?
    public var maxBatchDelay: Int?
    public var responseTimeout: Int?
    public var startupTimeout: Int?

    public init() {}

    static func parseModelsJSON(_ text: String) throws -> [String: [String: ModelOverrides]] {
        guard !text.isEmpty else { return [:] }
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            throw ConfigurationError("models is not valid JSON: \(error)")
        }
        guard case .object(let models) = document else { throw ConfigurationError("models must be a JSON object") }
        var result: [String: [String: ModelOverrides]] = [:]
        for (name, versionsValue) in models {
            guard case .object(let versions) = versionsValue else {
                throw ConfigurationError("models.\(name) must map versions to settings")
            }
            for (version, settingsValue) in versions {
                guard case .object = settingsValue else {
                    throw ConfigurationError("models.\(name).\(version) must be an object")
                }
                var overrides = ModelOverrides()
                func positive(_ key: String) -> Int? {
                    switch settingsValue[key] {
                    case .int(let value)?: value > 0 ? value : nil
                    case .string(let text)?: Int(text).flatMap { $0 > 0 ? $0 : nil }
                    default: nil
                    }
                }
                if case .bool(let flag)? = settingsValue["defaultVersion"] { overrides.defaultVersion = flag }
                if case .string(let mar)? = settingsValue["marName"] { overrides.marName = mar }
                overrides.minWorkers = positive("minWorkers")
                overrides.maxWorkers = positive("maxWorkers")
                overrides.batchSize = positive("batchSize")
                overrides.maxBatchDelay = positive("maxBatchDelay")
                overrides.responseTimeout = positive("responseTimeout")
                overrides.startupTimeout = positive("startupTimeout")
                result[name, default: [:]][version] = overrides
            }
        }
        return result
    }
}
