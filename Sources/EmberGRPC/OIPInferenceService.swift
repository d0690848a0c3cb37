import EmberCore
import EmberGRPCProtos
import EmberHTTP
import GRPCCore
import SwiftProtobuf

/// The Open Inference Protocol's `inference.GRPCInferenceService` with Triton's ModelConfig and
/// ModelStatistics, as tritonclient's gRPC client and perf_analyzer (`-i grpc`) call them. Same
/// semantics as the REST OIP routes: the metadata, configuration and statistics are the REST
/// documents (``OIPDocuments``) read into the messages, and inference goes through the same call.
struct OIPInferenceService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let service: any ModelService
    let metrics: ServerMetrics
    let settings: HTTPSettings
    let call: GRPCCall

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws
        -> Inference_ServerLiveResponse
    {
        try await call.run(context) { _ in
            var reply = Inference_ServerLiveResponse()
            reply.live = true
            return reply
        }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws
        -> Inference_ServerReadyResponse
    {
        try await call.run(context) { _ in
            var reply = Inference_ServerReadyResponse()
            reply.ready = await service.isReady()
            return reply
        }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws
        -> Inference_ModelReadyResponse
    {
        try await call.run(context) { _ in
            var reply = Inference_ModelReadyResponse()
            if request.version.isEmpty {
                reply.ready = try await service.isModelReady(request.name)
            } else {
                reply.ready = try await service.oipModel(model: request.name, version: request.version).ready
            }
            return reply
        }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws
        -> Inference_ServerMetadataResponse
    {
        try await call.run(context) { _ in
            var reply = Inference_ServerMetadataResponse()
            reply.name = "ember"
            reply.version = settings.version
            reply.extensions = OIPDocuments.extensions
            return reply
        }
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws
        -> Inference_ModelMetadataResponse
    {
        try await call.run(context) { _ in
            try Self.message(OIPDocuments.metadata(try await model(request.name, request.version)))
        }
    }

    func modelConfig(request: Inference_ModelConfigRequest, context: ServerContext) async throws
        -> Inference_ModelConfigResponse
    {
        try await call.run(context) { _ in
            var document = OIPDocuments.config(try await model(request.name, request.version))
            // The message's versions are integers: a version like "1.0" has no place there.
            if case .array(let versions)? = document["version_policy"]?["specific"]?["versions"] {
                let integers = versions.compactMap { value -> JSONValue? in
                    guard case .string(let text) = value, Int64(text) != nil else { return nil }
                    return value
                }
                if case .object(let pairs) = document {
                    document = .object(pairs.map { pair in
                        pair.0 == "version_policy" ? (pair.0, ["specific": ["versions": .array(integers)]]) : pair
                    })
                }
            }
            var reply = Inference_ModelConfigResponse()
            reply.config = try Self.message(document)
            return reply
        }
    }

    /// An empty name: every model's default version (perf_analyzer asks for these).
    func modelStatistics(request: Inference_ModelStatisticsRequest, context: ServerContext) async throws
        -> Inference_ModelStatisticsResponse
    {
        try await call.run(context) { _ in
            let models =
                request.name.isEmpty ? await service.allOIPModels() : [try await model(request.name, request.version)]
            var reply = Inference_ModelStatisticsResponse()
            reply.modelStats = try models.map { try Self.message(OIPDocuments.statistics($0)) }
            return reply
        }
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws
        -> Inference_ModelInferResponse
    {
        try await call.run(context) { info in
            let started = ContinuousClock.now
            try MessageSizeLimit.check(request, limit: settings.maxRequestSize)
            let model = request.modelName
            let version = request.modelVersion.isEmpty ? nil : request.modelVersion
            let tensors: TensorRequest
            do {
                tensors = try OIPGRPCTensors.decode(request)
            } catch {
                try await service.requireModel(model)  // an unknown model is NOT_FOUND before a bad request
                throw error
            }
            let input = InferenceInput(body: [], contentType: nil, requestID: info.id, tensors: tensors)
            let output = try await InferenceCall(service: service, metrics: metrics).run(
                model: model, version: version, input: input, maxResponseSize: settings.maxResponseSize,
                logger: info.logger, started: started)
            guard let outputs = output.tensors else {
                throw ServerError.internalError("Model \(model) answered a tensor request without tensors.")
            }
            return OIPGRPCTensors.encode(
                model: model, version: output.modelVersion ?? version ?? "", id: request.id, outputs: outputs)
        }
    }

    private func model(_ name: String, _ version: String) async throws -> OIPModel {
        try await service.oipModel(model: name, version: version.isEmpty ? nil : version)
    }

    /// A REST document as the message of the same shape (protobuf's JSON mapping; Ember's own
    /// additions, such as the warm-up time, are left out).
    private static func message<M: SwiftProtobuf.Message>(_ document: JSONValue) throws -> M {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try M(jsonString: document.compact(), options: options)
    }
}
