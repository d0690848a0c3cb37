import Foundation

/// The server's configuration: TorchServe's `config.properties` keys that apply to Ember (contract §5.2),
/// with TorchServe's defaults, environment overrides and the command line applied.
public struct ServerConfiguration: Sendable {
    /// `inference_address`, default `http://127.0.0.1:8080`.
    public var inferenceAddress = ListenerAddress(host: "127.0.0.1", port: 8080)
    /// `management_address`, default `http://127.0.0.1:8081`.
    public var managementAddress = ListenerAddress(host: "127.0.0.1", port: 8081)
    /// `metrics_address`, default `http://127.0.0.1:8082`.
    public var metricsAddress = ListenerAddress(host: "127.0.0.1", port: 8082)
    /// `grpc_inference_address` / `grpc_inference_port`: the gRPC inference listener (TorchServe's
    /// InferenceAPIsService and the Open Inference Protocol's GRPCInferenceService), default 127.0.0.1:7070.
    public var grpcInferenceHost = "127.0.0.1"
    public var grpcInferencePort = 7070
    /// `grpc_management_address` / `grpc_management_port`: the gRPC management listener, default 127.0.0.1:7071.
    public var grpcManagementHost = "127.0.0.1"
    public var grpcManagementPort = 7071
    /// `enable_grpc_ssl`: both gRPC listeners serve TLS with `certificate_file` and `private_key_file`.
    public var enableGRPCSSL = false
    /// `model_store`: where archives are looked up.
    public var modelStore: String?
    /// `load_models`: `all` or a comma list of `[name=]archive`.
    public var loadModels: [String] = []
    /// `models`: per-model JSON `{"name": {"version": {...}}}`.
    public var models: [String: [String: ModelOverrides]] = [:]
    /// `default_workers_per_model`: workers for a registration without `initial_workers` (0 = none);
    /// for start-up models 0 means "as many as fit the cores" (workers × intra-op threads ≤ cores).
    public var defaultWorkersPerModel = 0
    /// `job_queue_size`: requests waiting per model version before 503 (default 100).
    public var jobQueueSize = 100
    /// `max_request_size` / `max_response_size` in bytes (default 6553500).
    public var maxRequestSize = 6_553_500
    public var maxResponseSize = 6_553_500
    /// `default_response_timeout` / `default_startup_timeout` in seconds (default 120).
    public var defaultResponseTimeout = 120
    public var defaultStartupTimeout = 120
    /// `unregister_model_timeout` in seconds (default 120).
    public var unregisterModelTimeout = 120
    /// `cors_allowed_origin`, `cors_allowed_methods`, `cors_allowed_headers`.
    public var corsAllowedOrigin: String?
    public var corsAllowedMethods: String?
    public var corsAllowedHeaders: String?
    /// `disable_token_authorization` (TorchServe's default: false, tokens required).
    public var disableTokenAuthorization = false
    /// `token_expiration_min`: minutes a key lives (default 60, fractions allowed).
    public var tokenExpirationMinutes = 60.0
    /// `token_key_file` (Ember's): the operator's key file in TorchServe's `key_file.json` format (a
    /// Kubernetes Secret shared by replicas). Its keys are used as they are: never rotated nor written by
    /// the server, expiring only where the file says so, re-read when the file changes. Nil: keys are
    /// generated and written to `./key_file.json`, as TorchServe does.
    public var tokenKeyFile: String?
    /// `health_probes_without_token` (Ember's, default false): `/ping`, `/v2/health/live` and
    /// `/v2/health/ready` answer without a key, for Kubernetes probes.
    public var healthProbesWithoutToken = false
    /// `drain_delay_seconds` (Ember's, default 0): after SIGTERM, `/v2/health/ready` answers 503 for this
    /// long while every route keeps serving, so a load balancer stops sending new requests before the
    /// listeners stop (then in-flight requests finish and the pools drain).
    public var drainDelaySeconds = 0.0
    /// `enable_model_api`: allow register/unregister (default false).
    public var enableModelAPI = false
    /// `default_service_handler`: handler for archives whose manifest names none.
    public var defaultServiceHandler: String?
    /// `allowed_urls`: regexes a registration URL must match.
    public var allowedURLs: [String] = []
    /// `max_workers_per_model` (Ember's): the most workers one model version may run; a register or
    /// scale asking for more is a 400 (default: four per core, at least 4).
    public var maxWorkersPerModel = WorkerCaps.defaultPerModel(cores: ProcessInfo.processInfo.activeProcessorCount)
    /// `max_workers` (Ember's): the most workers the server runs over all versions (default: sixteen
    /// per core, at least 16).
    public var maxWorkers = WorkerCaps.defaultTotal(cores: ProcessInfo.processInfo.activeProcessorCount)
    /// `number_of_netty_threads`: I/O threads (0 = the default).
    public var ioThreads = 0
    /// `worker_idle_spin_us` (Ember's): how long a worker that has just answered a batch keeps polling
    /// the queue before it sleeps (default 300 µs; 0 = sleep at once). Waking a sleeping thread costs
    /// about 30 µs per request on a VM; the poll yields the core to any other runnable thread, and a
    /// server without traffic never polls.
    public var workerIdleSpinMicroseconds = 300
    /// `python_executable` (Ember's; TorchServe's `--python`): the interpreter of Python workers. Unset:
    /// `.venv/bin/python` in the working directory if there is one, else `python3` on `PATH`.
    public var pythonExecutable: String?
    /// `install_py_dep_per_model`: install a Python archive's `requirements.txt` (off by default, as in
    /// TorchServe), into a directory of that model version's own, never into the interpreter.
    public var installPythonDependenciesPerModel = false
    /// `private_key_file` / `certificate_file`: the PEM key and certificate chain `https://` listeners serve.
    public var privateKeyFile: String?
    public var certificateFile: String?
    /// The keys read from the file that Ember does not use (logged at start).
    public var unknownKeys: [String] = []
    /// Keys TorchServe has that Ember accepts but ignores (logged at debug level).
    public var ignoredKeys: [String] = []
    /// Keys whose value came from a `TS_*` variable (`enable_envvars_config=true`): the command line
    /// does not override them (TorchServe: env > CLI > file).
    public var environmentKeys: Set<String> = []

    public init() {}

    /// Keys Ember applies.
    static let knownKeys: Set<String> = [
        "inference_address", "management_address", "metrics_address", "model_store", "load_models", "models",
        "default_workers_per_model", "job_queue_size", "max_request_size", "max_response_size",
        "default_response_timeout", "default_startup_timeout", "unregister_model_timeout", "cors_allowed_origin",
        "cors_allowed_methods", "cors_allowed_headers", "enable_envvars_config", "disable_token_authorization",
        "enable_model_api", "default_service_handler", "allowed_urls", "number_of_netty_threads",
        "token_expiration_min", "private_key_file", "certificate_file", "worker_idle_spin_us",
        "python_executable", "install_py_dep_per_model",
        "token_key_file", "health_probes_without_token", "drain_delay_seconds",
        "max_workers_per_model", "max_workers",
        "grpc_inference_address", "grpc_management_address", "grpc_inference_port", "grpc_management_port",
        "enable_grpc_ssl",
    ]

    /// The environment variable of `key` under `enable_envvars_config=true`: `TS_<KEY>`, but for
    /// TorchServe's own spelling where it differs.
    static func environmentName(_ key: String) -> String {
        key == "token_expiration_min" ? "TS_TOKEN_EXPIRATION_TIME_MIN" : "TS_" + key.uppercased()
    }

    /// TorchServe keys that have no meaning for Ember (JVM, Python, …): accepted quietly.
    static let torchServeOnlyKeys: Set<String> = [
        "vmargs", "plugins_path", "number_of_gpu", "netty_client_threads", "async_logging", "workflow_store",
        "metrics_mode", "metrics_config", "enable_metrics_api",
        "model_metrics_auto_detect", "disable_system_metrics", "system_metrics_cmd", "metric_time_interval",
        "decode_input_request", "limit_max_image_pixels", "service_envelope", "blacklist_env_vars",
        "initial_worker_port", "initial_distribution_port", "prefer_direct_buffer", "use_native_io", "io_ratio",
        "model_server_home", "ipex_enable", "ipex_gpu_enable", "cpu_launcher_enable", "cpu_launcher_args",
        "ts_open_inference_protocol", "cpp_log_config", "debug", "use_env_allowed_urls", "model_snapshot",
        "keystore", "keystore_pass", "keystore_type", "version",
    ]

    /// Builds the configuration from a properties text and the environment.
    ///
    /// `$$NAME$$` in a value is replaced by environment variable NAME (missing → error, as TorchServe).
    /// With `enable_envvars_config=true` in the file, `TS_<KEY>` variables override file values.
    public init(properties text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init()
        var values: [String: String] = [:]
        var order: [String] = []
        for (key, raw) in try PropertiesFile.parse(text) {
            values[key] = try Self.substituteEnvironment(raw, environment: environment)
            order.append(key)
        }
        if values["enable_envvars_config"]?.lowercased() == "true" {
            for key in Self.knownKeys.subtracting(["models", "enable_envvars_config"]) {
                if let override = environment[Self.environmentName(key)] {
                    if values[key] == nil { order.append(key) }
                    values[key] = override
                    environmentKeys.insert(key)
                }
            }
        }
        for key in order {
            guard let value = values[key] else { continue }
            if Self.knownKeys.contains(key) {
                try apply(key: key, value: value)
            } else if Self.torchServeOnlyKeys.contains(key) {
                ignoredKeys.append(key)
            } else {
                unknownKeys.append(key)
            }
        }
    }

    public init(contentsOf path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(properties: text, environment: environment)
    }

    private static func substituteEnvironment(_ value: String, environment: [String: String]) throws -> String {
        guard value.contains("$$") else { return value }
        var output = ""
        var rest = Substring(value)
        while let start = rest.range(of: "$$") {
            output += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.range(of: "$$") else {
                output += rest[start.lowerBound...]
                return output
            }
            let name = String(after[..<end.lowerBound])
            guard let replacement = environment[name] else {
                throw ConfigurationError("Invalid Environment Variable \(name)")
            }
            output += replacement
            rest = after[end.upperBound...]
        }
        return output + rest
    }

    private mutating func apply(key: String, value: String) throws {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        func integer(_ range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
            guard let number = Int(trimmed) else { throw ConfigurationError("\(key) must be an integer, got \"\(value)\"") }
            guard range.contains(number) else {
                let allowed =
                    range.lowerBound == Int.min
                    ? "no larger than \(range.upperBound)" : "from \(range.lowerBound) to \(range.upperBound)"
                throw ConfigurationError("\(key) must be an integer \(allowed), got \(number)")
            }
            return number
        }
        let byteLimit = 1...Int(Int32.max)
        let timeout = ModelSettings.Limits.timeoutSeconds
        func boolean() -> Bool { trimmed.lowercased() == "true" }
        switch key {
        case "inference_address":
            inferenceAddress = try ListenerAddress.parse(trimmed, defaultPort: 80, defaultTLSPort: 443)
        case "management_address":
            managementAddress = try ListenerAddress.parse(trimmed, defaultPort: 8081, defaultTLSPort: 8444)
        case "metrics_address":
            metricsAddress = try ListenerAddress.parse(trimmed, defaultPort: 8082, defaultTLSPort: 8445)
        case "grpc_inference_address": grpcInferenceHost = try Self.grpcHost(trimmed, key: key)
        case "grpc_management_address": grpcManagementHost = try Self.grpcHost(trimmed, key: key)
        case "grpc_inference_port": grpcInferencePort = try integer(0...65_535)
        case "grpc_management_port": grpcManagementPort = try integer(0...65_535)
        case "enable_grpc_ssl": enableGRPCSSL = boolean()
        case "model_store": modelStore = trimmed.isEmpty ? nil : trimmed
        case "load_models": loadModels = Self.modelList(trimmed)
        case "models": models = try ModelOverrides.parseModelsJSON(trimmed)
        case "default_workers_per_model": defaultWorkersPerModel = max(0, try integer(Int.min...4096))
        case "job_queue_size": jobQueueSize = max(1, try integer(Int.min...ModelSettings.Limits.jobQueueSize.upperBound))
        case "max_request_size": maxRequestSize = max(1, try integer(Int.min...byteLimit.upperBound))
        case "max_response_size": maxResponseSize = max(1, try integer(Int.min...byteLimit.upperBound))
        case "default_response_timeout": defaultResponseTimeout = try integer(timeout)
        case "default_startup_timeout": defaultStartupTimeout = try integer(timeout)
        case "unregister_model_timeout": unregisterModelTimeout = try integer(0...timeout.upperBound)
        case "cors_allowed_origin": corsAllowedOrigin = trimmed.isEmpty ? nil : trimmed
        case "cors_allowed_methods": corsAllowedMethods = trimmed.isEmpty ? nil : trimmed
        case "cors_allowed_headers": corsAllowedHeaders = trimmed.isEmpty ? nil : trimmed
        case "disable_token_authorization": disableTokenAuthorization = boolean()
        case "enable_model_api": enableModelAPI = boolean()
        case "default_service_handler": defaultServiceHandler = trimmed.isEmpty ? nil : trimmed
        case "allowed_urls": allowedURLs = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case "number_of_netty_threads": ioThreads = max(0, try integer(Int.min...1024))
        case "max_workers_per_model": maxWorkersPerModel = try integer(1...4096)
        case "max_workers": maxWorkers = try integer(1...65_536)
        case "worker_idle_spin_us": workerIdleSpinMicroseconds = min(max(0, try integer()), 10_000)
        case "python_executable": pythonExecutable = trimmed.isEmpty ? nil : trimmed
        case "install_py_dep_per_model": installPythonDependenciesPerModel = boolean()
        case "private_key_file": privateKeyFile = trimmed.isEmpty ? nil : trimmed
        case "certificate_file": certificateFile = trimmed.isEmpty ? nil : trimmed
        case "token_key_file": tokenKeyFile = trimmed.isEmpty ? nil : trimmed
        case "health_probes_without_token": healthProbesWithoutToken = boolean()
        case "drain_delay_seconds":
            // A day at most: a longer delay is a typo, and Kubernetes kills the pod long before.
            guard let seconds = Double(trimmed), seconds >= 0, seconds <= 86_400 else {
                throw ConfigurationError("\(key) must be a number of seconds from 0 to 86400, got \"\(value)\"")
            }
            drainDelaySeconds = seconds
        case "token_expiration_min":
            guard let minutes = Double(trimmed), minutes > 0, minutes <= 5_256_000 else {
                throw ConfigurationError("\(key) must be a positive number of minutes up to 5256000 (ten years), got \"\(value)\"")
            }
            tokenExpirationMinutes = minutes
        default: break
        }
    }

    /// The PEM files the `https://` listeners need: nil when every address is `http://`. An `https://`
    /// address without both files is an error (TorchServe would make a self-signed certificate; Ember
    /// does not).
    public func tlsFiles() throws(ConfigurationError) -> (certificate: String, privateKey: String)? {
        let secure = [
            ("inference_address", inferenceAddress), ("management_address", managementAddress),
            ("metrics_address", metricsAddress),
        ].filter { $0.1.scheme == "https" }.map { "\($0.0) \($0.1) is https://" }
        let reasons = secure + (enableGRPCSSL ? ["enable_grpc_ssl is true"] : [])
        guard let first = reasons.first else { return nil }
        guard let certificateFile, let privateKeyFile else {
            let missing = [certificateFile == nil ? "certificate_file" : nil, privateKeyFile == nil ? "private_key_file" : nil]
                .compactMap { $0 }
            throw ConfigurationError(
                "\(first) but \(missing.joined(separator: " and ")) "
                    + "\(missing.count == 1 ? "is" : "are") not set: TLS needs a PEM private_key_file and "
                    + "certificate_file (Ember does not generate a self-signed certificate)")
        }
        return (certificateFile, privateKeyFile)
    }

    /// A gRPC address is a bare host or IP, as TorchServe's (no scheme, no port: the port has its own key).
    static func grpcHost(_ text: String, key: String) throws(ConfigurationError) -> String {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("/"), !host.contains("["), !host.contains("]") else {
            throw ConfigurationError("\(key) must be a host name or IP address, got \"\(text)\"")
        }
        return host
    }

    /// `all`, or `a=a.mar,b.mar` / `a=a.mar b.mar` into entries.
    public static func modelList(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { !$0.isEmpty }
    }
}
