import EmberArchive
import Foundation
import Testing

/// The Open Inference Protocol against the real server with Triton's own client library and
/// perf_analyzer (`Fixtures/oip_client.py`, in the project's Python environment): documents, JSON
/// and binary tensors, an image model by tensor and by encoded bytes, classification, the bad-input
/// 400s, KServe v1, SageMaker, and a few seconds of perf_analyzer load.
@Suite(.serialized) struct OIPClientTests {
    static let repository = TestServer.testsDirectory.deletingLastPathComponent()

    /// The project's Python environment, made by the script `make test` and CI use (quick when it exists).
    /// The project's Python environment, made or brought up to date once per test process: suites
    /// that run side by side must not run pip into the same environment at once.
    static func python() throws -> String { try environment.get() }

    private static let environment = Result { () throws -> String in
        let output = try run(repository.appendingPathComponent("scripts/install-python-env.sh").path, ["--quiet"])
        guard output.status == 0, let last = output.text.split(separator: "\n").last else {
            throw PythonEnvironmentError(message: "scripts/install-python-env.sh failed:\n\(output.text)")
        }
        return String(last)
    }

    struct PythonEnvironmentError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The files the client script reads, under the names it expects.
    static func clientFixtures() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ember-oip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = [
            "example_mlp.pt": repository.appendingPathComponent("examples/mlp/mlp.pt"),
            "tiny_classifier.pt": TestServer.fixture("EmberTorchTests/Fixtures/tiny_classifier.pt"),
            "index_to_name.json": TestServer.fixture("EmberTorchTests/Fixtures/index_to_name.json"),
            "landscape.jpg": TestServer.fixture("EmberTorchTests/Fixtures/images/landscape.jpg"),
        ]
        for (name, source) in files {
            try FileManager.default.copyItem(at: source, to: directory.appendingPathComponent(name))
        }
        return directory
    }

    @Test func tritonClientAndPerfAnalyzerWorkAgainstEmberUnchanged() async throws {
        let python = try await offThePool { try Self.python() }
        let fixtures = try Self.clientFixtures()
        defer { try? FileManager.default.removeItem(at: fixtures) }
        try await TestServer.with(models: ["mlp.mar", "classifier.mar"]) { server in
            // The example MLP (16 features, 10 classes) with its own handler spec and model-config.yaml.
            let examples = Self.repository.appendingPathComponent("examples/mlp")
            try ArchiveWriter(
                modelName: "example_mlp", version: "1.0", handler: examples.appendingPathComponent("mlp-handler.yaml").path,
                serializedFile: examples.appendingPathComponent("mlp.pt"), exportPath: server.modelStore,
                configFile: examples.appendingPathComponent("model-config.yaml")
            ).write()
            let registered = try await server.manage("POST", "/models?url=example_mlp.mar&synchronous=true")
            #expect(registered.status == 200, "\(registered.text)")
            // perf_analyzer reads the statistics of integer versions only (Triton's versions are integers).
            try ArchiveWriter(
                modelName: "perf_mlp", version: "1", handler: examples.appendingPathComponent("mlp-handler.yaml").path,
                serializedFile: examples.appendingPathComponent("mlp.pt"), exportPath: server.modelStore,
                configFile: examples.appendingPathComponent("model-config.yaml")
            ).write()
            let perfModel = try await server.manage("POST", "/models?url=perf_mlp.mar&synchronous=true")
            #expect(perfModel.status == 200, "\(perfModel.text)")
            let script = TestServer.fixture("EmberServerTests/Fixtures/oip_client.py").path
            let port = server.inference
            let result = try await offThePool {
                try Self.run(python, [script, "--url", "127.0.0.1:\(port)", "--fixtures", fixtures.path, "--perf-analyzer"])
            }
            #expect(result.status == 0, "\(result.text)")
            #expect(result.text.contains("0 failing"), "\(result.text)")
        }
    }

    @Test func tensorRequestsRoundTripOverHTTPInJSONAndBinary() async throws {
        try await TestServer.with(models: ["mlp.mar"]) { server in
            // The test MLP: 4 features, 3 outputs; expected values from TorchBackendTests/Fixtures/expected.json.
            let json = #"{"id": "7", "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [[0.5, -1.0, 2.0, 0.25], [1, 1, 1, 1]]}]}"#
            let reply = try await server.request(
                "POST", port: server.inference, "/v2/models/mlp/infer", body: Data(json.utf8), contentType: "application/json")
            #expect(reply.status == 200, "\(reply.text)")
            let expected = try Self.expectedMLPOutput()
            let answer = reply.json?["outputs"]?[0]
            #expect(reply.json?["id"] == "7")
            #expect(answer?["shape"] == [2, 3])
            guard case .array(let values)? = answer?["data"] else {
                Issue.record("no data in \(reply.text)")
                return
            }
            let numbers = values.compactMap { value -> Double? in
                switch value {
                case .double(let number): number
                case .int(let number): Double(number)
                default: nil
                }
            }
            #expect(numbers.count == 6)
            for (actual, wanted) in zip(numbers, expected) { #expect(abs(actual - wanted) < 1e-5) }

            // The same rows as binary: a JSON header, then 32 little-endian floats' bytes.
            var floats: [Float] = [0.5, -1.0, 2.0, 0.25, 1, 1, 1, 1]
            let raw = floats.withUnsafeMutableBytes { Data($0) }
            let header = Data(#"{"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "parameters": {"binary_data_size": 32}}], "outputs": [{"name": "output__0", "parameters": {"binary_data": true}}]}"#.utf8)
            let binary = try await server.request(
                "POST", port: server.inference, "/v2/models/mlp/infer", body: header + raw,
                contentType: "application/octet-stream", headers: ["Inference-Header-Content-Length": "\(header.count)"])
            #expect(binary.status == 200, "\(binary.text)")
            let headerLength = Int(binary.headers["inference-header-content-length"] ?? "") ?? -1
            #expect(headerLength > 0 && binary.body.count == headerLength + 24)
            if headerLength > 0, binary.body.count == headerLength + 24 {
                let outputs = binary.body.suffix(24).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                for (actual, wanted) in zip(outputs, expected) { #expect(abs(Double(actual) - wanted) < 1e-5) }
            }

            // A header length past the body: 400 in the protocol's shape; the server goes on serving.
            let beyond = try await server.request(
                "POST", port: server.inference, "/v2/models/mlp/infer", body: header + raw,
                contentType: "application/octet-stream", headers: ["Inference-Header-Content-Length": "100000"])
            #expect(beyond.status == 400)
            #expect(beyond.json?["error"] != nil)
            let again = try await server.request(
                "POST", port: server.inference, "/v2/models/mlp/infer", body: Data(json.utf8), contentType: "application/json")
            #expect(again.status == 200)

            // The warm-up forward at load is in describe and in the metrics.
            let describe = try await server.manage("GET", "/models/mlp")
            guard case .double(let warmUp)? = describe.json?[0]?["warmUpMilliseconds"] else {
                Issue.record("no warmUpMilliseconds in \(describe.text)")
                return
            }
            #expect(warmUp > 0)
            let metrics = try await server.request("GET", port: server.metricsPort, "/metrics")
            #expect(metrics.text.contains(#"ember_model_warmup_seconds{model_name="mlp",model_version="1.0""#), "\(metrics.text)")
        }
    }

    /// The test MLP's output for the two rows above, as make_fixtures.py computed it with PyTorch.
    static func expectedMLPOutput() throws -> [Double] {
        let data = try Data(contentsOf: TestServer.fixture("TorchBackendTests/Fixtures/expected.json"))
        let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard let mlp = (document?["mlp"] as? [String: Any])?["output"] as? [Double] else {
            throw PythonEnvironmentError(message: "expected.json has no mlp.output: \(document?.keys.sorted() ?? [])")
        }
        return mlp
    }
}
