import EmberArchive
import EmberHTTP
import Foundation
import Testing

/// The gRPC listeners against the real server with real clients (`Fixtures/grpc_client.py`, in the
/// project's Python environment): a grpcio client that grpcio-tools generates from protos/ at run
/// time for TorchServe's inference and management services, and Triton's tritonclient.grpc and
/// perf_analyzer (`-i grpc`) for the Open Inference Protocol service.
@Suite(.serialized) struct GRPCClientTests {
    static let protos = OIPClientTests.repository.appendingPathComponent("protos")
    static let script = TestServer.fixture("EmberServerTests/Fixtures/grpc_client.py").path

    /// Ping, predictions, both streams, management, tritonclient and perf_analyzer; bad input answered
    /// with clear codes and the server still serving.
    @Test func torchServeAndTritonClientsWorkOverGRPC() async throws {
        let python = try await offThePool { try OIPClientTests.python() }
        let fixtures = try OIPClientTests.clientFixtures()
        defer { try? FileManager.default.removeItem(at: fixtures) }
        try await TestServer.with(models: ["mlp.mar"]) { server in
            let examples = OIPClientTests.repository.appendingPathComponent("examples/mlp")
            // The example MLP (16 features, 10 classes), and the same model as version "1" for
            // perf_analyzer, which reads the statistics of integer versions only.
            for (name, version) in [("example_mlp", "1.0"), ("perf_mlp", "1")] {
                try ArchiveWriter(
                    modelName: name, version: version, handler: examples.appendingPathComponent("mlp-handler.yaml").path,
                    serializedFile: examples.appendingPathComponent("mlp.pt"), exportPath: server.modelStore,
                    configFile: examples.appendingPathComponent("model-config.yaml")
                ).write()
                let registered = try await server.manage("POST", "/models?url=\(name).mar&synchronous=true")
                #expect(registered.status == 200, "\(registered.text)")
            }
            let arguments = [
                Self.script, "--mode", "main", "--inference", "127.0.0.1:\(server.grpcInference)",
                "--management", "127.0.0.1:\(server.grpcManagement)", "--rest", "127.0.0.1:\(server.inference)",
                "--metrics", "127.0.0.1:\(server.metricsPort)", "--protos", Self.protos.path,
                "--fixtures", fixtures.path, "--model-store", server.modelStore.path, "--perf-analyzer",
            ]
            let result = try await offThePool { try OIPClientTests.run(python, arguments) }
            #expect(result.status == 0, "\(result.text)")
            #expect(result.text.contains(", 0 failing"), "\(result.text)")
            // After every bad request, REST still serves too.
            #expect(try await server.request("GET", port: server.inference, "/ping").status == 200)
        }
    }

    /// Token authorization on (keys from the `authorization: Bearer` metadata, per listener, the health
    /// calls open with `health_probes_without_token`) and the model API off (register/unregister
    /// PERMISSION_DENIED).
    @Test func tokensAndModelAPIControlOverGRPC() async throws {
        let python = try await offThePool { try OIPClientTests.python() }
        let tokens = TokenAuthorization()
        let lines = AccessLogTests.Collected()
        let accessLog = AccessLog(sink: .init { bytes in lines.bytes.withLock { $0 += bytes } }, flushInterval: .milliseconds(20))
        try await TestServer.with(
            models: ["mlp.mar"], extraConfiguration: "enable_model_api=false\nhealth_probes_without_token=true", tokens: tokens,
            accessLog: accessLog
        ) { server in
            let arguments = [
                Self.script, "--mode", "tokens", "--inference", "127.0.0.1:\(server.grpcInference)",
                "--management", "127.0.0.1:\(server.grpcManagement)", "--protos", Self.protos.path,
                // One argument each: a key may start with "-".
                "--inference-key=\(tokens.token(for: .inference).key)",
                "--management-key=\(tokens.token(for: .management).key)",
            ]
            let result = try await offThePool { try OIPClientTests.run(python, arguments) }
            #expect(result.status == 0, "\(result.text)")
            #expect(result.text.contains(", 0 failing"), "\(result.text)")
        }
        // Every call has its access-log line with its gRPC status: 7 PERMISSION_DENIED, 0 OK.
        accessLog.close()
        let text = lines.text
        #expect(text.contains(#""POST /org.pytorch.serve.grpc.management.ManagementAPIsService/ListModels gRPC" 7 "#), "\(text)")
        #expect(text.contains(#""POST /org.pytorch.serve.grpc.management.ManagementAPIsService/ListModels gRPC" 0 "#), "\(text)")
        #expect(text.contains(#""POST /org.pytorch.serve.grpc.inference.InferenceAPIsService/Predictions gRPC" 0 "#), "\(text)")
    }

    /// `enable_grpc_ssl=true`: both gRPC listeners serve TLS with `certificate_file`/`private_key_file`.
    @Test(.enabled(if: TLSTests.toolsAvailable(), "needs the openssl command line tool"))
    func grpcListenersServeTLSWhenEnabled() async throws {
        let python = try await offThePool { try OIPClientTests.python() }
        let directory = try TLSTests.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let extra = "enable_grpc_ssl=true\ncertificate_file=\(certificate)\nprivate_key_file=\(directory.appendingPathComponent("key.pem").path)"
        try await TestServer.with(models: ["mlp.mar"], extraConfiguration: extra) { server in
            let arguments = [
                Self.script, "--mode", "tls", "--inference", "127.0.0.1:\(server.grpcInference)",
                "--management", "127.0.0.1:\(server.grpcManagement)", "--protos", Self.protos.path,
                "--root-certificate", certificate,
            ]
            let result = try await offThePool { try OIPClientTests.run(python, arguments) }
            #expect(result.status == 0, "\(result.text)")
            #expect(result.text.contains(", 0 failing"), "\(result.text)")
            // The REST listeners stay plain HTTP.
            #expect(try await server.request("GET", port: server.inference, "/ping").status == 200)
        }
    }

    /// A graceful shutdown lets a gRPC call in flight finish, as it does for REST requests: the call is
    /// queued on the slow model, the shutdown starts, the client gets its answer.
    @Test func aCallInFlightIsAnsweredDuringGracefulShutdown() async throws {
        let python = try await offThePool { try OIPClientTests.python() }
        try await TestServer.with(models: ["slow.mar"]) { server in
            let arguments = [
                Self.script, "--mode", "drain", "--inference", "127.0.0.1:\(server.grpcInference)",
                "--management", "127.0.0.1:\(server.grpcManagement)", "--protos", Self.protos.path, "--rounds", "1500",
            ]
            async let call = offThePool { try OIPClientTests.run(python, arguments) }
            // Wait until the call has reached the model (counted), then start the shutdown.
            let deadline = ContinuousClock.now + .seconds(60)
            var counted = false
            while !counted, ContinuousClock.now < deadline {
                let metrics = try await server.request("GET", port: server.metricsPort, "/metrics").text
                counted = metrics.split(separator: "\n").contains {
                    $0.hasPrefix("ts_inference_requests_total{") && $0.contains("model_name=\"slow\"") && $0.hasSuffix(" 1.0")
                }
                if !counted { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(counted)
            let shutdownStarted = Date().timeIntervalSince1970
            await server.beginShutdown()
            let result = try await call
            // The answer came, and after the shutdown had started (the call was in flight then).
            let answeredAt = result.text.firstMatch(of: /at epoch ([0-9.]+)/).flatMap { Double($0.1) }
            #expect((answeredAt ?? 0) > shutdownStarted, "\(result.text)")
            #expect(result.status == 0, "\(result.text)")
            #expect(result.text.contains(", 0 failing"), "\(result.text)")
        }
    }
}
