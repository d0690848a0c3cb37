import Testing

@testable import EmberCore

/// `token_key_file`, `health_probes_without_token`, `drain_delay_seconds`: off by default, set by the
/// file or by `TS_` variables, recorded in snapshots.
struct DeployConfigurationTests {
    @Test func offByDefault() throws {
        let configuration = try ServerConfiguration(properties: "", environment: [:])
        #expect(configuration.tokenKeyFile == nil)
        #expect(!configuration.healthProbesWithoutToken)
        #expect(configuration.drainDelaySeconds == 0)
    }

    @Test func theFileSetsThem() throws {
        let configuration = try ServerConfiguration(
            properties: "token_key_file=/etc/ember/keys/key_file.json\nhealth_probes_without_token=true\ndrain_delay_seconds=7.5\n",
            environment: [:])
        #expect(configuration.tokenKeyFile == "/etc/ember/keys/key_file.json")
        #expect(configuration.healthProbesWithoutToken)
        #expect(configuration.drainDelaySeconds == 7.5)
        #expect(configuration.unknownKeys.isEmpty)
        for bad in ["-1", "soon", "100000", "nan"] {
            #expect(throws: ConfigurationError.self) {
                try ServerConfiguration(properties: "drain_delay_seconds=\(bad)", environment: [:])
            }
        }
    }

    @Test func environmentVariablesUnderEnableEnvvarsConfig() throws {
        let environment = [
            "TS_TOKEN_KEY_FILE": "/keys/k.json", "TS_HEALTH_PROBES_WITHOUT_TOKEN": "true", "TS_DRAIN_DELAY_SECONDS": "3",
        ]
        let configuration = try ServerConfiguration(properties: "enable_envvars_config=true", environment: environment)
        #expect(configuration.tokenKeyFile == "/keys/k.json")
        #expect(configuration.healthProbesWithoutToken)
        #expect(configuration.drainDelaySeconds == 3)
        let ignored = try ServerConfiguration(properties: "", environment: environment)
        #expect(ignored.tokenKeyFile == nil)
        #expect(!ignored.healthProbesWithoutToken)
    }

    @Test func snapshotsRecordThem() throws {
        let configuration = try ServerConfiguration(
            properties: "token_key_file=/k.json\nhealth_probes_without_token=true\ndrain_delay_seconds=2", environment: [:])
        let text = configuration.propertyEntries.map { PropertiesFile.line($0.key, $0.value) }.joined(separator: "\n")
        let reread = try ServerConfiguration(properties: text, environment: [:])
        #expect(reread.tokenKeyFile == "/k.json")
        #expect(reread.healthProbesWithoutToken)
        #expect(reread.drainDelaySeconds == 2)
    }
}
