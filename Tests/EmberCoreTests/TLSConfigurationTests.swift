import EmberCore
import Testing

@Suite struct TLSConfigurationTests {
    @Test func keysAreReadAndKeptInSnapshots() throws {
        let configuration = try ServerConfiguration(
            properties: """
                inference_address=https://127.0.0.1:8443
                private_key_file=/etc/ember/key.pem
                certificate_file = /etc/ember/cert.pem
                """, environment: [:])
        #expect(configuration.privateKeyFile == "/etc/ember/key.pem")
        #expect(configuration.certificateFile == "/etc/ember/cert.pem")
        #expect(configuration.unknownKeys.isEmpty)
        #expect(configuration.ignoredKeys.isEmpty)
        let files = try #require(try configuration.tlsFiles())
        #expect(files.certificate == "/etc/ember/cert.pem")
        #expect(files.privateKey == "/etc/ember/key.pem")
        let entries = Dictionary(configuration.propertyEntries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        #expect(entries["private_key_file"] == "/etc/ember/key.pem")
        #expect(entries["certificate_file"] == "/etc/ember/cert.pem")
    }

    @Test func environmentNamesUnderEnvvarsConfig() throws {
        let configuration = try ServerConfiguration(
            properties: "enable_envvars_config=true\nprivate_key_file=/file/key.pem\n",
            environment: ["TS_PRIVATE_KEY_FILE": "/env/key.pem", "TS_CERTIFICATE_FILE": "/env/cert.pem"])
        #expect(configuration.privateKeyFile == "/env/key.pem")
        #expect(configuration.certificateFile == "/env/cert.pem")
        #expect(configuration.environmentKeys.isSuperset(of: ["private_key_file", "certificate_file"]))
        // Without enable_envvars_config the variables are not read.
        let plain = try ServerConfiguration(properties: "", environment: ["TS_CERTIFICATE_FILE": "/env/cert.pem"])
        #expect(plain.certificateFile == nil)
    }

    @Test func plainHTTPNeedsNoFiles() throws {
        #expect(try ServerConfiguration(properties: "", environment: [:]).tlsFiles() == nil)
        // Files without an https:// address are accepted and unused.
        let configuration = try ServerConfiguration(
            properties: "private_key_file=/k.pem\ncertificate_file=/c.pem\n", environment: [:])
        #expect(try configuration.tlsFiles() == nil)
    }

    @Test func httpsWithoutBothFilesIsAnError() throws {
        let noFiles = try ServerConfiguration(properties: "metrics_address=https://127.0.0.1", environment: [:])
        #expect(noFiles.metricsAddress.port == 8445)
        let error = #expect(throws: ConfigurationError.self) { try noFiles.tlsFiles() }
        #expect(error?.message.contains("metrics_address https://127.0.0.1:8445") == true)
        #expect(error?.message.contains("certificate_file and private_key_file are not set") == true)
        #expect(error?.message.contains("self-signed") == true)

        let keyOnly = try ServerConfiguration(
            properties: "management_address=https://127.0.0.1:0\nprivate_key_file=/k.pem", environment: [:])
        let keyOnlyError = #expect(throws: ConfigurationError.self) { try keyOnly.tlsFiles() }
        #expect(keyOnlyError?.message.contains("management_address") == true)
        #expect(keyOnlyError?.message.contains("certificate_file is not set") == true)
    }
}
