import EmberCore
import EmberGRPCProtos
import EmberHTTP
import GRPCCore

/// TorchServe's `ManagementAPIsService` (contract §8): each RPC is the REST management call of the same
/// name, through the same model service; `msg` is the REST answer's JSON (describe, list) or its
/// `status` text (the others).
struct TorchServeManagementService: Org_Pytorch_Serve_Grpc_Management_ManagementAPIsService.SimpleServiceProtocol {
    typealias Reply = Org_Pytorch_Serve_Grpc_Management_ManagementResponse

    let service: any ModelService
    let settings: HTTPSettings
    let call: GRPCCall

    /// TorchServe's gRPC answer when registration is off.
    static let modelAPIDisabled = ServerError(.modelAPIDisabled, "Model API disabled")

    func describeModel(request: Org_Pytorch_Serve_Grpc_Management_DescribeModelRequest, context: ServerContext)
        async throws -> Reply
    {
        try await call.run(context) { _ in
            let model = try Self.required(request.modelName, "model_name")
            let target: DescribeTarget =
                switch request.modelVersion {
                case "": .defaultVersion
                case "all": .all
                case let version: .version(version)
                }
            return Self.reply(try await service.describe(model: model, version: target).prettyPrinted())
        }
    }

    /// `limit` 1…100 (else 100) and `next_page_token` an offset, as REST's list.
    func listModels(request: Org_Pytorch_Serve_Grpc_Management_ListModelsRequest, context: ServerContext)
        async throws -> Reply
    {
        try await call.run(context) { _ in
            let limit = request.limit <= 0 || request.limit > 100 ? 100 : Int(request.limit)
            return Self.reply(await service.list(limit: limit, offset: max(0, Int(request.nextPageToken))).prettyPrinted())
        }
    }

    /// proto3's zero values are "not given"; `synchronous` is taken as sent, so registration over gRPC
    /// is asynchronous unless asked otherwise (TorchServe's rule). The values are checked as REST's.
    func registerModel(request: Org_Pytorch_Serve_Grpc_Management_RegisterModelRequest, context: ServerContext)
        async throws -> Reply
    {
        try await call.run(context) { _ in
            guard settings.enableModelAPI else { throw Self.modelAPIDisabled }
            var fields: [String: String] = [:]
            func text(_ name: String, _ value: String) { if !value.isEmpty { fields[name] = value } }
            func number(_ name: String, _ value: Int32) { if value != 0 { fields[name] = String(value) } }
            text("url", request.url)
            text("model_name", request.modelName)
            text("handler", request.handler)
            text("runtime", request.runtime)
            number("initial_workers", request.initialWorkers)
            number("batch_size", request.batchSize)
            number("max_batch_delay", request.maxBatchDelay)
            number("response_timeout", request.responseTimeout)
            number("startup_timeout", request.startupTimeout)
            var registration = try RegisterRequest.parse(fields: fields)
            registration.synchronous = request.synchronous
            guard registration.url != nil else { throw ServerError.badRequest("Parameter url is required.") }
            return try Self.statusReply(try await service.register(registration))
        }
    }

    /// `min_worker` 0 means 1 and `max_worker` 0 means `min_worker`, as TorchServe's gRPC defaults.
    func scaleWorker(request: Org_Pytorch_Serve_Grpc_Management_ScaleWorkerRequest, context: ServerContext)
        async throws -> Reply
    {
        try await call.run(context) { _ in
            let model = try Self.required(request.modelName, "model_name")
            guard request.minWorker >= 0, request.maxWorker >= 0 else {
                throw ServerError.badRequest("min_worker and max_worker cannot be negative.")
            }
            let minWorkers = request.minWorker == 0 ? 1 : Int(request.minWorker)
            let maxWorkers = request.maxWorker == 0 ? minWorkers : Int(request.maxWorker)
            guard maxWorkers >= minWorkers else { throw ServerError.badRequest("max_worker cannot be less than min_worker.") }
            return try Self.statusReply(
                try await service.scale(
                    model: model, version: request.modelVersion.isEmpty ? nil : request.modelVersion,
                    minWorkers: minWorkers, maxWorkers: maxWorkers, synchronous: request.synchronous))
        }
    }

    func setDefault(request: Org_Pytorch_Serve_Grpc_Management_SetDefaultRequest, context: ServerContext)
        async throws -> Reply
    {
        try await call.run(context) { _ in
            let model = try Self.required(request.modelName, "model_name")
            let version = try Self.required(request.modelVersion, "model_version")
            return try Self.statusReply(try await service.setDefault(model: model, version: version))
        }
    }

    func unregisterModel(request: Org_Pytorch_Serve_Grpc_Management_UnregisterModelRequest, context: ServerContext)
        async throws -> Reply
    {
        try await call.run(context) { _ in
            guard settings.enableModelAPI else { throw Self.modelAPIDisabled }
            let model = try Self.required(request.modelName, "model_name")
            return try Self.statusReply(
                try await service.unregister(model: model, version: request.modelVersion.isEmpty ? nil : request.modelVersion))
        }
    }

    private static func required(_ value: String, _ name: String) throws(ServerError) -> String {
        guard !value.isEmpty else { throw .badRequest("Parameter \(name) is required.") }
        return value
    }

    private static func reply(_ text: String) -> Reply {
        var reply = Reply()
        reply.msg = text
        return reply
    }

    /// A REST answer's `status` text; an answer that is not a success is the error it stands for.
    private static func statusReply(_ response: ServiceResponse) throws -> Reply {
        let text: String
        if case .string(let status)? = response.body["status"] { text = status } else { text = response.body.prettyPrinted() }
        guard (200..<300).contains(response.status) else {
            throw RPCError(code: ServerError.grpcCode(httpStatus: response.status), message: text)
        }
        return reply(text)
    }
}
