/// The registered models as TorchServe's `model_snapshot` property records them (contract §5.4):
/// `{"name", "modelCount", "created", "models": {name: {version: {defaultVersion, marName, …}}}}`.
public struct ModelSnapshot: Sendable, Equatable {
    public struct Version: Sendable, Equatable {
        public var modelName: String
        public var version: String
        public var isDefault: Bool
        /// The URL the version was registered from (an archive in the model store).
        public var marName: String
        /// Workers, batch settings and timeouts as recorded (queue size and threads are not recorded:
        /// they come from the archive and the server again).
        public var settings: ModelSettings

        public init(modelName: String, version: String, isDefault: Bool, marName: String, settings: ModelSettings) {
            self.modelName = modelName
            self.version = version
            self.isDefault = isDefault
            self.marName = marName
            self.settings = settings
        }
    }

    /// Sorted by model name, then version.
    public var versions: [Version]

    public init(versions: [Version]) {
        self.versions = versions.sorted { ($0.modelName, $0.version) < ($1.modelName, $1.version) }
    }

    public func json(name: String, createdMilliseconds: Int) -> JSONValue {
        var models: [(String, JSONValue)] = []
        for version in versions {
            let settings = version.settings
            let entry: JSONValue = [
                "defaultVersion": .bool(version.isDefault), "marName": .string(version.marName),
                "minWorkers": .int(settings.minWorkers), "maxWorkers": .int(settings.maxWorkers),
                "batchSize": .int(settings.batchSize), "maxBatchDelay": .int(settings.maxBatchDelay.wholeMilliseconds),
                "responseTimeout": .int(settings.responseTimeout.wholeSeconds),
                "startupTimeout": .int(settings.startupTimeout.wholeSeconds),
                "runtimeType": "python",
            ]
            if let index = models.firstIndex(where: { $0.0 == version.modelName }), case .object(var pairs) = models[index].1 {
                pairs.append((version.version, entry))
                models[index].1 = .object(pairs)
            } else {
                models.append((version.modelName, .object([(version.version, entry)])))
            }
        }
        return [
            "name": .string(name), "modelCount": .int(models.count), "created": .int(createdMilliseconds),
            "models": .object(models),
        ]
    }

    /// Reads a `model_snapshot` value; a missing or malformed field makes the whole snapshot unusable.
    public static func parse(_ text: String) throws -> ModelSnapshot {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            throw ConfigurationError("model_snapshot is not valid JSON: \(error)")
        }
        guard case .object(let models)? = document["models"] else {
            throw ConfigurationError("model_snapshot has no models object")
        }
        var versions: [Version] = []
        for (name, versionsValue) in models {
            guard case .object(let entries) = versionsValue else {
                throw ConfigurationError("model_snapshot.models.\(name) is not an object")
            }
            for (version, entry) in entries {
                func integer(_ key: String) throws -> Int {
                    guard case .int(let value)? = entry[key] else {
                        throw ConfigurationError("model_snapshot.models.\(name).\(version).\(key) is missing")
                    }
                    return value
                }
                guard case .string(let mar)? = entry["marName"] else {
                    throw ConfigurationError("model_snapshot.models.\(name).\(version).marName is missing")
                }
                let settings = ModelSettings(
                    minWorkers: try integer("minWorkers"), maxWorkers: try integer("maxWorkers"),
                    batchSize: try integer("batchSize"), maxBatchDelay: .milliseconds(try integer("maxBatchDelay")),
                    responseTimeout: .seconds(try integer("responseTimeout")),
                    // Optional: KServe's TorchServe config.properties samples leave it out (TorchServe's default 120 s).
                    startupTimeout: .seconds(entry["startupTimeout"] == nil ? 120 : try integer("startupTimeout")))
                versions.append(
                    Version(
                        modelName: name, version: version, isDefault: entry["defaultVersion"] == .bool(true), marName: mar,
                        settings: settings))
            }
        }
        if case .int(let count)? = document["modelCount"], count != models.count {
            throw ConfigurationError("model_snapshot modelCount \(count) does not match its \(models.count) models")
        }
        return ModelSnapshot(versions: versions)
    }
}
