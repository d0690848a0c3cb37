import EmberCore
import Hummingbird

/// The management listener's routes (contract §3).
struct ManagementRoutes: Sendable {
    let service: any ModelService

    func handle(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) async throws -> Response {
        if path[0] == "v1" { return try await KServeRoutes(service: service).handleManagement(request, path) }
        guard path[0] == "models" else { throw ServerError.resourceNotFound }
        let method = request.method
        switch path.count {
        case 1:
            if method == .get { return try await list(request) }
            if method == .post {
                guard info.settings.enableModelAPI else { throw ServerError.modelAPIDisabled }
                return try await register(request, info: info)
            }
            throw ServerError.methodNotAllowed
        case 2, 3:
            guard let model = path[1] else { throw ServerError.resourceNotFound }
            let version = path[2]
            switch method {
            case .get:
                let target: DescribeTarget = version == "all" ? .all : version.map { .version($0) } ?? .defaultVersion
                return ListenerResponder.json(try await service.describe(model: model, version: target))
            case .put:
                return try await scale(request, model: model, version: version ?? request.query("model_version"))
            case .delete:
                guard info.settings.enableModelAPI else { throw ServerError.modelAPIDisabled }
                return reply(try await service.unregister(model: model, version: version))
            case .options:
                return ListenerResponder.json(OpenAPIManagementPaths.modelDocument(model))
            default:
                throw ServerError.methodNotAllowed
            }
        case 4 where path[3] == "set-default":
            guard let model = path[1], let version = path[2] else { throw ServerError.resourceNotFound }
            if method == .get {
                // TorchServe routes GET …/set-default to describe (contract §3.1).
                return ListenerResponder.json(try await service.describe(model: model, version: .defaultVersion))
            }
            guard method == .put else { throw ServerError.methodNotAllowed }
            return reply(try await service.setDefault(model: model, version: version))
        default:
            throw ServerError.resourceNotFound
        }
    }

    private func reply(_ response: ServiceResponse) -> Response {
        ListenerResponder.json(response.body, status: response.status)
    }

    /// `limit` 1…100 (else 100), `next_page_token` an offset ≥ 0 (contract §3.6); a number that does not
    /// fit TorchServe's `int` is a 400.
    private func list(_ request: Request) async throws -> Response {
        let int32 = Int(Int32.min)...Int(Int32.max)
        var limit = try IntegerParameter.parse(request.query("limit"), name: "limit", range: int32) ?? 100
        if limit < 0 || limit > 100 { limit = 100 }
        let token = try IntegerParameter.parse(request.query("next_page_token"), name: "next_page_token", range: int32)
        return ListenerResponder.json(await service.list(limit: limit, offset: max(0, token ?? 0)))
    }

    /// `min_worker` (default 1; not a number: 1) and `max_worker` (default `min_worker`), each within
    /// 0…2³¹-1 here; the server's caps (`max_workers_per_model`, `max_workers`) are checked by the registry.
    private func scale(_ request: Request, model: String, version: String?) async throws -> Response {
        let range = ModelSettings.Limits.workerCount
        let minWorkers = try IntegerParameter.parse(request.query("min_worker"), name: "min_worker", range: range) ?? 1
        let maxWorkers =
            try IntegerParameter.parse(request.query("max_worker"), name: "max_worker", range: range) ?? minWorkers
        let synchronous = request.query("synchronous") == "true"
        guard maxWorkers >= minWorkers else {
            throw ServerError.badRequest("max_worker cannot be less than min_worker.")
        }
        return reply(
            try await service.scale(
                model: model, version: version, minWorkers: minWorkers, maxWorkers: maxWorkers, synchronous: synchronous))
    }

    private func register(_ request: Request, info: ListenerResponder.RequestInfo) async throws -> Response {
        let parameters: RegisterRequest
        if request.headers[.contentType].map(mediaType(ofContentType:)) == "application/json" {
            let body = try await request.collectBytes(limit: info.settings.maxRequestSize)
            parameters = try RegisterParameters.fromJSON(body)
        } else {
            parameters = try RegisterParameters.fromQuery(request.queryPairs)
        }
        guard parameters.url != nil else { throw ServerError.badRequest("Parameter url is required.") }
        return reply(try await service.register(parameters))
    }
}
