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
                let requested = ModelSettings.Requested(
                    batchSize: version.batchSize, maxBatchDelay: version.maxBatchDelay,
                    initialWorkers: version.minWorkers > 0 ? version.minWorkers : nil,
                    responseTimeout: version.responseTimeout, startupTimeout: version.startupTimeout)
                _ = try await registry.register(
                    .init(
                        url: version.marName, modelName: version.modelName, requested: requested, synchronous: true,
                        atStartup: version.minWorkers > 0))
                // The archive's configuration may ask for other workers than the snapshot recorded.
                _ = try await registry.scale(
                    name: version.modelName, version: version.version, min: version.minWorkers,
                    max: version.maxWorkers, synchronous: true)
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
