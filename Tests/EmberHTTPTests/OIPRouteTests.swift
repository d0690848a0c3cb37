import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The Open Inference Protocol routes in-process over the fake service: the tensor codec in both
/// directions (JSON and Triton's binary extension), the protocol's error shape, KServe v1 and
/// SageMaker routing. The real model path is in EmberServerTests/OIPClientTests.
@Suite struct OIPRouteTests {
    static let lengthHeader = HTTPField.Name("Inference-Header-Content-Length") ?? .contentLength

    /// The fake answers every prediction with two FP32 outputs and the version "1.0".
    static func service() throws -> FakeModelService {
        var answers = FakeModelService.Answers(models: ["mlp": ["1.0"], "other": ["1.0"]])
        let floats: [Float] = [0.5, -1.25, 3]
        let bytes = floats.withUnsafeBytes { Array($0) }
        var output = InferenceOutput(body: [], contentType: nil)
        output.tensors = [
            try NamedTensor(name: "output__0", datatype: .fp32, shape: [1, 3], data: bytes),
            try NamedTensor(name: "output__1", datatype: .int64, shape: [1], data: [7, 0, 0, 0, 0, 0, 0, 0]),
        ]
        output.modelVersion = "1.0"
        answers.prediction = output
        return FakeModelService(answers)
    }

    static let oneRow = #"{"id": "a1", "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [[1, 2.5]]}]}"#

    @Test func jsonTensorsGoToTheServiceAndOutputsComeBackAsJSON() async throws {
        let service = try Self.service()
        try await Listener.inference.test(service: service) { client throws in
            let reply = try await client.send(.post, "/v2/models/mlp/infer", body: Self.oneRow, contentType: "application/json")
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json == [
                "model_name": "mlp", "model_version": "1.0", "id": "a1",
                "outputs": [
                    ["name": "output__0", "datatype": "FP32", "shape": [1, 3], "data": [0.5, -1.25, 3.0]],
                    ["name": "output__1", "datatype": "INT64", "shape": [1], "data": [7]],
                ],
            ])
        }
        #expect(service.calls.first == .predict(model: "mlp", version: nil, body: [], contentType: nil))
    }

    @Test func binaryOutputsFollowTheJSONHeaderWithItsLengthInTheHeader() async throws {
        try await Listener.inference.test(service: try Self.service()) { client throws in
            let floats: [Float] = [1, 2.5]
            var body = ByteBuffer(string: #"{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}], "outputs": [{"name": "output__0", "parameters": {"binary_data": true}}]}"#)
            let headerLength = body.readableBytes
            floats.withUnsafeBytes { body.writeBytes($0) }
            let reply = try await client.execute(
                uri: "/v2/models/mlp/infer", method: .post,
                headers: [Self.lengthHeader: String(headerLength), .contentType: "application/octet-stream"], body: body)
            #expect(reply.status == .ok)
            guard let length = reply.headers[Self.lengthHeader].flatMap({ Int($0) }) else {
                Issue.record("no Inference-Header-Content-Length in \(reply.headers)")
                return
            }
            let bytes = Array(buffer: reply.body)
            #expect(bytes.count == length + 12)
            let header = try JSONValue.parse(bytes[0..<length])
            #expect(header["outputs"]?[0]?["parameters"] == ["binary_data_size": 12])
            // Outputs not asked for as binary (the fake answers both) stay JSON.
            #expect(header["outputs"]?[1]?["data"] == [7])
            let values = bytes[length...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(values == [0.5, -1.25, 3])
        }
    }

    @Test func badRequestsAre400sInTheProtocolShapeAndUnknownModels404() async throws {
        let service = try Self.service()
        try await Listener.inference.test(service: service) { client throws in
            func expect400(_ body: String, _ words: [String], headers: HTTPFields = [:]) async throws {
                var fields = headers
                fields[.contentType] = "application/json"
                let reply = try await client.execute(
                    uri: "/v2/models/mlp/infer", method: .post, headers: fields, body: ByteBuffer(string: body))
                #expect(reply.status == .badRequest, "\(body): \(reply.text)")
                guard case .string(let message)? = reply.json?["error"] else {
                    Issue.record("not the protocol's error shape: \(reply.text)")
                    return
                }
                for word in words { #expect(message.contains(word), "\(word) not in \(message)") }
            }
            try await expect400("{", ["not valid JSON"])
            try await expect400(#"{"inputs": []}"#, ["inputs"])
            try await expect400(#"{"inputs": [{"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}]}"#, ["FP99"])
            try await expect400(#"{"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]}"#, ["3 elements"])
            try await expect400(#"{"inputs": [{"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}]}"#, ["0 or more"])
            try await expect400(#"{"inputs": [{"name": "x", "shape": [2], "datatype": "INT8", "data": [1, 300]}]}"#, ["INT8", "300"])
            try await expect400(#"{"inputs": [{"name": "x", "shape": [1], "datatype": "INT32", "data": [1.5]}]}"#, ["integers"])
            try await expect400(#"{"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]}]}"#, ["BOOL"])
            // Shape products that overflow are refused before anything is allocated.
            try await expect400(
                #"{"inputs": [{"name": "x", "shape": [4611686018427387904, 4], "datatype": "FP32", "data": [1]}]}"#,
                ["too many"])
            try await expect400(
                #"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}]}"#,
                ["binary_data_size is 4", "0 remain"], headers: [Self.lengthHeader: String(Self.binaryHeader.utf8.count)])
            try await expect400(Self.binaryHeader, ["Inference-Header-Content-Length", "beyond"], headers: [Self.lengthHeader: "999"])
            try await expect400(Self.binaryHeader, ["byte count"], headers: [Self.lengthHeader: "-5"])

            let unknown = try await client.send(.post, "/v2/models/nope/infer", body: "{", contentType: "application/json")
            #expect(unknown.status == .notFound)
            #expect(unknown.json == ["error": "Model not found: nope"])
            #expect(try await client.send(.get, "/v2/models/mlp/infer").status == .methodNotAllowed)
            // After all of that the route still answers.
            #expect(try await client.send(.post, "/v2/models/mlp/infer", body: Self.oneRow).status == .ok)
        }
    }

    static let binaryHeader =
        #"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}]}"#

    @Test func serverDocumentsAndKServeAndSageMakerRoutes() async throws {
        let service = try Self.service()
        try await Listener.inference.test(service: service) { client throws in
            guard case .object(let paths)? = try await client.send(.options, "/").json?["paths"] else {
                Issue.record("no OpenAPI paths")
                return
            }
            for path in ["/v2", "/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/stats",
                         "/v1/models/{model_name}:predict", "/invocations"] {
                #expect(paths.contains { $0.0 == path }, "\(path) not in the OpenAPI document")
            }
            let server = try await client.send(.get, "/v2")
            #expect(server.json?["name"] == "ember")
            #expect(server.json?["extensions"]?.arrayCount == 4)
            // The fake describes no tensor model: metadata is a 404 in the protocol's shape.
            #expect(try await client.send(.get, "/v2/models/mlp").json == ["error": "Model not found: mlp"])

            #expect(try await client.send(.get, "/v1/models/mlp").json == ["name": "mlp", "ready": true])
            #expect(try await client.send(.get, "/v1/models/nope").status == .notFound)
            let explain = try await client.send(.post, "/v1/models/mlp:explain", body: #"{"instances": [[1]]}"#)
            #expect(explain.status == .badRequest)
            let noInstances = try await client.send(.post, "/v1/models/mlp:predict", body: #"{"rows": [1]}"#)
            #expect(noInstances.json == ["error": "The request needs \"instances\", a non-empty array."])

            let invocation = try await client.send(.post, "/invocations?model_name=other", body: "[1]")
            #expect(invocation.status == .ok)
            let ambiguous = try await client.send(.post, "/invocations", body: "[1]")
            #expect(ambiguous.status == .badRequest)
        }
        #expect(service.calls.contains(.predict(model: "other", version: nil, body: Array("[1]".utf8), contentType: nil)))
    }

    @Test func kserveReadinessOnTheManagementListener() async throws {
        try await Listener.management.test(service: try Self.service()) { client throws in
            #expect(try await client.send(.get, "/v1/models/mlp").json == ["name": "mlp", "ready": true])
            #expect(try await client.send(.post, "/v1/models/mlp").status == .methodNotAllowed)
        }
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let elements) = self { return elements.count }
        return nil
    }
}
