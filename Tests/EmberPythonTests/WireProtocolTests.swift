import Foundation
import Testing

@testable import EmberPython

/// The codec against TorchServe's own encoder and decoder (`ts.protocol.otf_message_handler`, run by
/// Fixtures/wire_fixture.py in the project's Python environment).
@Suite struct WireProtocolTests {
    /// One Python run for every response test (each run imports torch, seconds on a loaded machine).
    private static let responsesOutput = Task { try await offThePool { try PythonFixture.run("wire_fixture.py", ["responses"]) } }

    private func responses() async throws -> [String: [UInt8]] {
        let output = try await Self.responsesOutput.value
        let cases = try JSONSerialization.jsonObject(with: output) as? [[String: String]]
        var byName: [String: [UInt8]] = [:]
        for item in cases ?? [] {
            if let name = item["name"], let hex = item["hex"], let bytes = [UInt8](hex: hex) { byName[name] = bytes }
        }
        return byName
    }

    private func decode(_ bytes: [UInt8]?) throws -> WorkerResponse {
        var source = ArrayWireSource(try #require(bytes))
        let response = try WorkerResponseDecoder(maxBodySize: 1 << 20).decode(from: &source)
        #expect(source.isAtEnd)
        return response
    }

    @Test func decodesLoadReplies() async throws {
        let cases = try await responses()
        #expect(try decode(cases["load"]) == WorkerResponse(code: 200, message: "loaded model mlp"))
        #expect(try decode(cases["loadFailed"]) == WorkerResponse(code: 500, message: "Unknown exception"))
    }

    @Test func decodesAFailedBatch() async throws {
        let response = try decode(try await responses()["batchFailed"])
        #expect(response.code == 503)
        #expect(response.message == "Prediction failed")
        #expect(response.predictions.map(\.requestID) == ["a", "b"])
        #expect(response.predictions.allSatisfy { $0.statusCode == 503 && $0.body == Array("error".utf8) })
    }

    @Test func decodesPerRequestStatusContentTypeHeadersAndBodies() async throws {
        let response = try decode(try await responses()["predictions"])
        #expect(response.code == 200)
        let predictions = response.predictions
        try #require(predictions.count == 3)
        #expect(predictions[0].requestID == "r0")
        #expect(predictions[0].contentType == "text/plain")
        #expect(predictions[0].body == Array("héllo".utf8))
        #expect(predictions[1].statusCode == 507)
        #expect(predictions[1].reasonPhrase == "Invalid response")
        #expect(predictions[1].body == [0x00, 0x01, 0xFF])
        #expect(predictions[2].headers["x-extra"] == "yes")
        #expect(predictions[2].contentType == "")
        // json.dumps(value, indent=2), as TorchServe answers a dict.
        #expect(String(decoding: predictions[2].body, as: UTF8.self) == "{\n  \"b\": [\n    1,\n    2\n  ],\n  \"a\": 0.5\n}")
        #expect(predictions.allSatisfy { !$0.isIntermediate })
    }

    @Test func recognisesIntermediateChunks() async throws {
        let response = try decode(try await responses()["intermediate"])
        #expect(response.predictions.first?.isIntermediate == true)
        #expect(response.predictions.first?.body == Array("chunk".utf8))
    }

    @Test func loadRequestReadsBackInTorchServesWorker() async throws {
        let request = LoadRequest(
            modelName: "mlp", modelPath: "/tmp/models/mlp", batchSize: 8, handler: "handler.py:handle", gpuID: -1,
            envelope: "json", limitMaxImagePixels: false)
        let hex = request.encoded().hex
        let output = try await offThePool { try PythonFixture.run("wire_fixture.py", ["decode"], input: hex) }
        let parsed = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        #expect(parsed?["cmd"] as? String == "L")
        #expect(parsed?["rest"] as? Int == 0)
        let message = parsed?["msg"] as? [String: Any]
        #expect(Self.text(message?["modelName"]) == "mlp")
        #expect(Self.text(message?["modelPath"]) == "/tmp/models/mlp")
        #expect(Self.text(message?["handler"]) == "handler.py:handle")
        #expect(Self.text(message?["envelope"]) == "json")
        #expect(message?["batchSize"] as? Int == 8)
        #expect(message?["gpu"] == nil)
        #expect(message?["limitMaxImagePixels"] as? Bool == false)
    }

    @Test func inferenceRequestReadsBackWithIDsHeadersAndParameters() async throws {
        let batch = InferenceRequest(requests: [
            WorkerRequest(
                requestID: "id-1", headers: [("Content-Type", "application/json"), ("x-trace", "7")],
                parameters: [.init(name: "body", contentType: "application/json", value: Array("[1, 2]".utf8))]),
            WorkerRequest(
                requestID: "id-2", headers: [],
                parameters: [
                    .init(name: "data", contentType: "", value: [0xFF, 0x00]),
                    .init(name: "note", contentType: "text/plain", value: Array("ça".utf8)),
                ]),
        ])
        let hex = batch.encoded().hex
        let output = try await offThePool { try PythonFixture.run("wire_fixture.py", ["decode"], input: hex) }
        let parsed = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        #expect(parsed?["cmd"] as? String == "I")
        #expect(parsed?["rest"] as? Int == 0)
        let requests = try #require(parsed?["msg"] as? [[String: Any]])
        try #require(requests.count == 2)
        #expect(Self.text(requests[0]["requestId"]) == "id-1")
        let headers = requests[0]["headers"] as? [[String: Any]]
        #expect(headers?.map { Self.text($0["name"]) } == ["Content-Type", "x-trace"])
        #expect(headers?.map { Self.text($0["value"]) } == ["application/json", "7"])
        let first = requests[0]["parameters"] as? [[String: Any]]
        // The worker json.loads an application/json input.
        #expect(first?.first?["value"] as? [Int] == [1, 2])
        let second = try #require(requests[1]["parameters"] as? [[String: Any]])
        #expect(second.map { $0["name"] as? String } == ["data", "note"])
        #expect(Self.bytes(second[0]["value"]) == [0xFF, 0x00])
        #expect(second[1]["value"] as? String == "ça")
    }

    @Test func refusesNegativeAndOversizedLengthsAndTruncation() throws {
        let decoder = WorkerResponseDecoder(maxBodySize: 16)
        var negative = ArrayWireSource([0, 0, 0, 200, 0xFF, 0xFF, 0xFF, 0xFE])
        #expect(throws: WireError.self) { try decoder.decode(from: &negative) }
        var oversized = ArrayWireSource([0, 0, 0, 200, 0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: WireError.self) { try decoder.decode(from: &oversized) }
        var truncated = ArrayWireSource([0, 0, 0, 200, 0, 0, 0, 5, 0x61])
        #expect(throws: WireError.endOfStream) { try decoder.decode(from: &truncated) }
    }

    private static func text(_ value: Any?) -> String? {
        bytes(value).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func bytes(_ value: Any?) -> [UInt8]? {
        guard let encoded = (value as? [String: Any])?["b64"] as? String, let data = Data(base64Encoded: encoded) else {
            return nil
        }
        return [UInt8](data)
    }
}
