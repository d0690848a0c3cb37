import EmberCore
import Testing

@Suite struct PropertiesFileTests {
    @Test func javaPropertiesSyntax() throws {
        let entries = try PropertiesFile.parse("""
            # a comment
            ! another
            inference_address=http://0.0.0.0:8080
            management_address : http://127.0.0.1:9081
            model_store   /models
            long_value = one, \\
                two
            escaped\\=key=a\\tb\\u0041
            empty=
            model_store=/override
            """)
        let values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        #expect(values["inference_address"] == "http://0.0.0.0:8080")
        #expect(values["management_address"] == "http://127.0.0.1:9081")
        #expect(values["model_store"] == "/override")
        #expect(values["long_value"] == "one, two")
        #expect(values["escaped=key"] == "a\tbA")
        #expect(values["empty"] == "")
        #expect(entries.map(\.key).first == "inference_address")
    }

    @Test func malformedFilesNameTheLine() {
        let badEscape = #expect(throws: PropertiesParseError.self) { try PropertiesFile.parse("a=1\nb=\\u12G4\n") }
        #expect(badEscape?.line == 2)
        let dangling = #expect(throws: PropertiesParseError.self) { try PropertiesFile.parse("a=1\nb=2 \\") }
        #expect(dangling?.line == 2)
    }
}

@Suite struct ServerConfigurationTests {
    @Test func torchServeDefaults() throws {
        let configuration = try ServerConfiguration(properties: "", environment: [:])
        #expect(configuration.inferenceAddress == ListenerAddress(host: "127.0.0.1", port: 8080))
        #expect(configuration.managementAddress.port == 8081)
        #expect(configuration.metricsAddress.port == 8082)
        #expect(configuration.jobQueueSize == 100)
        #expect(configuration.maxRequestSize == 6_553_500)
        #expect(configuration.defaultResponseTimeout == 120)
        #expect(!configuration.enableModelAPI)
        #expect(configuration.workerIdleSpinMicroseconds == 300)
    }

    @Test func workerIdleSpinIsBounded() throws {
        func spin(_ value: String) throws -> Int {
            try ServerConfiguration(properties: "worker_idle_spin_us=\(value)", environment: [:]).workerIdleSpinMicroseconds
        }
        #expect(try spin("0") == 0)
        #expect(try spin("50") == 50)
        #expect(try spin("-3") == 0)
        #expect(try spin("99999999") == 10_000)
        #expect(throws: ConfigurationError.self) { try spin("fast") }
    }

    @Test func keysEnvironmentAndUnknowns() throws {
        let configuration = try ServerConfiguration(
            properties: """
                inference_address=https://[::1]:0
                metrics_address=http://localhost
                job_queue_size=7
                model_store=$$STORE$$/models
                enable_envvars_config=true
                load_models=a=a.mar,b.mar
                models={"a": {"1.0": {"batchSize": 4, "maxBatchDelay": -5, "minWorkers": 2}}}
                vmargs=-Xmx4g
                frobnicate=1
                """,
            environment: ["STORE": "/srv", "TS_JOB_QUEUE_SIZE": "9", "TS_ENABLE_MODEL_API": "true"])
        #expect(configuration.inferenceAddress == ListenerAddress(scheme: "https", host: "::1", port: 0))
        #expect(configuration.metricsAddress.port == 8082)
        #expect(configuration.jobQueueSize == 9)
        #expect(configuration.enableModelAPI)
        #expect(configuration.modelStore == "/srv/models")
        #expect(configuration.loadModels == ["a=a.mar", "b.mar"])
        #expect(configuration.models["a"]?["1.0"]?.settings.batchSize == 4)
        #expect(configuration.models["a"]?["1.0"]?.settings.maxBatchDelay == nil)
        #expect(configuration.unknownKeys == ["frobnicate"])
        #expect(configuration.ignoredKeys == ["vmargs"])
    }

    @Test func grpcListenersKeys() throws {
        let defaults = ServerConfiguration()
        #expect(defaults.grpcInferenceHost == "127.0.0.1" && defaults.grpcInferencePort == 7070)
        #expect(defaults.grpcManagementHost == "127.0.0.1" && defaults.grpcManagementPort == 7071)
        #expect(!defaults.enableGRPCSSL)
        let configuration = try ServerConfiguration(
            properties: """
                grpc_inference_address=0.0.0.0
                grpc_inference_port=9090
                grpc_management_address=[::1]
                grpc_management_port=0
                """, environment: [:])
        #expect(configuration.grpcInferenceHost == "0.0.0.0" && configuration.grpcInferencePort == 9090)
        #expect(configuration.grpcManagementHost == "::1" && configuration.grpcManagementPort == 0)
        #expect(configuration.unknownKeys.isEmpty && configuration.ignoredKeys.isEmpty)
        // The snapshot's properties read back to the same listeners.
        let text = configuration.propertyEntries.map { PropertiesFile.line($0.key, $0.value) }.joined(separator: "\n")
        let reread = try ServerConfiguration(properties: text, environment: [:])
        #expect(reread.grpcInferencePort == 9090 && reread.grpcManagementHost == "::1")
        // enable_grpc_ssl needs both PEM files, as an https:// address does.
        let noFiles = try ServerConfiguration(properties: "enable_grpc_ssl=true", environment: [:])
        #expect(throws: ConfigurationError.self) { try noFiles.tlsFiles() }
        let files = try ServerConfiguration(
            properties: "enable_grpc_ssl=true\ncertificate_file=/c.pem\nprivate_key_file=/k.pem", environment: [:])
        #expect(try files.tlsFiles()?.certificate == "/c.pem")
    }

    @Test(arguments: ["grpc_inference_port=70000", "grpc_management_port=x", "grpc_inference_address=http://h"])
    func badGRPCValuesAreStartupErrors(line: String) {
        #expect(throws: (any Error).self) { try ServerConfiguration(properties: line, environment: [:]) }
    }

    @Test func environmentIsIgnoredUnlessEnabled() throws {
        let configuration = try ServerConfiguration(properties: "job_queue_size=5", environment: ["TS_JOB_QUEUE_SIZE": "9"])
        #expect(configuration.jobQueueSize == 5)
    }

    @Test(arguments: [
        "inference_address=ftp://x:1", "job_queue_size=many", "models={not json", "inference_address=http://h:99999",
        "model_store=$$MISSING$$",
    ])
    func badValuesAreStartupErrors(line: String) {
        #expect(throws: (any Error).self) { try ServerConfiguration(properties: line, environment: [:]) }
    }
}
