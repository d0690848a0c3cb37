extension ServerConfiguration {
    /// The configuration as `config.properties` entries that read back to the same values (snapshots).
    /// `load_models` and `models` are left out: a snapshot's `model_snapshot` says which models to load.
    public var propertyEntries: [(key: String, value: String)] {
        var entries: [(String, String)] = [
            ("inference_address", inferenceAddress.description),
            ("management_address", managementAddress.description),
            ("metrics_address", metricsAddress.description),
            ("grpc_inference_address", grpcInferenceHost), ("grpc_inference_port", String(grpcInferencePort)),
            ("grpc_management_address", grpcManagementHost), ("grpc_management_port", String(grpcManagementPort)),
        ]
        if enableGRPCSSL { entries.append(("enable_grpc_ssl", "true")) }
        if let modelStore { entries.append(("model_store", modelStore)) }
        entries += [
            ("default_workers_per_model", String(defaultWorkersPerModel)),
            ("job_queue_size", String(jobQueueSize)),
            ("max_request_size", String(maxRequestSize)),
            ("max_response_size", String(maxResponseSize)),
            ("default_response_timeout", String(defaultResponseTimeout)),
            ("default_startup_timeout", String(defaultStartupTimeout)),
            ("unregister_model_timeout", String(unregisterModelTimeout)),
        ]
        if let corsAllowedOrigin { entries.append(("cors_allowed_origin", corsAllowedOrigin)) }
        if let corsAllowedMethods { entries.append(("cors_allowed_methods", corsAllowedMethods)) }
        if let corsAllowedHeaders { entries.append(("cors_allowed_headers", corsAllowedHeaders)) }
        entries += [
            ("disable_token_authorization", String(disableTokenAuthorization)),
            ("token_expiration_min", String(tokenExpirationMinutes)),
            ("enable_model_api", String(enableModelAPI)),
        ]
        if let tokenKeyFile { entries.append(("token_key_file", tokenKeyFile)) }
        if healthProbesWithoutToken { entries.append(("health_probes_without_token", "true")) }
        if drainDelaySeconds > 0 { entries.append(("drain_delay_seconds", String(drainDelaySeconds))) }
        if let defaultServiceHandler { entries.append(("default_service_handler", defaultServiceHandler)) }
        if !allowedURLs.isEmpty { entries.append(("allowed_urls", allowedURLs.joined(separator: ","))) }
        entries.append(("number_of_netty_threads", String(ioThreads)))
        entries.append(("worker_idle_spin_us", String(workerIdleSpinMicroseconds)))
        if let pythonExecutable { entries.append(("python_executable", pythonExecutable)) }
        if installPythonDependenciesPerModel { entries.append(("install_py_dep_per_model", "true")) }
        entries.append(("max_workers_per_model", String(maxWorkersPerModel)))
        entries.append(("max_workers", String(maxWorkers)))
        if let privateKeyFile { entries.append(("private_key_file", privateKeyFile)) }
        if let certificateFile { entries.append(("certificate_file", certificateFile)) }
        return entries
    }
}

extension PropertiesFile {
    /// One `key=value` line, escaped as Java's `Properties.store` does.
    public static func line(_ key: String, _ value: String) -> String {
        escape(key, isKey: true) + "=" + escape(value, isKey: false)
    }

    private static func escape(_ text: String, isKey: Bool) -> String {
        var output = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            switch scalar {
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{0C}": output += "\\f"
            case "=", ":", "#", "!": output += "\\" + String(scalar)
            case " " where isKey || index == 0: output += "\\ "
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output
    }
}
