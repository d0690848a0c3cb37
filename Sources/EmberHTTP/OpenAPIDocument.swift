import EmberCore

/// The OpenAPI 3 documents served at `OPTIONS /` and `/api-description`: every route, parameter,
/// request body and response of each listener, as Ember really serves it (schemathesis checks the
/// server against them: `scripts/schemathesis.sh`). The paths are in `OpenAPIInferencePaths.swift` and
/// `OpenAPIManagementPaths.swift`, the body schemas in `OpenAPISchemas.swift`.
enum OpenAPIDocument {
    enum Listener: Sendable { case inference, management, metrics }

    /// What changes a document: the version, and whether keys are required (then every route but the
    /// open ones names the bearer scheme and TorchServe's 400 for a missing or wrong key).
    struct Context: Sendable {
        var version: String
        var tokens: Bool = false
        var healthProbesWithoutToken = false
        var modelAPI = false
    }

    static func document(for listener: Listener, settings: HTTPSettings) -> JSONValue {
        document(for: listener, context: context(settings))
    }

    static func context(_ settings: HTTPSettings) -> Context {
        Context(
            version: settings.version, tokens: settings.tokenAuthorization != nil,
            healthProbesWithoutToken: settings.healthProbesWithoutToken, modelAPI: settings.enableModelAPI)
    }

    static func document(for listener: Listener, context: Context) -> JSONValue {
        var paths: [(String, JSONValue)] = [
            ("/", ["options": open(operation("apiDescription", "This document (OpenAPI 3).", [document200]))]),
            ("/api-description", [
                "get": open(operation("apiDescriptionGet", "This document; any method answers it.", [document200])),
            ]),
        ]
        // The metrics listener never asks for a key.
        let secured = context.tokens && listener != .metrics
        switch listener {
        case .inference: paths += OpenAPIInferencePaths.paths(context)
        case .management: paths += OpenAPIManagementPaths.paths(context)
        case .metrics: paths.append(("/metrics", metricsPath))
        }
        var pairs: [(String, JSONValue)] = [
            ("openapi", "3.0.1"),
            ("info", [
                "title": "Ember APIs (TorchServe-compatible)",
                "description": "Ember serves TorchServe's REST APIs from one native process.",
                "version": .string(context.version),
            ]),
            ("paths", .object(secured ? paths.map { ($0.0, requireKey($0.1)) } : paths)),
        ]
        var components = OpenAPISchemas.components(for: listener)
        if secured, case .object(var parts) = components {
            parts.append(("securitySchemes", ["token": ["type": "http", "scheme": "bearer",
                                                        "description": "The listener's key from key_file.json."]]))
            components = .object(parts)
            pairs.append(("security", [["token": []]]))
        }
        pairs.append(("components", components))
        return .object(pairs)
    }

    /// `GET /metrics` (any path whose first segment is `metrics`).
    private static var metricsPath: JSONValue {
        [
            "get": operation(
                "metrics", "Prometheus text format 0.0.4; repeat name[] to keep only those families.",
                parameters: [["in": "query", "name": "name[]", "required": false, "style": "form", "explode": true,
                              "schema": OpenAPISchemas.array(OpenAPISchemas.string)]],
                [reply("200", "The metric families", "text/plain", OpenAPISchemas.string)]),
        ]
    }

    // MARK: Building blocks

    /// One operation.
    static func operation(
        _ id: String, _ summary: String, parameters: [JSONValue] = [], body: JSONValue? = nil, _ replies: [(String, JSONValue)]
    ) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("operationId", .string(id)), ("summary", .string(summary))]
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body { pairs.append(("requestBody", body)) }
        pairs.append(("responses", .object(replies)))
        return .object(pairs)
    }

    /// An operation that never needs a key (`security: []`), even when the listener requires one.
    static func open(_ operation: JSONValue) -> JSONValue {
        guard case .object(var pairs) = operation else { return operation }
        pairs.append(("security", []))
        return .object(pairs)
    }

    /// Adds TorchServe's 400 for a missing or wrong key to every operation of a path item that is not open.
    private static func requireKey(_ item: JSONValue) -> JSONValue {
        guard case .object(let methods) = item else { return item }
        return .object(methods.map { method, operation in
            guard case .object(var pairs) = operation, operation["security"] == nil,
                case .object(var replies)? = operation["responses"]
            else { return (method, operation) }
            let rejected = reply("400", "Bad request, or a missing or wrong key (InvalidKeyException)", schema: "Error")
            if let index = replies.firstIndex(where: { $0.0 == "400" }) {
                // The key is checked before the route, so a 400 is in TorchServe's shape or the route's own.
                let routeOwn = replies[index].1["content"]?["application/json"]?["schema"]
                if let routeOwn, routeOwn != OpenAPISchemas.reference("Error") {
                    replies[index] = reply("400", "Bad request, or a missing or wrong key",
                                           "application/json", ["anyOf": [routeOwn, OpenAPISchemas.reference("Error")]])
                }
            } else {
                replies.append(rejected)
            }
            replies.sort { $0.0 < $1.0 }
            if let index = pairs.firstIndex(where: { $0.0 == "responses" }) { pairs[index] = ("responses", .object(replies)) }
            return (method, .object(pairs))
        })
    }

    /// A response with a JSON body of a named schema (`OpenAPISchemas`).
    static func reply(_ code: String, _ description: String, schema: String) -> (String, JSONValue) {
        reply(code, description, "application/json", OpenAPISchemas.reference(schema))
    }

    static func reply(_ code: String, _ description: String, _ mediaType: String, _ schema: JSONValue) -> (String, JSONValue) {
        let content: JSONValue = ["schema": schema]
        return (code, ["description": .string(description), "content": .object([(mediaType, content)])])
    }

    /// A response whose body and content type are the model's handler's (any, or none).
    static func handlerReply(_ code: String, _ description: String) -> (String, JSONValue) {
        (code, ["description": .string(description), "content": ["*/*": ["schema": [:]]]])
    }

    /// TorchServe-shaped error replies for these codes.
    static func errors(_ codes: [String]) -> [(String, JSONValue)] {
        codes.map { reply($0, description(of: $0), schema: "Error") }
    }

    /// The Open Inference Protocol's `{"error": …}` replies for these codes.
    static func oipErrors(_ codes: [String]) -> [(String, JSONValue)] {
        codes.map { reply($0, description(of: $0), schema: "OIPError") }
    }

    static let document200 = reply("200", "The OpenAPI document", schema: "OpenAPIDocument")

    static func pathParameter(_ name: String, _ description: String) -> JSONValue {
        ["in": "path", "name": .string(name), "required": true, "description": .string(description),
         "schema": OpenAPISchemas.string]
    }

    static func queryParameter(_ name: String, _ type: String, _ description: String) -> JSONValue {
        ["in": "query", "name": .string(name), "required": false, "description": .string(description),
         "schema": ["type": .string(type)]]
    }

    static func description(of code: String) -> String {
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
        case "500": "The model failed, ran past its response timeout, or answered more than max_response_size"
        case "503": "No worker, the queue is full, or the handler failed"
        case "507": "The model ran out of memory"
        default: "Error"
        }
    }
}
