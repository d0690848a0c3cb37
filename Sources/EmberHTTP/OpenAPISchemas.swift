import EmberCore

/// The JSON Schemas of the bodies Ember sends and reads, as `components.schemas` of the OpenAPI
/// documents. They name the fields every answer carries (`required`) and leave room for the rest, so a
/// client (or schemathesis) can check an answer against them.
enum OpenAPISchemas {
    static func reference(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// The schemas a listener's document refers to.
    static func components(for listener: OpenAPIDocument.Listener) -> JSONValue {
        var schemas: [(String, JSONValue)] = [("Error", error), ("OpenAPIDocument", openAPIDocument)]
        switch listener {
        case .inference:
            schemas += [
                ("Health", object(["status": string])), ("OIPError", object(["error": string])),
                ("ModelReadiness", object(["name": string, "ready": boolean])),
                ("ServerMetadata", object(["name": string, "version": string, "extensions": array(string)])),
                ("Live", object(["live": boolean])), ("Ready", object(["ready": boolean])),
                ("ModelMetadata", modelMetadata), ("ModelConfig", modelConfig), ("ModelStatistics", statistics),
                ("InferRequest", inferRequest), ("InferResponse", inferResponse),
                ("KServeRequest", object(["instances": array(.object([]))])),
                ("KServeResponse", object(["predictions": array(.object([]))])),
            ]
        case .management:
            schemas += [
                ("Status", object(["status": string])), ("ModelList", modelList),
                ("ModelDescription", array(modelDescription)),
                ("ModelReadiness", object(["name": string, "ready": boolean])),
                ("RegisterRequest", registerRequest),
            ]
        case .metrics:
            break
        }
        return ["schemas": .object(schemas)]
    }

    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static let boolean: JSONValue = ["type": "boolean"]
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    /// An object with these fields, all required, and any others.
    static func object(_ required: JSONValue, optional: JSONValue = [:]) -> JSONValue {
        let named = fields(required)
        var pairs: [(String, JSONValue)] = [("type", "object"), ("properties", .object(named + fields(optional)))]
        if !named.isEmpty { pairs.append(("required", .array(named.map { .string($0.0) }))) }
        return .object(pairs)
    }

    private static func fields(_ value: JSONValue) -> [(String, JSONValue)] {
        if case .object(let pairs) = value { pairs } else { [] }
    }

    /// TorchServe's error body (contract §1.4).
    private static let error = object(["code": integer, "type": string, "message": string])

    /// What `OPTIONS /` and the per-model `OPTIONS` answer.
    private static let openAPIDocument = object(
        ["openapi": string, "info": object(["title": string, "version": string]), "paths": ["type": "object"]])

    private static let modelList = object(
        ["models": array(object(["modelName": string, "modelUrl": string]))], optional: ["nextPageToken": string])

    private static let worker = object(
        ["id": string, "status": string], optional: ["startTime": string, "memoryUsage": integer, "pid": integer,
                                                   "gpu": boolean, "gpuUsage": string])

    private static let modelDescription = object(
        [
            "modelName": string, "modelVersion": string, "modelUrl": string, "runtime": string,
            "minWorkers": integer, "maxWorkers": integer, "batchSize": integer, "maxBatchDelay": integer,
            "responseTimeout": integer, "loadedAtStartup": boolean, "workers": array(worker),
        ],
        optional: [
            "startupTimeout": integer,
            "jobQueueStatus": object(["remainingCapacity": integer, "pendingRequests": integer]),
            "warmUpMilliseconds": ["type": "number"], "status": string,
        ])

    /// `POST /models` with `Content-Type: application/json`. TorchServe reads it leniently: numbers and
    /// booleans may also come as strings.
    private static let registerRequest: JSONValue = {
        let lenientInteger: JSONValue = ["oneOf": [integer, string]]
        let lenientBoolean: JSONValue = ["oneOf": [boolean, string]]
        return object(
            ["url": string],
            optional: [
                "model_name": string, "handler": string, "runtime": string, "batch_size": lenientInteger,
                "max_batch_delay": lenientInteger, "initial_workers": lenientInteger, "synchronous": lenientBoolean,
                "response_timeout": lenientInteger, "startup_timeout": lenientInteger,
            ])
    }()

    private static let tensorSpec = object(["name": string, "datatype": string, "shape": array(integer)])

    private static let modelMetadata = object(
        ["name": string, "versions": array(string), "platform": string, "inputs": array(tensorSpec),
         "outputs": array(tensorSpec)])

    private static let modelConfig = object(
        ["name": string, "platform": string, "max_batch_size": integer, "input": array(.object([])),
         "output": array(.object([]))])

    private static let statistics = object(
        ["model_stats": array(object(["name": string, "version": string, "inference_count": integer,
                                      "execution_count": integer, "inference_stats": ["type": "object"]]))])

    /// One tensor of an infer request or response: `data` is a flat or nested array, absent for binary data.
    private static let tensor = object(
        ["name": string, "shape": array(integer), "datatype": string],
        optional: ["data": ["type": "array"], "parameters": ["type": "object"]])

    private static let inferRequest = object(
        ["inputs": array(tensor)],
        optional: ["id": string, "parameters": ["type": "object"],
                   "outputs": array(object(["name": string], optional: ["parameters": ["type": "object"]]))])

    private static let inferResponse = object(
        ["model_name": string, "outputs": array(tensor)], optional: ["model_version": string, "id": string])
}
