import EmberCore

/// One model version as the Open Inference Protocol routes see it: its tensors, batching, workers and
/// statistics, from the registry and the version's worker pool.
public struct OIPModel: Sendable {
    public var name: String
    public var version: String
    /// Every registered version of the model.
    public var versions: [String]
    public var ready: Bool
    /// nil until the model has loaded.
    public var metadata: TensorMetadata?
    public var batchSize: Int
    public var maxBatchDelay: Duration
    public var workers: Int
    public var statistics: ModelStatistics.Snapshot

    public init(
        name: String, version: String, versions: [String], ready: Bool, metadata: TensorMetadata?, batchSize: Int,
        maxBatchDelay: Duration, workers: Int, statistics: ModelStatistics.Snapshot
    ) {
        self.name = name
        self.version = version
        self.versions = versions
        self.ready = ready
        self.metadata = metadata
        self.batchSize = batchSize
        self.maxBatchDelay = maxBatchDelay
        self.workers = workers
        self.statistics = statistics
    }
}

extension ModelService {
    /// Services without tensor models (fakes) know none.
    public func oipModel(model: String, version: String?) async throws -> OIPModel {
        throw ServerError.modelNotFound(model)
    }
}

extension ModelService {
    /// The default version of every registered model, a page of names at a time (statistics of all
    /// models, over REST and gRPC).
    public func allOIPModels() async -> [OIPModel] {
        var models: [OIPModel] = []
        var offset = 0
        while true {
            guard case .array(let page)? = await list(limit: 100, offset: offset)["models"] else { break }
            for case .string(let name)? in page.map({ $0["modelName"] }) {
                if let model = try? await oipModel(model: name, version: nil) { models.append(model) }
            }
            guard page.count == 100 else { break }
            offset += 100
        }
        return models
    }
}
