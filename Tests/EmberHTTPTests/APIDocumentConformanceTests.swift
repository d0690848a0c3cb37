import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// Each listener's OpenAPI document against the listener itself: every documented operation, on a
/// known and an unknown model, with and without keys, answers one of the statuses the document lists
/// for it, in a documented content type; every `$ref` resolves. (The schema of each body is checked
/// against the real server by schemathesis: `scripts/api_fuzz.py`, part of `make test`.)
@Suite struct APIDocumentConformanceTests {
    struct Operation: CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let statuses: Set<String>
        let mediaTypes: [String: [String]]
        var description: String { "\(method) \(path)" }
    }

    static func operations(_ document: JSONValue?) -> [Operation] {
        guard case .object(let paths)? = document?["paths"] else { return [] }
        var operations: [Operation] = []
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for (method, operation) in methods {
                guard case .object(let replies)? = operation["responses"], let method = HTTPRequest.Method(method.uppercased())
                else { continue }
                var mediaTypes: [String: [String]] = [:]
                for (code, reply) in replies {
                    if case .object(let content)? = reply["content"] { mediaTypes[code] = content.map(\.0) }
                }
                operations.append(Operation(method: method, path: path, statuses: Set(replies.map(\.0)), mediaTypes: mediaTypes))
            }
        }
        return operations
    }

    /// Every `{"$ref": "#/components/schemas/X"}` in the document.
    static func references(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let pairs):
            pairs.flatMap { key, value in
                if key == "$ref", case .string(let target) = value { [target] } else { references(value) }
            }
        case .array(let elements): elements.flatMap(references)
        default: []
        }
    }

    static func matches(_ contentType: String?, _ documented: [String]) -> Bool {
        guard !documented.isEmpty else { return true }
        if documented.contains("*/*") { return true }
        guard let contentType else { return false }
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return documented.contains(media)
    }

    @Test(arguments: Listener.allCases, [false, true])
    func everyOperationAnswersADocumentedStatus(_ listener: Listener, tokens: Bool) async throws {
        let service = FakeModelService(.init(models: ["mlp": ["1.0", "2.0"]]))
        var settings = HTTPSettings(enableModelAPI: true)
        let authorization = TokenAuthorization()
        if tokens { settings.tokenAuthorization = authorization }
        try await listener.test(service: service, settings: settings) { client throws in
            let document = try await client.send(.options, "/").json
            let operations = Self.operations(document)
            #expect(operations.count >= (listener == .metrics ? 3 : 12))
            for target in Self.references(document ?? .null) {
                let name = target.replacingOccurrences(of: "#/components/schemas/", with: "")
                #expect(document?["components"]?["schemas"]?[name] != nil, "\(target) does not resolve")
            }
            let key: String? =
                switch listener {
                case .inference: authorization.token(for: .inference).key
                case .management: authorization.token(for: .management).key
                case .metrics: nil
                }
            for operation in operations {
                for model in ["mlp", "nope"] {
                    for sendKey in tokens ? [true, false] : [true] {
                        let uri = operation.path.replacingOccurrences(of: "{model_name}", with: model)
                            .replacingOccurrences(of: "{model_version}", with: "1.0")
                        var headers = HTTPFields()
                        if sendKey, let key { headers[.authorization] = "Bearer \(key)" }
                        let body = operation.method == .post || operation.method == .put ? "{}" : nil
                        let response = try await client.send(
                            operation.method, uri, body: body, contentType: body.map { _ in "application/json" },
                            headers: headers)
                        let status = String(response.status.code)
                        #expect(operation.statuses.contains(status), "\(operation) as \(uri) key=\(sendKey): \(status) \(response.text)")
                        #expect(Self.matches(response.headers[.contentType], operation.mediaTypes[status] ?? []),
                                "\(operation) as \(uri): content type \(response.headers[.contentType] ?? "none")")
                    }
                }
            }
        }
    }

    /// Every `links` entry's `operationId` (what schemathesis's stateful phase follows).
    static func linkTargets(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let pairs):
            pairs.flatMap { key, value -> [String] in
                guard key == "links", case .object(let links) = value else { return linkTargets(value) }
                return links.compactMap { if case .string(let id)? = $0.1["operationId"] { id } else { nil } }
            }
        case .array(let elements): elements.flatMap(linkTargets)
        default: []
        }
    }

    @Test func registerLinksToOperationsThatExist() async throws {
        try await Listener.management.test { client throws in
            let document = try await client.send(.options, "/").json ?? .null
            var ids: [String] = []
            if case .object(let paths)? = document["paths"] {
                for case .object(let methods) in paths.map(\.1) {
                    for case .string(let id)? in methods.map({ $0.1["operationId"] }) { ids.append(id) }
                }
            }
            let targets = Self.linkTargets(document)
            #expect(Set(targets) == ["describeModel", "scaleModel", "unregisterModel", "describeManagement"])
            for target in targets { #expect(ids.contains(target), "\(target)") }
        }
    }

    @Test func theModelsManagementDocumentHasItsPaths() async throws {
        try await Listener.management.test(service: FakeModelService(.init(models: ["mlp": ["1.0"]]))) { client throws in
            let document = try await client.send(.options, "/models/mlp").json
            #expect(document?["info"]?["title"] == "RESTful Management API for: mlp")
            #expect(APIDescriptionTests.paths(document) == [
                "/models/mlp", "/models/mlp/{model_version}", "/models/mlp/{model_version}/set-default",
            ])
            let methods = Self.operations(document).map { "\($0.method) \($0.path)" }
            #expect(methods.contains("PUT /models/mlp"))
            #expect(methods.contains("DELETE /models/mlp/{model_version}"))
            // A name that would change the path's meaning is escaped in it.
            let odd = try await client.send(.options, "/models/a%2Fb%7Bc%7D").json
            #expect(APIDescriptionTests.paths(odd).first == "/models/a%2Fb%7Bc%7D")
        }
    }
}
