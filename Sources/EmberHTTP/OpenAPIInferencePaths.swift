import EmberCore

/// The inference listener's paths: TorchServe's ping and predictions, SageMaker's invocations, the
/// Open Inference Protocol v2 (`OIPRoutes`) and KServe v1 (`KServeRoutes`).
enum OpenAPIInferencePaths {
    typealias Doc = OpenAPIDocument

    static func paths(_ context: Doc.Context) -> [(String, JSONValue)] {
        let probe: (JSONValue) -> JSONValue = { context.tokens && context.healthProbesWithoutToken ? Doc.open($0) : $0 }
        var paths: [(String, JSONValue)] = [
            ("/ping", ["get": probe(Doc.operation(
                "ping", "Server health: Healthy when every model's default version has its minimum workers.",
                [Doc.reply("200", "Healthy", schema: "Health"), Doc.reply("500", "Unhealthy", schema: "Health")]))]),
            ("/predictions/{model_name}", predictions(versioned: false)),
            ("/predictions/{model_name}/{model_version}", predictions(versioned: true)),
            ("/invocations", ["post": Doc.operation(
                "invocations", "SageMaker: a prediction on model_name, or on the only registered model.",
                parameters: [Doc.queryParameter("model_name", "string", "The model (optional with one model).")],
                body: predictionBody,
                [Doc.handlerReply("200", "The handler's answer")] + Doc.errors(["400", "404", "413", "500", "503", "507"]))]),
        ]
        paths += oip(probe)
        paths += kserve
        return paths
    }

    /// `OPTIONS /predictions/{model}`: TorchServe's per-model document, its path spelt `/prediction/` as
    /// TorchServe spells it (contract §2.8).
    static func modelDocument(_ model: String) -> JSONValue {
        [
            "openapi": "3.0.1",
            "info": ["title": .string("RESTful API for: \(model)"), "version": "1.0.0"],
            "paths": .object([
                ("/prediction/\(model)", [
                    "post": Doc.operation(
                        model, "Runs inference on the model's default version.", body: predictionBody,
                        [Doc.handlerReply("200", "The handler's answer")]
                            + Doc.errors(["400", "404", "413", "500", "503", "507"])),
                ]),
            ]),
            "components": OpenAPISchemas.components(for: .inference),
        ]
    }

    private static let model = Doc.pathParameter("model_name", "A registered model's name.")
    private static let version = Doc.pathParameter("model_version", "One of the model's versions.")

    /// What a handler reads: a JSON tensor or document, raw bytes (an image), a form field `data` or `body`.
    private static let predictionBody: JSONValue = [
        "required": false,
        "content": [
            "application/json": ["schema": [:]],
            "application/octet-stream": ["schema": ["type": "string", "format": "binary"]],
            "multipart/form-data": ["schema": OpenAPISchemas.object(
                [], optional: ["data": ["type": "string", "format": "binary"], "body": ["type": "string", "format": "binary"]])],
            "text/plain": ["schema": OpenAPISchemas.string],
        ],
    ]

    private static func predictions(versioned: Bool) -> JSONValue {
        let parameters = versioned ? [model, version] : [model]
        let suffix = versioned ? "Version" : ""
        return [
            "post": Doc.operation(
                "predictions" + suffix,
                "Runs inference on the model" + (versioned ? "'s version" : "'s default version")
                    + "; any method but OPTIONS does the same.",
                parameters: parameters, body: predictionBody,
                [Doc.handlerReply("200", "The handler's answer, in the content type it sets")]
                    + Doc.errors(["400", "404", "413", "500", "503", "507"])),
            "options": Doc.operation(
                "describePredictions" + suffix, "The model's own OpenAPI document.", parameters: parameters,
                [Doc.document200] + Doc.errors(["404"])),
        ]
    }

    private static func oip(_ probe: (JSONValue) -> JSONValue) -> [(String, JSONValue)] {
        var paths: [(String, JSONValue)] = [
            ("/v2", ["get": Doc.operation("serverMetadata", "Server name, version and protocol extensions.",
                                          [Doc.reply("200", "OK", schema: "ServerMetadata")])]),
            ("/v2/health/live", ["get": probe(Doc.operation("live", "Liveness: the process answers.",
                                                            [Doc.reply("200", "Live", schema: "Live")]))]),
            ("/v2/health/ready", ["get": probe(Doc.operation(
                "ready", "Readiness: every start-up model has its minimum workers.",
                [Doc.reply("200", "Ready", schema: "Ready"), Doc.reply("503", "Not ready", schema: "Ready")]))]),
            ("/v2/models/stats", ["get": Doc.operation(
                "allModelStatistics", "Triton statistics of every model's default version.",
                [Doc.reply("200", "OK", schema: "ModelStatistics")])]),
        ]
        for versioned in [false, true] {
            let base = versioned ? "/v2/models/{model_name}/versions/{model_version}" : "/v2/models/{model_name}"
            let parameters = versioned ? [model, version] : [model]
            let suffix = versioned ? "Version" : ""
            func get(_ id: String, _ summary: String, _ replies: [(String, JSONValue)]) -> JSONValue {
                ["get": Doc.operation(id + suffix, summary, parameters: parameters, replies + Doc.oipErrors(["404"]))]
            }
            paths += [
                (base, get("modelMetadata", "Model metadata: inputs and outputs (name, datatype, shape; -1 = any size).",
                           [Doc.reply("200", "OK", schema: "ModelMetadata")])),
                (base + "/ready", get("modelReady", "Readiness of the model version.",
                                      [Doc.reply("200", "Ready", schema: "ModelReadiness"),
                                       Doc.reply("503", "Not ready", schema: "ModelReadiness")])),
                (base + "/config", get("modelConfig", "Triton model configuration (batching, instances, dims).",
                                       [Doc.reply("200", "OK", schema: "ModelConfig")])),
                (base + "/stats", get("modelStatistics", "Triton statistics: request, queue and compute counts and durations.",
                                      [Doc.reply("200", "OK", schema: "ModelStatistics")])),
                (base + "/infer", ["post": Doc.operation(
                    "infer" + suffix,
                    "Inference on JSON tensors, or Triton's binary tensors after a JSON header of Inference-Header-Content-Length bytes.",
                    parameters: parameters + [["in": "header", "name": "Inference-Header-Content-Length", "required": false,
                                               "schema": OpenAPISchemas.integer]],
                    body: ["required": true, "content": [
                        "application/json": ["schema": OpenAPISchemas.reference("InferRequest")],
                        "application/octet-stream": ["schema": ["type": "string", "format": "binary"]],
                    ]],
                    [("200", ["description": "The output tensors", "content": [
                        "application/json": ["schema": OpenAPISchemas.reference("InferResponse")],
                        "application/octet-stream": ["schema": ["type": "string", "format": "binary"]],
                    ]])] + Doc.oipErrors(["400", "404", "413", "500", "503", "507"]))]),
            ]
        }
        return paths
    }

    private static var kserve: [(String, JSONValue)] {
        [
            ("/v1/models/{model_name}", ["get": Doc.operation(
                "kserveModelReady", "KServe v1 readiness: name and ready.", parameters: [model],
                [Doc.reply("200", "OK", schema: "ModelReadiness")] + Doc.oipErrors(["404"]))]),
            ("/v1/models/{model_name}:predict", ["post": Doc.operation(
                "kservePredict", "KServe v1: {\"instances\": [...]} to {\"predictions\": [...]} on the default version.",
                parameters: [model],
                body: ["required": true, "content": ["application/json": ["schema": OpenAPISchemas.reference("KServeRequest")]]],
                [Doc.reply("200", "OK", schema: "KServeResponse")]
                    + Doc.oipErrors(["400", "404", "413", "500", "503", "507"]))]),
            ("/v1/models/{model_name}:explain", ["post": Doc.operation(
                "kserveExplain", "KServe v1 explanations: none of Ember's handlers explain (400).", parameters: [model],
                Doc.oipErrors(["400", "404"]))]),
        ]
    }
}
