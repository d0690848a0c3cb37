/// Per-model settings from the `models` JSON of `config.properties`; integers ≤ 0 are ignored, as in
/// TorchServe.
public struct ModelOverrides: Sendable, Equatable {
    public var defaultVersion: Bool?
    public var marName: String?
    /// Workers (both bounds, `maxWorkers` at least `minWorkers`), batch settings and timeouts.
    public var settings = ModelSettings.Partial()

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
                if let min = positive("minWorkers") {
                    overrides.settings.minWorkers = min
                    overrides.settings.maxWorkers = max(min, positive("maxWorkers") ?? min)
                }
                overrides.settings.batchSize = positive("batchSize")
                overrides.settings.maxBatchDelay = positive("maxBatchDelay").map { .milliseconds($0) }
                overrides.settings.responseTimeout = positive("responseTimeout").map { .seconds($0) }
                overrides.settings.startupTimeout = positive("startupTimeout").map { .seconds($0) }
                result[name, default: [:]][version] = overrides
            }
        }
        return result
    }
}
