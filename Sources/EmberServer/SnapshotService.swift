import EmberCore
import EmberHTTP

/// The model service with a configuration snapshot after every successful change (register, scale,
/// unregister, set-default), written before the answer goes out.
struct SnapshotService: ModelService {
    let base: any ModelService
    let writer: SnapshotWriter

    private func snapshotting(_ response: ServiceResponse) async -> ServiceResponse {
        if (200..<300).contains(response.status) { await writer.write(.snapshot) }
        return response
    }

    func register(_ request: RegisterRequest) async throws -> ServiceResponse {
        await snapshotting(try await base.register(request))
    }

    func scale(model: String, version: String?, minWorkers: Int, maxWorkers: Int, synchronous: Bool) async throws
        -> ServiceResponse
    {
        await snapshotting(
            try await base.scale(
                model: model, version: version, minWorkers: minWorkers, maxWorkers: maxWorkers, synchronous: synchronous))
    }

    func unregister(model: String, version: String?) async throws -> ServiceResponse {
        await snapshotting(try await base.unregister(model: model, version: version))
    }

    func setDefault(model: String, version: String) async throws -> ServiceResponse {
        await snapshotting(try await base.setDefault(model: model, version: version))
    }

    func predict(model: String, version: String?, input: InferenceInput) async throws -> InferenceOutput {
        try await base.predict(model: model, version: version, input: input)
    }

    func admissionRefusal(model: String, version: String?) -> ServerError? {
        base.admissionRefusal(model: model, version: version)
    }

    func describe(model: String, version: DescribeTarget) async throws -> JSONValue {
        try await base.describe(model: model, version: version)
    }

    func list(limit: Int, offset: Int) async -> JSONValue { await base.list(limit: limit, offset: offset) }
    func isHealthy() -> Bool { base.isHealthy() }
    func isReady() async -> Bool { await base.isReady() }
    func isModelReady(_ model: String) async throws -> Bool { try await base.isModelReady(model) }
    func requireModel(_ model: String) async throws { try await base.requireModel(model) }
    func oipModel(model: String, version: String?) async throws -> OIPModel {
        try await base.oipModel(model: model, version: version)
    }
}
