import EmberCore
import Hummingbird
import NIOCore

/// KServe's v1 protocol: `POST /v1/models/{m}:predict` (`{"instances": [...]}` → `{"predictions": [...]}`),
/// `:explain`, and `GET /v1/models/{m}` (`{"name", "ready"}`, on both listeners as TorchServe answers
/// it). Always the default version. Errors on the inference listener are `{"error": "…"}`.
struct KServeRoutes: Sendable {
    let service: any ModelService
    /// Where `:predict` records TorchServe's latency series (nil on the management listener, which only describes).
    var metrics: ServerMetrics? = nil

    /// `/v1/models/{m}` and `/v1/models/{m}:verb` on the inference listener.
    func handleInference(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) async -> Response {
        do {
            guard path.count == 3, path[1] == "models", let target = path[2] else { throw ServerError.resourceNotFound }
            let (model, verb) = Self.split(target)
            switch verb {
            case nil:
                guard request.method == .get else { throw ServerError.methodNotAllowed }
                return try await readiness(model)
            case "predict":
                guard request.method == .post else { throw ServerError.methodNotAllowed }
                return try await predict(request, model: model, info: info)
            case "explain":
                try await service.requireModel(model)
                throw ServerError.badRequest(
                    "Model \(model) has no explanation: Ember's handlers answer predictions only (:predict).")
            default:
                throw ServerError.resourceNotFound
            }
        } catch {
            return OIPRoutes.error(error, info: info)
        }
    }

    /// `GET /v1/models/{m}` on the management listener (TorchServe's error shape there).
    func handleManagement(_ request: Request, _ path: RequestPath) async throws -> Response {
        guard path.count == 3, path[1] == "models", let model = path[2] else { throw ServerError.resourceNotFound }
        guard request.method == .get else { throw ServerError.methodNotAllowed }
        return try await readiness(model)
    }

    /// `mlp:predict` → (`mlp`, `predict`); a name without a colon has no verb.
    static func split(_ segment: String) -> (model: String, verb: String?) {
        guard let colon = segment.lastIndex(of: ":") else { return (segment, nil) }
        return (String(segment[..<colon]), String(segment[segment.index(after: colon)...]))
    }

    private func readiness(_ model: String) async throws -> Response {
        let ready = try await service.isModelReady(model)
        return ListenerResponder.json(["name": .string(model), "ready": .bool(ready)])
    }

    /// Tensor instances go to the model in one request (one row each); instances that are objects
    /// (`{"b64": "…"}` images, `{"data": …}`) go one request each, as the handler reads one object.
    private func predict(_ request: Request, model: String, info: ListenerResponder.RequestInfo) async throws -> Response {
        let body = try await request.collectBytes(limit: info.settings.maxRequestSize)
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            try await service.requireModel(model)
            throw ServerError.badRequest("The request is not valid JSON: \(error)")
        }
        guard case .array(let instances)? = document["instances"], !instances.isEmpty else {
            try await service.requireModel(model)
            throw ServerError.badRequest("The request needs \"instances\", a non-empty array.")
        }
        var predictions: [JSONValue] = []
        if instances.allSatisfy({ if case .object = $0 { true } else { false } }) {
            for instance in instances {
                predictions += try await run(model, Array(instance.compact().utf8), info: info)
            }
        } else {
            predictions = try await run(model, Array(JSONValue.object([("instances", .array(instances))]).compact().utf8), info: info)
        }
        return ListenerResponder.json(["predictions": .array(predictions)])
    }

    private func run(_ model: String, _ body: [UInt8], info: ListenerResponder.RequestInfo) async throws -> [JSONValue] {
        let input = InferenceInput(body: body, contentType: "application/json", requestID: info.id)
        let output =
            if let metrics {
                try await InferenceCall(service: service, metrics: metrics).run(
                    model: model, version: nil, input: input, info: info, started: .now)
            } else {
                try await service.predict(model: model, version: nil, input: input)
            }
        guard output.status == 200 else {
            throw ServerError.internalError("Model \(model) answered status \(output.status).")
        }
        switch try? JSONValue.parse(output.body) {
        case .array(let rows)?: return rows
        case let value?: return [value]
        case nil: return [.string(String(decoding: output.body, as: UTF8.self))]
        }
    }
}
