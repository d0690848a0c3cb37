import EmberCore
import EmberHTTP
import Foundation

/// The HTTP listeners' view of the registry and its worker pools.
struct RegistryService: ModelService {
    let registry: ModelRegistry
    let metrics: ServerMetrics
    /// Readiness is false while the server drains (SIGTERM).
    var drain: ServerDrain?

    func predict(model: String, version: String?, input: InferenceInput) async throws -> InferenceOutput {
        let pool = try registry.pool(model, version: version)
        let series = metrics.predictionSeries(model: model, version: version)
        // TorchServe counts a request for an existing model before queueing it.
        series.requests?.increment()
        let result = await pool.submit(input, versionInURL: version != nil)
        var output = try result.get()
        output.modelVersion = pool.modelVersion
        if let queueTime = output.queueTime {
            // TorchServe labels it with the version as the URL gave it, like the other ts_* series.
            series.queueLatency?.increment(by: queueTime.microseconds)
        }
        return output
    }

    func admissionRefusal(model: String, version: String?) -> ServerError? {
        guard let pool = try? registry.pool(model, version: version),
            let refusal = pool.refusal(versionInURL: version != nil)
        else { return nil }
        // Counted as `predict` counts a request it queues and the pool refuses.
        metrics.predictionSeries(model: model, version: version).requests?.increment()
        return refusal
    }

    func register(_ request: RegisterRequest) async throws -> ServiceResponse {
        guard let url = request.url else { throw ServerError.badRequest("Parameter url is required.") }
        if let runtime = request.runtime, !["python", "python3", "LSP"].contains(runtime) {
            throw ServerError.badRequest("Invalid RuntimeType value: \(runtime)")
        }
        let registration = ModelRegistry.Registration(
            url: url, modelName: request.modelName, settings: request.settings, synchronous: request.synchronous)
        return ServiceResponse(try await registry.register(registration))
    }

    func scale(model: String, version: String?, minWorkers: Int, maxWorkers: Int, synchronous: Bool) async throws
        -> ServiceResponse
    {
        ServiceResponse(
            try await registry.scale(name: model, version: version, min: minWorkers, max: maxWorkers, synchronous: synchronous))
    }

    func describe(model: String, version: DescribeTarget) async throws -> JSONValue {
        let target: ModelRegistry.Target =
            switch version {
            case .defaultVersion: .defaultVersion
            case .version(let name): .version(name)
            case .all: .all
            }
        return try await registry.describe(name: model, target: target)
    }

    func list(limit: Int, offset: Int) async -> JSONValue {
        await registry.list(limit: limit, offset: offset)
    }

    func unregister(model: String, version: String?) async throws -> ServiceResponse {
        ServiceResponse(try await registry.unregister(name: model, version: version))
    }

    func setDefault(model: String, version: String) async throws -> ServiceResponse {
        ServiceResponse(try await registry.setDefault(name: model, version: version))
    }

    func isHealthy() -> Bool { registry.isHealthy() }
    func isReady() async -> Bool {
        if drain?.isDraining == true { return false }
        return registry.isReady()
    }
    func isModelReady(_ model: String) async throws -> Bool { try registry.isModelReady(model) }
    func requireModel(_ model: String) async throws { try registry.requireModel(model) }

    func oipModel(model: String, version: String?) async throws -> OIPModel {
        let (resolved, versions) = try await registry.versions(model, resolving: version)
        let pool = try registry.pool(model, version: resolved)
        let range = pool.workerRange
        return OIPModel(
            name: model, version: resolved, versions: versions,
            ready: pool.readyWorkerCount >= Swift.max(1, range.min), metadata: pool.tensorMetadata,
            batchSize: pool.settings.batchSize, maxBatchDelay: pool.settings.maxBatchDelay, workers: range.max,
            statistics: pool.statistics.snapshot)
    }
}
