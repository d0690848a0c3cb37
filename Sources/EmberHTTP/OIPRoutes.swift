import EmberCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The Open Inference Protocol v2 over REST on the inference listener (`/v2…`), with Triton's
/// extensions that tritonclient and perf_analyzer use: binary tensors, model configuration,
/// statistics and classification. Errors are `{"error": "…"}` (`OIPErrorMapping.swift`).
struct OIPRoutes: Sendable {
    let service: any ModelService
    let metrics: ServerMetrics

    func handle(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) async -> Response {
        do {
            return try await route(request, path, info)
        } catch {
            return Self.error(error, info: info)
        }
    }

    /// Any failure in the protocol's shape; details of unexpected ones stay in the log.
    static func error(_ error: any Error, info: ListenerResponder.RequestInfo) -> Response {
        let failure: ServerError
        switch error {
        case let known as ServerError: failure = known
        case is NIOTooManyBytesError: failure = .requestTooLarge(limit: info.settings.maxRequestSize)
        default:
            info.logger.error("request failed", metadata: ["error": "\(error)"])
            failure = .internalError("Internal server error (request id \(info.id)); see the server log.")
        }
        return ListenerResponder.json(failure.oipBody, status: failure.oipStatus)
    }

    private func route(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) async throws -> Response {
        let method = request.method
        switch (path[1], path.count) {
        case (nil, 1):
            guard method == .get else { throw ServerError.methodNotAllowed }
            return ListenerResponder.json([
                "name": "ember", "version": .string(info.settings.version), "extensions": .array(OIPDocuments.extensions.map { .string($0) }),
            ])
        case ("health"?, 3):
            guard method == .get else { throw ServerError.methodNotAllowed }
            switch path[2] {
            case "live": return ListenerResponder.json(["live": true])
            case "ready":
                let ready = await service.isReady()
                return ListenerResponder.json(["ready": .bool(ready)], status: ready ? 200 : 503)
            default: throw ServerError.resourceNotFound
            }
        case ("models"?, 3) where path[2] == "stats":
            // Every model's statistics (perf_analyzer asks for these, not one model's).
            guard method == .get else { throw ServerError.methodNotAllowed }
            return ListenerResponder.json(["model_stats": .array(await service.allOIPModels().map(OIPDocuments.statistics))])
        case ("models"?, 3...):
            guard let model = path[2] else { throw ServerError.resourceNotFound }
            var rest = Array(path.segments.dropFirst(3))
            var version: String?
            if rest.first == "versions" {
                guard rest.count >= 2 else { throw ServerError.resourceNotFound }
                version = rest[1]
                rest.removeFirst(2)
            }
            return try await modelRoute(request, model: model, version: version, action: rest, info: info)
        default:
            throw ServerError.resourceNotFound
        }
    }

    private func modelRoute(
        _ request: Request, model: String, version: String?, action: [String], info: ListenerResponder.RequestInfo
    ) async throws -> Response {
        let method = request.method
        switch action {
        case []:
            guard method == .get else { throw ServerError.methodNotAllowed }
            return ListenerResponder.json(OIPDocuments.metadata(try await service.oipModel(model: model, version: version)))
        case ["ready"]:
            guard method == .get else { throw ServerError.methodNotAllowed }
            let ready: Bool
            if version == nil {
                ready = try await service.isModelReady(model)
            } else {
                ready = try await service.oipModel(model: model, version: version).ready
            }
            return ListenerResponder.json(["name": .string(model), "ready": .bool(ready)], status: ready ? 200 : 503)
        case ["config"]:
            guard method == .get else { throw ServerError.methodNotAllowed }
            return ListenerResponder.json(OIPDocuments.config(try await service.oipModel(model: model, version: version)))
        case ["stats"]:
            guard method == .get else { throw ServerError.methodNotAllowed }
            let described = try await service.oipModel(model: model, version: version)
            return ListenerResponder.json(["model_stats": [OIPDocuments.statistics(described)]])
        case ["infer"]:
            guard method == .post else { throw ServerError.methodNotAllowed }
            return try await infer(request, model: model, version: version, info: info)
        default:
            throw ServerError.resourceNotFound
        }
    }

    private func infer(_ request: Request, model: String, version: String?, info: ListenerResponder.RequestInfo)
        async throws -> Response
    {
        let started = ContinuousClock.now
        let body = try await request.collectBytes(limit: info.settings.maxRequestSize)
        let decoded: OIPInferRequest
        do {
            decoded = try OIPTensorCodec.decodeRequest(body, headerLength: request.headers[.inferenceHeaderContentLength])
        } catch {
            try await service.requireModel(model)  // an unknown model is a 404 before a bad body is a 400
            throw error
        }
        let input = InferenceInput(body: [], contentType: nil, requestID: info.id, tensors: decoded.tensors)
        let output = try await InferenceCall(service: service, metrics: metrics).run(
            model: model, version: version, input: input, info: info, started: started)
        guard let tensors = output.tensors else {
            throw ServerError.internalError("Model \(model) answered a tensor request without tensors.")
        }
        let answeredVersion = output.modelVersion ?? version ?? ""
        let (responseBody, headerLength) = OIPTensorCodec.encodeResponse(
            model: model, version: answeredVersion, request: decoded, outputs: tensors)
        var fields = HTTPFields()
        if let headerLength {
            fields[.contentType] = "application/octet-stream"
            fields[.inferenceHeaderContentLength] = String(headerLength)
        } else {
            fields[.contentType] = "application/json"
        }
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: responseBody)))
    }
}

extension HTTPField.Name {
    /// Triton's binary tensor extension: the length of the JSON header before the raw tensor bytes.
    static let inferenceHeaderContentLength = HTTPField.Name("Inference-Header-Content-Length") ?? .contentLength
}
