import EmberCore

/// The Open Inference Protocol's model documents: metadata (the protocol's own), and Triton's model
/// configuration and statistics extensions, as tritonclient and perf_analyzer read them. The gRPC
/// service answers the same documents, read into its messages.
public enum OIPDocuments {
    /// The protocol extensions the server metadata announces.
    public static let extensions: [String] = ["binary_tensor_data", "classification", "model_configuration", "statistics"]

    /// `GET /v2/models/{m}[/versions/{v}]`: shapes with `-1` for the batch dimension and any unknown size.
    public static func metadata(_ model: OIPModel) -> JSONValue {
        let metadata = model.metadata
        return [
            "name": .string(model.name),
            "versions": .array(model.versions.map { .string($0) }),
            "platform": .string(metadata?.platform ?? "pytorch_libtorch"),
            "inputs": .array((metadata?.inputs ?? []).map(tensor)),
            "outputs": .array((metadata?.outputs ?? []).map(tensor)),
        ]
    }

    private static func tensor(_ spec: TensorSpec) -> JSONValue {
        [
            "name": .string(spec.name), "datatype": .string(spec.datatype.rawValue),
            "shape": .array(spec.shape.map { .int($0) }),
        ]
    }

    /// The largest batch a request may name: Ember always has a batch dimension, so at least 1 (Triton's
    /// 0 would mean "no batch dimension" to clients).
    static func maxBatchSize(_ model: OIPModel) -> Int { max(1, model.batchSize) }

    /// `GET /v2/models/{m}/config`: Triton's model configuration. Dims leave out the batch dimension.
    public static func config(_ model: OIPModel) -> JSONValue {
        func dims(_ spec: TensorSpec) -> JSONValue {
            [
                "name": .string(spec.name), "data_type": .string(spec.datatype.configName),
                "dims": .array(spec.shape.dropFirst().map { .int($0) }),
            ]
        }
        let metadata = model.metadata
        var pairs: [(String, JSONValue)] = [
            ("name", .string(model.name)),
            ("platform", .string(metadata?.platform ?? "pytorch_libtorch")),
            ("backend", "pytorch"),
            ("version_policy", ["specific": ["versions": .array(model.versions.map { .string($0) })]]),
            ("max_batch_size", .int(maxBatchSize(model))),
            ("input", .array((metadata?.inputs ?? []).map(dims))),
            ("output", .array((metadata?.outputs ?? []).map(dims))),
            ("dynamic_batching", [
                "preferred_batch_size": [.int(maxBatchSize(model))],
                "max_queue_delay_microseconds": .int(Int(model.maxBatchDelay.microseconds)),
            ]),
            ("instance_group", [["name": .string(model.name), "kind": "KIND_CPU", "count": .int(model.workers)]]),
            ("model_transaction_policy", ["decoupled": false]),
        ]
        if let warmUp = metadata?.warmUpTime {
            // Ember's addition: the warm-up forward made at load, batch 1 of zeros.
            pairs.append(("ember_warmup_microseconds", .int(Int(warmUp.microseconds))))
        }
        return .object(pairs)
    }

    /// One `model_stats` entry of `GET /v2/models/{m}/stats`. Ember measures the queue and the forward;
    /// compute_input and compute_output are inside the forward's measurement and reported as 0 ns.
    public static func statistics(_ model: OIPModel) -> JSONValue {
        let stats = model.statistics
        func total(_ value: ModelStatistics.Total) -> JSONValue {
            ["count": .int(value.count), "ns": .int(value.nanoseconds)]
        }
        let untimed: JSONValue = ["count": .int(stats.success.count), "ns": 0]
        let none: JSONValue = ["count": 0, "ns": 0]
        return [
            "name": .string(model.name),
            "version": .string(model.version),
            "last_inference": .int(stats.lastInference),
            "inference_count": .int(stats.inferenceCount),
            "execution_count": .int(stats.executionCount),
            "inference_stats": [
                "success": total(stats.success), "fail": total(stats.failure), "queue": total(stats.queue),
                "compute_input": untimed, "compute_infer": total(stats.computeInfer), "compute_output": untimed,
                "cache_hit": none, "cache_miss": none,
            ],
            "batch_stats": .array(stats.batches.keys.sorted().compactMap { size -> JSONValue? in
                guard let batch = stats.batches[size] else { return nil }
                return [
                    "batch_size": .int(size),
                    "compute_input": ["count": .int(batch.count), "ns": 0],
                    "compute_infer": total(batch),
                    "compute_output": ["count": .int(batch.count), "ns": 0],
                ]
            }),
        ]
    }
}
