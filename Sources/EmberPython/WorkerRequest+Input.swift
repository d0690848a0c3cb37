import EmberCore

extension WorkerRequest {
    /// What TorchServe's frontend sends for one HTTP request (contract §2.3): each field of a
    /// multipart or urlencoded form as an input named after it, otherwise the whole body as `body` with
    /// its media type.
    init(_ input: InferenceInput) {
        let media = input.contentType.map { mediaType(ofContentType: $0) } ?? ""
        // Every header the client sent, as TorchServe's frontend passes them (`context.get_request_header`);
        // a request that came without HTTP headers still tells the handler its content type.
        var headers: [(name: String, value: String)] = []
        if let fields = input.headers {
            fields.forEachField { headers.append(($0, $1)) }
        } else if let contentType = input.contentType {
            headers.append(("Content-Type", contentType))
        }
        var parameters: [Parameter]?
        if media == "multipart/form-data", let contentType = input.contentType,
            let boundary = MultipartParser.boundary(fromContentType: contentType),
            let fields = try? MultipartParser.parse(input.body, boundary: boundary)
        {
            parameters = fields.map { Parameter(name: $0.name, contentType: $0.contentType ?? "", value: $0.value) }
        } else if media == "application/x-www-form-urlencoded" {
            let text = String(decoding: input.body, as: UTF8.self)
            parameters = URLEncodedForm.parse(text).map { Parameter(name: $0.name, contentType: "", value: Array($0.value.utf8)) }
        }
        self.init(
            requestID: input.requestID, headers: headers,
            parameters: parameters ?? [Parameter(name: "body", contentType: media, value: input.body)])
    }
}

extension WorkerResponse.Prediction {
    /// The answer as the pool relays it: the handler's status, content type (none when unset) and body.
    var output: InferenceOutput {
        InferenceOutput(status: Int(statusCode), body: body, contentType: contentType.isEmpty ? nil : contentType)
    }
}

extension WorkerResponse {
    /// One result per request of `batch`, in its order. A non-200 top-level code fails every request
    /// with that code and message, as TorchServe's frontend does; a prediction's own status is relayed
    /// with its raw body.
    func results(for batch: [InferenceInput]) -> [Result<InferenceOutput, ServerError>] {
        guard code == 200 else {
            let failure = Self.batchFailure(code: Int(code), message: message)
            return batch.map { _ in failure }
        }
        var byID: [String: Prediction] = [:]
        for prediction in predictions { byID[prediction.requestID] = prediction }
        return batch.map { input in
            guard let prediction = byID[input.requestID] else { return .failure(.batchResponseMismatch) }
            return .success(prediction.output)
        }
    }

    static func batchFailure(code: Int, message: String) -> Result<InferenceOutput, ServerError> {
        switch code {
        case 503: return .failure(ServerError(.predictionFailed, message))
        case 507: return .failure(ServerError(.outOfResources, message))
        default:
            // A PredictionException's own code (e.g. 599) has no entry in the catalogue: answer it with
            // TorchServe's error body and that status.
            let body: JSONValue = [
                "code": .int(code), "type": "InternalServerException", "message": .string(message),
            ]
            let status = (100...999).contains(code) ? code : 500
            return .success(
                InferenceOutput(status: status, body: Array(body.prettyPrinted().utf8), contentType: "application/json"))
        }
    }
}
