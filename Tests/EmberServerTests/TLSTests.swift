import EmberCore
import EmberHTTP
import Foundation
import Testing

/// `https://` listeners: a real TLS handshake against a certificate made at test time with `openssl`,
/// checked with `curl --cacert` (URLSession on Linux cannot be told to trust one certificate).
@Suite struct TLSTests {
    /// Runs a command line tool; its exit status and standard output.
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `curl` with `arguments`, off the cooperative pool: it waits on the server this process runs.
    static func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await offThePool { try run("curl", arguments) }
    }

    static func toolsAvailable() -> Bool {
        ["openssl", "curl"].allSatisfy { (try? run("sh", ["-c", "command -v \($0)"]).status) == 0 }
    }

    /// A fresh directory with `cert.pem` and `key.pem`: self-signed, for 127.0.0.1.
    static func makeCertificate() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ember-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try run("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
        ])
        try #require(result.status == 0, "openssl could not make a certificate")
        return directory
    }

    @Test(.enabled(if: toolsAvailable(), "needs the openssl and curl command line tools"))
    func httpsListenerServesTLSAndRefusesPlainHTTP() async throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let credentials = try TLSCredentials.load(
            certificateFile: certificate, privateKeyFile: directory.appendingPathComponent("key.pem").path)
        try await TestServer.with(models: ["mlp.mar"], inferenceTLS: credentials) { server in
            let secure = try await Self.curl([
                "-sS", "--max-time", "20", "--cacert", certificate, "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                "https://127.0.0.1:\(server.inference)/ping",
            ])
            #expect(secure.status == 0)
            #expect(secure.output == "200 0")
            // TLS 1.2 is the floor; 1.3 is offered too.
            let tls12 = try await Self.curl([
                "-sS", "--max-time", "20", "--cacert", certificate, "--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null",
                "-w", "%{http_code}", "https://127.0.0.1:\(server.inference)/ping",
            ])
            #expect(tls12.output == "200")
            let prediction = try await Self.curl([
                "-sS", "--max-time", "20", "--cacert", certificate, "-H", "Content-Type: application/json",
                "--data", "[1, 2, 3, 4]", "-w", "\n%{http_code}", "https://127.0.0.1:\(server.inference)/predictions/mlp",
            ])
            #expect(prediction.output.hasSuffix("\n200"))
            // Without the certificate as a trust root, the client refuses the server.
            let untrusted = try await Self.curl([
                "-sS", "--max-time", "20", "-o", "/dev/null", "https://127.0.0.1:\(server.inference)/ping",
            ])
            #expect(untrusted.status != 0)
            // Plain HTTP to the TLS port gets no HTTP answer.
            let plain = try await Self.curl([
                "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}",
                "http://127.0.0.1:\(server.inference)/ping",
            ])
            #expect(plain.status != 0)
            #expect(plain.output != "200")
            // The other listeners stay plain HTTP.
            #expect(try await server.manage("GET", "/models").status == 200)
        }
    }

    @Test(.enabled(if: toolsAvailable(), "needs the openssl and curl command line tools"))
    func badFilesAreNamedInTheError() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let missing = directory.appendingPathComponent("missing.pem").path

        let unreadable = #expect(throws: ConfigurationError.self) {
            try TLSCredentials.load(certificateFile: missing, privateKeyFile: key)
        }
        #expect(unreadable?.message.contains("certificate_file \(missing) cannot be read") == true)

        let garbage = directory.appendingPathComponent("garbage.pem")
        try Data("not a pem file\n".utf8).write(to: garbage)
        let badCertificate = #expect(throws: ConfigurationError.self) {
            try TLSCredentials.load(certificateFile: garbage.path, privateKeyFile: key)
        }
        #expect(badCertificate?.message.contains("certificate_file \(garbage.path)") == true)

        let badKey = #expect(throws: ConfigurationError.self) {
            try TLSCredentials.load(certificateFile: certificate, privateKeyFile: garbage.path)
        }
        #expect(badKey?.message.contains("private_key_file \(garbage.path)") == true)

        // A key that does not belong to the certificate.
        let other = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: other) }
        let otherKey = other.appendingPathComponent("key.pem").path
        let mismatch = #expect(throws: ConfigurationError.self) {
            try TLSCredentials.load(certificateFile: certificate, privateKeyFile: otherKey)
        }
        #expect(mismatch?.message.contains(otherKey) == true)

        let good = try TLSCredentials.load(certificateFile: certificate, privateKeyFile: key)
        #expect(good.configuration.minimumTLSVersion == .tlsv12)
    }

    /// The `ember` executable: files from `TS_*` variables, an https:// management listener announced
    /// and answering; without the files it refuses to start, saying why.
    @Test(.enabled(if: toolsAvailable(), "needs the openssl and curl command line tools"))
    func emberServesHTTPSFromTheConfigurationAndRefusesWithoutFiles() async throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await EmberProcess.with { ember in
            let store = directory.appendingPathComponent("store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            let certificate = directory.appendingPathComponent("cert.pem").path
            let config = directory.appendingPathComponent("tls.properties")
            try EmberProcess.writeConfiguration(to: config, https: ["management"], extra: ["enable_envvars_config=true"])

            func start(_ environment: [String: String], stderr: URL) throws -> EmberProcess {
                try ember.start(
                    [
                        "--start", "--foreground", "--model-store", store.path, "--ts-config", config.path, "--ncs",
                        "--disable-token-auth",
                    ],
                    environment: environment.merging(
                        ["TMPDIR": directory.path, "LOG_LOCATION": directory.appendingPathComponent("logs").path]) { $1 },
                    log: stderr)
            }

            let process = try start(
                ["TS_CERTIFICATE_FILE": certificate, "TS_PRIVATE_KEY_FILE": directory.appendingPathComponent("key.pem").path],
                stderr: directory.appendingPathComponent("served.log"))
            let port = try await process.port("Management", scheme: "https")
            let models = try await Self.curl([
                "-sS", "--max-time", "20", "--cacert", certificate, "-w", "\n%{http_code}", "https://127.0.0.1:\(port)/models",
            ])
            #expect(models.output.hasSuffix("\n200"))
            #expect(models.output.contains("\"models\""))
            await process.stop()

            let failing = try start(["TS_CERTIFICATE_FILE": certificate], stderr: directory.appendingPathComponent("refused.log"))
            await failing.waitForExit(timeout: 30)
            #expect(!failing.isRunning)
            #expect(failing.terminationStatus != 0)
            let message = failing.logText
            #expect(message.contains("management_address https://127.0.0.1:0 is https:// but private_key_file is not set"))
        }
    }
}
