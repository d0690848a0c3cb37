import EmberCore
import Foundation
import Hummingbird
import Logging

/// The inference listener's routes (contract §2): ping, predictions; the Open Inference Protocol
/// (`OIPRoutes`), KServe v1 (`KServeRoutes`) and SageMaker (`SageMakerRoutes`) in files of their own.
struct InferenceRoutes: Sendable {
    let service: any ModelService
    let metrics: ServerMetrics

    /// The routes that answer without waiting.
    func immediate(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) throws
        -> BufferedResponse?
    {
        switch path[0] {
        case "ping":
            return service.isHealthy() ? Self.healthy : Self.unhealthy
        case "predictions" where request.method != .options && (path.count == 2 || path.count == 3):
            // A full queue refuses before the body is looked at (TorchServe's 503): answered here, so
            // under overload a refusal costs no task and no copy. An oversized body is still a 413.
            guard let model = path[1], let refusal = refusal(request, model: model, version: path[2], info) else {
                return nil
            }
            return ListenerResponder.buffered(refusal)
        case "v2" where request.method == .post && path[1] == "models" && path.segments.last == "infer":
            // The Open Inference Protocol's infer, refused the same way in its own error shape.
            let version: String?
            switch path.count {
            case 4: version = nil
            case 6 where path[3] == "versions": version = path[4]
            default: return nil
            }
            guard let model = path[2], let refusal = refusal(request, model: model, version: version, info) else {
                return nil
            }
            return ListenerResponder.buffered(refusal.oipBody, status: refusal.oipStatus)
        case "v1" where request.method == .post && path.count == 3 && path[1] == "models":
            // KServe v1's `:predict` (always the default version), in the same error shape.
            guard let target = path[2] else { return nil }
            let (model, verb) = KServeRoutes.split(target)
            guard verb == "predict", let refusal = refusal(request, model: model, version: nil, info) else { return nil }
            return ListenerResponder.buffered(refusal.oipBody, status: refusal.oipStatus)
        default:
            return nil
        }
    }

    /// The pool's refusal of a prediction it would not queue, unless the body is over the limit (a 413 first).
    private func refusal(_ request: Request, model: String, version: String?, _ info: ListenerResponder.RequestInfo)
        -> ServerError?
    {
        guard (request.headers.first(.contentLength).flatMap(Int.init) ?? 0) <= info.settings.maxRequestSize else { return nil }
        return service.admissionRefusal(model: model, version: version)
    }

    private static let healthy = ListenerResponder.buffered(["status": "Healthy"])
    private static let unhealthy = ListenerResponder.buffered(["status": "Unhealthy"], status: 500)

    func handle(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) async throws -> Response {
        switch path[0] {
        case "predictions":
            guard path.count >= 2, let model = path[1] else { throw ServerError.resourceNotFound }
            if request.method == .options {
                try await service.requireModel(model)
                return ListenerResponder.json(OpenAPIInferencePaths.modelDocument(model))
            }
            return try await predict(request, model: model, version: path[2], info: info)
        case "v2":
            return await OIPRoutes(service: service, metrics: metrics).handle(request, path, info)
        case "v1":
            return await KServeRoutes(service: service, metrics: metrics).handleInference(request, path, info)
        case "invocations" where path.count == 1:
            return try await SageMakerRoutes(service: service).invoke(request, info: info) {
                try await predict($0, model: $1, version: $2, info: $3)
            }
        default:
            throw ServerError.resourceNotFound
        }
    }

    func predict(_ request: Request, model: String, version: String?, info: ListenerResponder.RequestInfo)
        async throws -> Response
    {
        let started = ContinuousClock.now
        let body = try await request.collectBytes(limit: info.settings.maxRequestSize)
        let contentType = request.headers.first(.contentType)
        let payload: (body: [UInt8], contentType: String?)
        do {
            payload = try Self.payload(body: body, contentType: contentType)
        } catch {
            try await service.requireModel(model)  // an unknown model is a 404 before a bad body is a 400
            throw error
        }
        let input = InferenceInput(
            body: payload.body, contentType: payload.contentType, requestID: info.id,
            headers: ForwardedHeaders(fields: request.headers, authority: request.head.authority))
        let output = try await InferenceCall(service: service, metrics: metrics).run(
            model: model, version: version, input: input, info: info, started: started, streaming: true)
        var fields = HTTPFields()
        if let type = output.contentType { fields[.contentType] = type }
        if let stream = output.stream {
            // A handler that sends intermediate responses: status and headers go with its first chunk,
            // each chunk is written as it comes (chunked transfer encoding), as TorchServe does.
            return Response(status: .init(code: output.status), headers: fields, body: Self.streamed(stream))
        }
        return Response(
            status: .init(code: output.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: output.body)))
    }

    /// The chunks of a streamed answer, each written (and flushed) when it arrives. A stream that
    /// fails midway ends the connection without the final chunk, so the client sees it incomplete.
    static func streamed(_ stream: ResponseStream) -> ResponseBody {
        ResponseBody { writer in
            do {
                while let chunk = try await stream.next() {
                    if chunk.isEmpty { continue }  // an empty chunk would end the chunked body
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
            } catch {
                stream.abandon()
                throw error
            }
            try await writer.finish(nil)
        }
    }

    /// TorchServe's handlers read the form field `data`, else `body`; other bodies are the input.
    static func payload(body: [UInt8], contentType: String?) throws -> (body: [UInt8], contentType: String?) {
        guard let contentType else { return (body, nil) }
        let mediaType = mediaType(ofContentType: contentType)
        if mediaType == "multipart/form-data", let boundary = MultipartParser.boundary(fromContentType: contentType) {
            let fields: [FormField]
            do {
                fields = try MultipartParser.parse(body, boundary: boundary)
            } catch {
                throw ServerError.badRequest(error.message)
            }
            guard let field = fields.last(where: { $0.name == "data" }) ?? fields.last(where: { $0.name == "body" }) else {
                throw ServerError.badRequest(
                    "The multipart body has no field named \"data\" or \"body\"; fields sent: "
                        + fields.map(\.name).joined(separator: ", "))
            }
            return (field.value, field.contentType)
        }
        if mediaType == "application/x-www-form-urlencoded" {
            // `curl --data-binary @image.jpg` sends this type for any file: a body that is not a form with a
            // data/body field is the input itself, as TorchServe's handlers end up seeing it.
            let fields = URLEncodedForm.parse(String(decoding: body, as: UTF8.self))
            if let field = fields.last(where: { $0.name == "data" }) ?? fields.last(where: { $0.name == "body" }) {
                return (Array(field.value.utf8), nil)
            }
            return (body, nil)
        }
        return (body, mediaType)
    }
}
