import EmberCore

/// The OpenAPI 3 documents served at `OPTIONS /` and `/api-description`, describing what Ember
/// really serves on each listener.
enum OpenAPIDocument {
    enum Listener: Sendable { case inference, management, metrics }

    static func document(for listener: Listener, version: String) -> JSONValue {
        var paths: [(String, JSONValue)] = [("/", options), ("/api-description", apiDescription)]
        switch listener {
        case .inference:
            paths += [
                ("/ping", operation("get", "ping", "Server health: Healthy when every model has its minimum workers.", ["200", "500"])),
                ("/predictions/{model_name}", predictions(versioned: false)),
                ("/predictions/{model_name}/{model_version}", predictions(versioned: true)),
                ("/invocations", [
                    "post": ["operationId": "invocations", "summary": "SageMaker: predicts with model_name, or the only model.",
                             "parameters": [queryParameter("model_name", "string")],
                             "responses": responses(["200", "400", "404", "503"])],
                ]),
            ]
            paths += oipPaths
            paths += kservePaths
        case .management:
            paths += [
                ("/models", [
                    "get": ["operationId": "listModels", "summary": "Lists registered models (default versions).",
                            "parameters": [queryParameter("limit", "integer"), queryParameter("next_page_token", "string")],
                            "responses": responses(["200"])],
                    "post": ["operationId": "registerModel", "summary": "Registers a model archive from the model store.",
                             "parameters": .array(["url", "model_name", "batch_size", "max_batch_delay", "initial_workers",
                                                   "synchronous", "response_timeout", "startup_timeout"].map {
                                 queryParameter($0, ["url", "model_name"].contains($0) ? "string" : ($0 == "synchronous" ? "boolean" : "integer"))
                             }),
                             "responses": responses(["200", "202", "400", "404", "405", "409", "500"])],
                ]),
                ("/v1/models/{model_name}", [
                    "get": ["operationId": "kserveModelReady", "summary": "KServe v1 readiness: name and ready.",
                            "parameters": [pathParameter("model_name")], "responses": responses(["200", "404"])],
                ]),
                ("/models/{model_name}", modelOperations(versioned: false)),
                ("/models/{model_name}/{model_version}", modelOperations(versioned: true)),
                ("/models/{model_name}/{model_version}/set-default", [
                    "put": ["operationId": "setDefault", "summary": "Makes a version the default.",
                            "parameters": [pathParameter("model_name"), pathParameter("model_version")],
                            "responses": responses(["200", "404"])],
                ]),
            ]
        case .metrics:
            paths.append(("/metrics", [
                "get": ["operationId": "metrics", "summary": "Prometheus text format; repeat name[] to filter.",
                        "parameters": [queryParameter("name[]", "string")], "responses": responses(["200"])],
            ]))
        }
        return [
            "openapi": "3.0.1",
            "info": ["title": "Ember APIs (TorchServe-compatible)",
                     "description": "Ember serves TorchServe's REST APIs from one native process.",
                     "version": .string(version)],
            "paths": .object(paths),
        ]
    }

    /// The Open Inference Protocol v2 routes (`OIPRoutes`), default version and `/versions/{model_version}`.
    private static var oipPaths: [(String, JSONValue)] {
        var paths: [(String, JSONValue)] = [
            ("/v2", operation("get", "serverMetadata", "Server name, version and protocol extensions.", ["200"])),
            ("/v2/health/live", operation("get", "live", "Liveness: the process answers.", ["200"])),
            ("/v2/health/ready", operation("get", "ready", "Readiness: every start-up model has its minimum workers.", ["200", "503"])),
            ("/v2/models/stats", operation("get", "allModelStatistics", "Triton statistics of every model's default version.", ["200"])),
        ]
        for versioned in [false, true] {
            let base = versioned ? "/v2/models/{model_name}/versions/{model_version}" : "/v2/models/{model_name}"
            var parameters: [JSONValue] = [pathParameter("model_name")]
            if versioned { parameters.append(pathParameter("model_version")) }
            func get(_ id: String, _ summary: String, _ codes: [String]) -> JSONValue {
                ["get": ["operationId": .string(id + (versioned ? "Version" : "")), "summary": .string(summary),
                         "parameters": .array(parameters), "responses": responses(codes)]]
            }
            paths += [
                (base, get("modelMetadata", "Model metadata: inputs and outputs (name, datatype, shape; -1 = any size).", ["200", "404"])),
                (base + "/ready", get("modelReady", "Readiness of the model version.", ["200", "404", "503"])),
                (base + "/config", get("modelConfig", "Triton model configuration (batching, instances, dims).", ["200", "404"])),
                (base + "/stats", get("modelStatistics", "Triton statistics: request, queue and compute counts and durations.", ["200", "404"])),
                (base + "/infer", [
                    "post": ["operationId": .string("infer" + (versioned ? "Version" : "")),
                             "summary": "Inference on JSON tensors, or Triton's binary tensors after a JSON header (Inference-Header-Content-Length).",
                             "parameters": .array(parameters),
                             "requestBody": ["content": ["application/json": ["schema": ["type": "object"]],
                                                         "application/octet-stream": ["schema": ["type": "string", "format": "binary"]]]],
                             "responses": responses(["200", "400", "404", "413", "500", "503", "507"])],
                ]),
            ]
        }
        return paths
    }

    /// KServe v1 (`KServeRoutes`).
    private static var kservePaths: [(String, JSONValue)] {
        let model: [JSONValue] = [pathParameter("model_name")]
        return [
            ("/v1/models/{model_name}", [
                "get": ["operationId": "kserveModelReady", "summary": "KServe v1 readiness: name and ready.",
                        "parameters": .array(model), "responses": responses(["200", "404"])],
            ]),
            ("/v1/models/{model_name}:predict", [
                "post": ["operationId": "kservePredict", "summary": "KServe v1: {\"instances\": [...]} to {\"predictions\": [...]}.",
                         "parameters": .array(model), "responses": responses(["200", "400", "404", "503"])],
            ]),
            ("/v1/models/{model_name}:explain", [
                "post": ["operationId": "kserveExplain", "summary": "KServe v1 explanations: none of Ember's handlers explain (400).",
                         "parameters": .array(model), "responses": responses(["400", "404"])],
            ]),
        ]
    }

    private static var options: JSONValue {
        ["options": ["operationId": "apiDescription", "summary": "This document.", "responses": responses(["200"])]]
    }

    private static var apiDescription: JSONValue {
        ["get": ["operationId": "apiDescription", "summary": "This document.", "responses": responses(["200"])]]
    }

    private static func predictions(versioned: Bool) -> JSONValue {
        var parameters: [JSONValue] = [pathParameter("model_name")]
        if versioned { parameters.append(pathParameter("model_version")) }
        return [
            "post": [
                "operationId": versioned ? "versionPredictions" : "predictions",
                "summary": "Runs inference: a JSON tensor, raw bytes, or a multipart field named data or body.",
                "parameters": .array(parameters),
                "requestBody": ["content": ["application/json": ["schema": ["type": "object"]],
                                            "application/octet-stream": ["schema": ["type": "string", "format": "binary"]],
                                            "multipart/form-data": ["schema": ["type": "object"]]]],
                "responses": responses(["200", "400", "404", "413", "500", "503", "507"]),
            ],
        ]
    }

    private static func modelOperations(versioned: Bool) -> JSONValue {
        var parameters: [JSONValue] = [pathParameter("model_name")]
        if versioned { parameters.append(pathParameter("model_version")) }
        let scale = parameters + ["min_worker", "max_worker", "synchronous"].map {
            queryParameter($0, $0 == "synchronous" ? "boolean" : "integer")
        }
        return [
            "get": ["operationId": versioned ? "describeVersion" : "describeModel", "summary": "Describes the model.",
                    "parameters": .array(parameters), "responses": responses(["200", "404"])],
            "put": ["operationId": versioned ? "scaleVersion" : "scaleModel", "summary": "Scales the workers.",
                    "parameters": .array(scale), "responses": responses(["200", "202", "206", "400", "404", "500"])],
            "delete": ["operationId": versioned ? "unregisterVersion" : "unregisterModel",
                       "summary": "Unregisters the model.", "parameters": .array(parameters),
                       "responses": responses(["200", "403", "404", "405", "408"])],
        ]
    }

    private static func operation(_ method: String, _ id: String, _ summary: String, _ codes: [String]) -> JSONValue {
        let body: JSONValue = ["operationId": .string(id), "summary": .string(summary), "responses": responses(codes)]
        return .object([(method, body)])
    }

    private static func pathParameter(_ name: String) -> JSONValue {
        ["in": "path", "name": .string(name), "required": true, "schema": ["type": "string"]]
    }

    private static func queryParameter(_ name: String, _ type: String) -> JSONValue {
        ["in": "query", "name": .string(name), "required": false, "schema": ["type": .string(type)]]
    }

    private static func responses(_ codes: [String]) -> JSONValue {
        .object(codes.map { ($0, ["description": .string(description(of: $0))]) })
    }

    private static func description(of code: String) -> String {
        switch code {
        case "200": "OK"
        case "202": "Accepted; workers are being updated"
        case "206": "Workers scaling in progress"
        case "400": "Bad request"
        case "403": "Forbidden"
        case "404": "Not found"
        case "405": "Method not allowed"
        case "408": "Timed out"
        case "409": "Conflict"
        case "413": "Request too large"
        case "503": "Unavailable"
        case "507": "Out of resources"
        default: "Error"
        }
    }
}
