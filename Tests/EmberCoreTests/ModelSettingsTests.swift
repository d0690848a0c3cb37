import EmberArchive
import EmberCore
import Testing

/// TorchServe's precedence rules (contract §7.1), one by one.
@Suite struct ModelSettingsTests {
    let server = try! ServerConfiguration(properties: "default_response_timeout=60", environment: [:])

    func config(_ yaml: String) throws -> ModelConfig { try ModelConfig(yaml: yaml) }

    @Test func batchSettingsRequestThenYamlThenModelsJSONThenDefaults() throws {
        var overrides = ModelOverrides()
        overrides.batchSize = 4
        overrides.maxBatchDelay = 30
        let yaml = try config("batchSize: 8\nmaxBatchDelay: 20\n")
        let fromRequest = ModelSettings.resolve(
            requested: .init(batchSize: 16, maxBatchDelay: 5), config: yaml, overrides: overrides, server: server, atStartup: false)
        #expect(fromRequest.batchSize == 16)
        #expect(fromRequest.maxBatchDelay == 5)
        let fromYaml = ModelSettings.resolve(requested: .init(), config: yaml, overrides: overrides, server: server, atStartup: false)
        #expect(fromYaml.batchSize == 8)
        #expect(fromYaml.maxBatchDelay == 20)
        let fromJSON = ModelSettings.resolve(requested: .init(), config: nil, overrides: overrides, server: server, atStartup: false)
        #expect(fromJSON.batchSize == 4)
        #expect(fromJSON.maxBatchDelay == 30)
        let defaults = ModelSettings.resolve(requested: .init(), config: nil, overrides: nil, server: server, atStartup: false)
        #expect(defaults.batchSize == 1)
        #expect(defaults.maxBatchDelay == 100)
    }

    @Test func aMissingDelayIsNeverNegative() {
        let settings = ModelSettings.resolve(
            requested: .init(maxBatchDelay: -10_000), config: nil, overrides: nil, server: server, atStartup: false)
        #expect(settings.maxBatchDelay == 100)
    }

    @Test func timeoutsYamlThenModelsJSONThenRequestThenServer() throws {
        var overrides = ModelOverrides()
        overrides.responseTimeout = 45
        // An archive with a config file decides, with 120 when the key is absent.
        let yaml = try config("batchSize: 2\n")
        #expect(ModelSettings.resolve(
            requested: .init(responseTimeout: 5), config: yaml, overrides: overrides, server: server, atStartup: false
        ).responseTimeout == 120)
        #expect(ModelSettings.resolve(
            requested: .init(responseTimeout: 5), config: nil, overrides: overrides, server: server, atStartup: false
        ).responseTimeout == 45)
        #expect(ModelSettings.resolve(
            requested: .init(responseTimeout: 5), config: nil, overrides: nil, server: server, atStartup: false
        ).responseTimeout == 5)
        #expect(ModelSettings.resolve(requested: .init(), config: nil, overrides: nil, server: server, atStartup: false)
            .responseTimeout == 60)
    }

    @Test func workersAndThreads() throws {
        let yaml = try config("minWorkers: 2\nmaxWorkers: 3\n")
        let fromYaml = ModelSettings.resolve(
            requested: .init(initialWorkers: 1), config: yaml, overrides: nil, server: server, atStartup: false, cores: 6)
        #expect((fromYaml.minWorkers, fromYaml.maxWorkers) == (2, 3))
        #expect(fromYaml.intraOpThreads == 1)
        let invalidYaml = try config("minWorkers: 3\nmaxWorkers: 1\n")
        let fromRequest = ModelSettings.resolve(
            requested: .init(initialWorkers: 2), config: invalidYaml, overrides: nil, server: server, atStartup: false, cores: 2)
        #expect((fromRequest.minWorkers, fromRequest.maxWorkers) == (2, 2))
        #expect(fromRequest.intraOpThreads == 1)
        let none = ModelSettings.resolve(requested: .init(), config: nil, overrides: nil, server: server, atStartup: false)
        #expect(none.minWorkers == 0)
        let startup = ModelSettings.resolve(requested: .init(), config: nil, overrides: nil, server: server, atStartup: true, cores: 2)
        #expect((startup.minWorkers, startup.maxWorkers, startup.intraOpThreads) == (2, 2, 1))
        let threads = try config("intraOpThreads: 3\n")
        #expect(ModelSettings.resolve(requested: .init(), config: threads, overrides: nil, server: server, atStartup: true)
            .intraOpThreads == 3)
    }
}
