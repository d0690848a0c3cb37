import EmberCore
import Logging

/// Registers a snapshot's models with their recorded workers and settings, then their default versions
/// (contract §5.4). A version that fails is logged and skipped; the others still serve.
struct SnapshotRestore {
    let models: ModelSnapshot
    let registry: ModelRegistry
    let logger: Logger

    func registerAll() async {
        for version in models.versions {
            do {
                let recorded = version.settings
                var registration = ModelSettings.Partial(
                    batchSize: recorded.batchSize, maxBatchDelay: recorded.maxBatchDelay,
                    responseTimeout: recorded.responseTimeout, startupTimeout: recorded.startupTimeout)
                if recorded.minWorkers > 0 {
                    registration.minWorkers = recorded.minWorkers
                    registration.maxWorkers = recorded.minWorkers
                }
                _ = try await registry.register(
                    .init(
                        url: version.marName, modelName: version.modelName, settings: registration, synchronous: true,
                        atStartup: recorded.minWorkers > 0))
                // The archive's configuration may ask for other workers than the snapshot recorded.
                _ = try await registry.scale(
                    name: version.modelName, version: version.version, min: recorded.minWorkers,
                    max: recorded.maxWorkers, synchronous: true)
                logger.info("Model \"\(version.modelName)\" Version: \(version.version) restored from the snapshot")
            } catch {
                logger.error(
                    "snapshot model failed",
                    metadata: ["model": "\(version.modelName)", "version": "\(version.version)", "error": "\(error)"])
            }
        }
        for version in models.versions where version.isDefault {
            _ = try? await registry.setDefault(name: version.modelName, version: version.version)
        }
    }
}
