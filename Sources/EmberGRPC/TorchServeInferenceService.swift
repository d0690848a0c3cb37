import EmberCore
import EmberGRPCProtos
import EmberHTTP
import Foundation
import GRPCCore
import SwiftProtobuf

/// TorchServe's `InferenceAPIsService` (contract §8) over the same model service, queue, batcher and
/// metrics as REST's /ping and /predictions.
struct TorchServeInferenceService: Org_Pytorch_Serve_Grpc_Inference_InferenceAPIsService.SimpleServiceProtocol {
    typealias Request = Org_Pytorch_Serve_Grpc_Inference_PredictionsRequest
    typealias Response = Org_Pytorch_Serve_Grpc_Inference_PredictionResponse

    let service: any ModelService
    let metrics: ServerMetrics
    let settings: HTTPSettings
    let call: GRPCCall

    /// `health` is the REST /ping body, `{"status": "Healthy"}` pretty-printed; an unhealthy server
    /// still answers OK, with "Unhealthy" (as TorchServe).
    func ping(request: Google_Protobuf_Empty, context: ServerContext) async throws
        -> Org_Pytorch_Serve_Grpc_Inference_TorchServeHealthResponse
    {
        try await call.run(context) { _ in
            let healthy = service.isHealthy()
            var reply = Org_Pytorch_Serve_Grpc_Inference_TorchServeHealthResponse()
            reply.health = JSONValue.object([("status", .string(healthy ? "Healthy" : "Unhealthy"))]).prettyPrinted()
            return reply
        }
    }

    func predictions(request: Request, context: ServerContext) async throws -> Response {
        try await call.run(context) { info in
            var reply = Response()
            reply.prediction = Data(try await predict(request, info: info, streaming: false).body)
            return reply
        }
    }

    /// Each piece of the answer goes as one message as it arrives: a Python handler's intermediate
    /// responses one by one, then its final one, as TorchServe streams them.
    func streamPredictions(request: Request, response: RPCWriter<Response>, context: ServerContext) async throws {
        try await call.run(context) { info in
            let output = try await predict(request, info: info, streaming: true)
            guard let stream = output.stream else {
                var message = Response()
                message.prediction = Data(output.body)
                return try await response.write(message)
            }
            do {
                while let chunk = try await stream.next() {
                    var message = Response()
                    message.prediction = Data(chunk)
                    try await response.write(message)
                }
            } catch {
                stream.abandon()
                throw error
            }
        }
    }

    /// Bidirectional: each request in the stream is answered in order, on the same stream, with its
    /// sequence id. A request that fails is answered with its `status` (code and message) and the stream
    /// goes on, as TorchServe's; a request without a sequence id that does not start a sequence
    /// (`ts_request_sequence_start`) is refused that way.
    func streamPredictions2(
        request: RPCAsyncSequence<Request, any Error>, response: RPCWriter<Response>, context: ServerContext
    ) async throws {
        try await call.run(context) { info in
            for try await message in request {
                var reply = Response()
                var sequenceID = message.hasSequenceID ? message.sequenceID : ""
                do {
                    if sequenceID.isEmpty {
                        let starts = message.input["ts_request_sequence_start"].map {
                            String(decoding: $0, as: UTF8.self).lowercased() == "true"
                        }
                        // TorchServe answers this one INTERNAL.
                        guard starts == true else {
                            throw RPCError(code: .internalError, message: "Parameter sequenceId is required.")
                        }
                        sequenceID = "ts-seq-\(RequestID.next())"
                    }
                    reply.sequenceID = sequenceID
                    reply.prediction = Data(try await predict(message, info: info, streaming: false).body)
                } catch {
                    let failure = call.rpcError(error, id: info.id, logger: info.logger)
                    var status = Google_Rpc_Status()
                    status.code = Int32(Status.Code(failure.code).rawValue)
                    status.message = failure.message
                    reply.status = status
                    if !sequenceID.isEmpty { reply.sequenceID = sequenceID }
                }
                try await response.write(reply)
            }
        }
    }

    /// One prediction through the same call as REST's /predictions: the `input` map's `data` (else
    /// `body`) entry is the handler's input, as a form field is over REST.
    private func predict(_ request: Request, info: GRPCCall.Info, streaming: Bool) async throws -> InferenceOutput {
        let started = ContinuousClock.now
        try MessageSizeLimit.check(request, limit: settings.maxRequestSize)
        let model = request.modelName
        guard !model.isEmpty else { throw ServerError.badRequest("Parameter model_name is required.") }
        let version = request.modelVersion.isEmpty ? nil : request.modelVersion
        guard let payload = request.input["data"] ?? request.input["body"] else {
            try await service.requireModel(model)  // an unknown model is NOT_FOUND before a bad input
            throw ServerError.badRequest(
                "The request's input has no entry named \"data\" or \"body\"; entries sent: "
                    + request.input.keys.sorted().joined(separator: ", "))
        }
        let input = InferenceInput(body: [UInt8](payload), contentType: nil, requestID: info.id)
        let output = try await InferenceCall(service: service, metrics: metrics).run(
            model: model, version: version, input: input, maxResponseSize: settings.maxResponseSize,
            logger: info.logger, started: started, streaming: streaming)
        guard (200..<300).contains(output.status) else {
            // A handler's own error status (a Python handler can set one): its body is the message.
            throw RPCError(
                code: ServerError.grpcCode(httpStatus: output.status), message: String(decoding: output.body, as: UTF8.self))
        }
        return output
    }
}
