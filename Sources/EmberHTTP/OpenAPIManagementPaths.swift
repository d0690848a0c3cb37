import EmberCore

/// The management listener's paths (contract §3): list, register, describe, scale, unregister,
/// set-default, KServe v1 readiness and, with token authorization, `/token`.
enum OpenAPIManagementPaths {
    typealias Doc = OpenAPIDocument

    static func paths(_ context: Doc.Context) -> [(String, JSONValue)] {
        var paths: [(String, JSONValue)] = [
            ("/models", ["get": list, "post": register]),
            ("/models/{model_name}", modelOperations(model: .parameter, versioned: false)),
            ("/models/{model_name}/{model_version}", modelOperations(model: .parameter, versioned: true)),
            ("/models/{model_name}/{model_version}/set-default", setDefault(model: .parameter)),
            ("/v1/models/{model_name}", ["get": Doc.operation(
                "kserveModelReady", "KServe v1 readiness: name and ready.", parameters: [modelParameter],
                [Doc.reply("200", "OK", schema: "ModelReadiness")] + Doc.errors(["404"]))]),
        ]
        if context.tokens {
            paths.append(("/token", ["get": Doc.operation(
                "rotateToken", "Makes a new inference or management key; needs the API key (key_file.json).",
                parameters: [Doc.queryParameter("type", "string", "inference or management.")],
                [("200", ["description": "Rotated (the body is a single newline)", "content": ["application/json": [:]]])]
                    + Doc.errors(["405"]))]))
        }
        return paths
    }

    /// `OPTIONS /models/{model}[/{version}]`: the management operations on that one model, its name in the paths.
    static func modelDocument(_ model: String) -> JSONValue {
        let base = "/models/" + escapedForPath(model)
        return [
            "openapi": "3.0.1",
            "info": ["title": .string("RESTful Management API for: \(model)"), "version": "1.0.0"],
            "paths": [
                base: modelOperations(model: .named, versioned: false),
                base + "/{model_version}": modelOperations(model: .named, versioned: true),
                base + "/{model_version}/set-default": setDefault(model: .named),
            ],
            "components": OpenAPISchemas.components(for: .management),
        ]
    }

    /// Whether the model is a path parameter (the listener's document) or fixed in the path (a model's own).
    enum Model { case parameter, named }

    private static let modelParameter = Doc.pathParameter("model_name", "A registered model's name.")
    private static let versionParameter = Doc.pathParameter(
        "model_version", "One of the model's versions (describe also takes \"all\").")

    /// A name as a path segment: `%`, `/`, `{`, `}`, `?` and `#` would change the path's meaning.
    private static func escapedForPath(_ name: String) -> String {
        var escaped = ""
        for byte in name.utf8 {
            if "%/{}?#".utf8.contains(byte) || byte < 0x21 || byte > 0x7e {
                escaped += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return escaped
    }

    private static var list: JSONValue {
        Doc.operation(
            "listModels", "Registered models (default versions), a page at a time.",
            parameters: [
                Doc.queryParameter("limit", "integer", "Page size, 1…100 (anything else: 100); beyond a 32-bit integer: 400."),
                Doc.queryParameter("next_page_token", "string", "The offset nextPageToken gave; beyond a 32-bit integer: 400."),
            ],
            [Doc.reply("200", "One page", schema: "ModelList")] + Doc.errors(["400"]))
    }

    private static var register: JSONValue {
        let integers = ["batch_size", "max_batch_delay", "initial_workers", "response_timeout", "startup_timeout"]
        let parameters: [JSONValue] =
            [Doc.queryParameter("url", "string", "An archive in the model store, or an allowed URL (required unless in the body)."),
             Doc.queryParameter("model_name", "string", "The name to register it under (default: the archive's)."),
             Doc.queryParameter("handler", "string", "Overrides the archive's handler."),
             Doc.queryParameter("runtime", "string", "Overrides the archive's runtime."),
             Doc.queryParameter("synchronous", "boolean", "Wait for the workers (default true).")]
            + integers.map { Doc.queryParameter($0, "integer", "Overrides the archive's and the server's setting; checked against its range.") }
        return Doc.operation(
            "registerModel", "Registers a model archive (needs enable_model_api).", parameters: parameters,
            body: ["required": false,
                   "content": ["application/json": ["schema": OpenAPISchemas.reference("RegisterRequest")]]],
            [registered("200", "Registered"), registered("202", "Accepted; workers starting")]
                + Doc.errors(["400", "404", "405", "409", "500", "507"]))
    }

    /// A register answer, with links to what can be done next with the name the request gave
    /// (schemathesis's stateful phase follows them).
    private static func registered(_ code: String, _ description: String) -> (String, JSONValue) {
        let (code, reply) = Doc.reply(code, description, schema: "Status")
        guard case .object(var pairs) = reply else { return (code, reply) }
        let name: JSONValue = ["model_name": "$request.query.model_name"]
        pairs.append(("links", [
            "describe": ["operationId": "describeModel", "parameters": name],
            "scale": ["operationId": "scaleModel", "parameters": name],
            "unregister": ["operationId": "unregisterModel", "parameters": name],
            "operations": ["operationId": "describeManagement", "parameters": name],
        ]))
        return (code, .object(pairs))
    }

    private static func modelOperations(model: Model, versioned: Bool) -> JSONValue {
        var parameters: [JSONValue] = model == .parameter ? [modelParameter] : []
        if versioned { parameters.append(versionParameter) }
        let suffix = versioned ? "Version" : ""
        var scale = parameters + [
            Doc.queryParameter("min_worker", "integer", "Workers to keep (default 1); capped by max_workers_per_model and max_workers."),
            Doc.queryParameter("max_worker", "integer", "Upper bound (default min_worker); not less than min_worker."),
            Doc.queryParameter("synchronous", "boolean", "Wait until the workers are up (default false)."),
        ]
        if !versioned { scale.append(Doc.queryParameter("model_version", "string", "The version to scale (default: the default).")) }
        return [
            "get": Doc.operation(
                "describeModel" + suffix, "Describes the model's versions (default, one, or all).", parameters: parameters,
                [Doc.reply("200", "The describe array", schema: "ModelDescription")] + Doc.errors(["404"])),
            "put": Doc.operation(
                "scaleModel" + suffix, "Scales the workers.", parameters: scale,
                [Doc.reply("200", "Scaled", schema: "Status"), Doc.reply("202", "Accepted", schema: "Status"),
                 Doc.reply("206", "Scaling in progress", schema: "Status")]
                    + Doc.errors(["400", "404", "500", "507"])),
            "delete": Doc.operation(
                "unregisterModel" + suffix, "Unregisters the model (needs enable_model_api).", parameters: parameters,
                [Doc.reply("200", "Unregistered", schema: "Status")] + Doc.errors(["403", "404", "405", "408"])),
            "options": Doc.operation(
                "describeManagement" + suffix, "The model's management operations as an OpenAPI document.",
                parameters: parameters, [Doc.document200]),
        ]
    }

    private static func setDefault(model: Model) -> JSONValue {
        var parameters: [JSONValue] = model == .parameter ? [modelParameter] : []
        parameters.append(versionParameter)
        return [
            "get": Doc.operation(
                "describeDefault", "Describes the default version (TorchServe routes GET here to describe).",
                parameters: parameters, [Doc.reply("200", "The describe array", schema: "ModelDescription")] + Doc.errors(["404"])),
            "put": Doc.operation(
                "setDefault", "Makes the version the default.", parameters: parameters,
                [Doc.reply("200", "Done", schema: "Status")] + Doc.errors(["404"])),
        ]
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
