import EmberArchive
import EmberCore
import Testing

/// TorchServe's precedence rules (contract §7.1): the fold as data, then each source read as TorchServe reads it.
@Suite struct ModelSettingsTests {
    let server = try! ServerConfiguration(properties: "default_response_timeout=60", environment: [:])

    func config(_ yaml: String) throws -> ModelConfig { try ModelConfig(yaml: yaml) }

    /// Each source sets every field to its own marker value, so the winner of each field shows its source.
    static func marked(_ mark: Int) -> ModelSettings.Partial {
        ModelSettings.Partial(
            minWorkers: mark, maxWorkers: mark + 1, batchSize: mark, maxBatchDelay: .milliseconds(mark),
            responseTimeout: .seconds(mark), startupTimeout: .seconds(mark), jobQueueSize: mark, intraOpThreads: mark)
    }

    @Test func theFoldFollowsThePrecedenceTable() {
        let all: [ModelSettings.Source: ModelSettings.Partial] = [
            .registration: Self.marked(1), .modelConfig: Self.marked(2), .modelsJSON: Self.marked(3), .server: Self.marked(4),
        ]
        let resolved = ModelSettings.resolve(all)
        #expect(resolved.batchSize == 1)
        #expect(resolved.maxBatchDelay == .milliseconds(1))
        #expect(resolved.responseTimeout == .seconds(2))
        #expect(resolved.startupTimeout == .seconds(2))
        #expect((resolved.minWorkers, resolved.maxWorkers) == (2, 3))
        #expect(resolved.jobQueueSize == 2)
        #expect(resolved.intraOpThreads == 2)

        // Without model-config.yaml: timeouts and workers from the models JSON, queue and threads from the server.
        let noConfig = ModelSettings.resolve(all.filter { $0.key != .modelConfig })
        #expect(noConfig.batchSize == 1)
        #expect(noConfig.responseTimeout == .seconds(3))
        #expect((noConfig.minWorkers, noConfig.maxWorkers) == (3, 4))
        #expect(noConfig.jobQueueSize == 4)
        // Only the registration and the server: timeouts and workers from the registration.
        let registrationOnly = ModelSettings.resolve(all.filter { [.registration, .server].contains($0.key) })
        #expect(registrationOnly.startupTimeout == .seconds(1))
        #expect((registrationOnly.minWorkers, registrationOnly.maxWorkers) == (1, 2))
        // Nothing at all: the built-in defaults.
        #expect(ModelSettings.resolve([:]) == ModelSettings())
    }

    @Test func clientTimeoutInMillsComesFromModelConfigOnly() throws {
        let settings = ModelSettings.resolve(
            registration: .init(), config: try config("clientTimeoutInMills: 250\n"), overrides: nil,
            server: ServerConfiguration(), atStartup: false)
        #expect(settings.clientTimeout == .milliseconds(250))
        let none = ModelSettings.resolve(
            registration: .init(), config: try config("clientTimeoutInMills: 0\n"), overrides: nil,
            server: ServerConfiguration(), atStartup: false)
        #expect(none.clientTimeout == nil, "0 means no limit, as in TorchServe")
    }

    @Test func aHigherSourceWinsFieldByField() {
        let higher = ModelSettings.Partial(batchSize: 8)
        let lower = ModelSettings.Partial(batchSize: 2, maxBatchDelay: .milliseconds(5))
        #expect(higher.merged(over: lower) == ModelSettings.Partial(batchSize: 8, maxBatchDelay: .milliseconds(5)))
        #expect(Self.marked(1).only(.timeouts) == ModelSettings.Partial(responseTimeout: .seconds(1), startupTimeout: .seconds(1)))
    }

    @Test func batchSettingsRequestThenYamlThenModelsJSONThenDefaults() throws {
        var overrides = ModelOverrides()
        overrides.settings.batchSize = 4
        overrides.settings.maxBatchDelay = .milliseconds(30)
        let yaml = try config("batchSize: 8\nmaxBatchDelay: 20\n")
        let request = ModelSettings.Partial(batchSize: 16, maxBatchDelay: .milliseconds(5))
        let fromRequest = ModelSettings.resolve(
            registration: request, config: yaml, overrides: overrides, server: server, atStartup: false)
        #expect(fromRequest.batchSize == 16)
        #expect(fromRequest.maxBatchDelay == .milliseconds(5))
        let fromYaml = ModelSettings.resolve(registration: .init(), config: yaml, overrides: overrides, server: server, atStartup: false)
        #expect(fromYaml.batchSize == 8)
        #expect(fromYaml.maxBatchDelay == .milliseconds(20))
        let fromJSON = ModelSettings.resolve(registration: .init(), config: nil, overrides: overrides, server: server, atStartup: false)
        #expect(fromJSON.batchSize == 4)
        #expect(fromJSON.maxBatchDelay == .milliseconds(30))
        let defaults = ModelSettings.resolve(registration: .init(), config: nil, overrides: nil, server: server, atStartup: false)
        #expect(defaults.batchSize == 1)
        #expect(defaults.maxBatchDelay == .milliseconds(100))
    }

    @Test func registerParametersAreReadAsTorchServeReadsThem() {
        // A missing delay is never negative (TorchServe's JSON registration would invent -10000); 0 is kept.
        let negative = ModelSettings.Partial(
            initialWorkers: -1, batchSize: 0, maxBatchDelayMilliseconds: -10_000, responseTimeoutSeconds: 0,
            startupTimeoutSeconds: nil)
        #expect(negative == ModelSettings.Partial())
        let given = ModelSettings.Partial(
            initialWorkers: 3, batchSize: 4, maxBatchDelayMilliseconds: 0, responseTimeoutSeconds: 7, startupTimeoutSeconds: 9)
        #expect(
            given
                == ModelSettings.Partial(
                    minWorkers: 3, maxWorkers: 3, batchSize: 4, maxBatchDelay: .zero, responseTimeout: .seconds(7),
                    startupTimeout: .seconds(9)))
    }

    @Test func timeoutsYamlThenModelsJSONThenRequestThenServer() throws {
        var overrides = ModelOverrides()
        overrides.settings.responseTimeout = .seconds(45)
        let request = ModelSettings.Partial(responseTimeout: .seconds(5))
        // An archive with a config file decides, with 120 when the key is absent.
        let yaml = try config("batchSize: 2\n")
        #expect(ModelSettings.resolve(
            registration: request, config: yaml, overrides: overrides, server: server, atStartup: false
        ).responseTimeout == .seconds(120))
        #expect(ModelSettings.resolve(
            registration: request, config: nil, overrides: overrides, server: server, atStartup: false
        ).responseTimeout == .seconds(45))
        #expect(ModelSettings.resolve(
            registration: request, config: nil, overrides: nil, server: server, atStartup: false
        ).responseTimeout == .seconds(5))
        #expect(ModelSettings.resolve(registration: .init(), config: nil, overrides: nil, server: server, atStartup: false)
            .responseTimeout == .seconds(60))
    }

    @Test func workersAndThreads() throws {
        let yaml = try config("minWorkers: 2\nmaxWorkers: 3\n")
        let oneWorker = ModelSettings.Partial(minWorkers: 1, maxWorkers: 1)
        let fromYaml = ModelSettings.resolve(
            registration: oneWorker, config: yaml, overrides: nil, server: server, atStartup: false, cores: 6)
        #expect((fromYaml.minWorkers, fromYaml.maxWorkers) == (2, 3))
        #expect(fromYaml.intraOpThreads == 1)
        let invalidYaml = try config("minWorkers: 3\nmaxWorkers: 1\n")
        let fromRequest = ModelSettings.resolve(
            registration: .init(minWorkers: 2, maxWorkers: 2), config: invalidYaml, overrides: nil, server: server,
            atStartup: false, cores: 2)
        #expect((fromRequest.minWorkers, fromRequest.maxWorkers) == (2, 2))
        #expect(fromRequest.intraOpThreads == 1)
        let none = ModelSettings.resolve(registration: .init(), config: nil, overrides: nil, server: server, atStartup: false)
        #expect(none.minWorkers == 0)
        let startup = ModelSettings.resolve(registration: .init(), config: nil, overrides: nil, server: server, atStartup: true, cores: 2)
        #expect((startup.minWorkers, startup.maxWorkers, startup.intraOpThreads) == (2, 2, 1))
        let threads = try config("intraOpThreads: 3\n")
        #expect(ModelSettings.resolve(registration: .init(), config: threads, overrides: nil, server: server, atStartup: true)
            .intraOpThreads == 3)
    }

    @Test func theModelsJSONSetsWorkersOnlyAtStartup() throws {
        let overrides = try #require(
            try ServerConfiguration(
                properties: #"models={"m": {"1.0": {"minWorkers": 2, "batchSize": 4}}}"#, environment: [:]
            ).models["m"]?["1.0"])
        #expect(overrides.settings.minWorkers == 2)
        #expect(overrides.settings.maxWorkers == 2)
        let atStartup = ModelSettings.resolve(registration: .init(), config: nil, overrides: overrides, server: server, atStartup: true)
        #expect((atStartup.minWorkers, atStartup.batchSize) == (2, 4))
        let registered = ModelSettings.resolve(registration: .init(), config: nil, overrides: overrides, server: server, atStartup: false)
        #expect((registered.minWorkers, registered.batchSize) == (0, 4))
    }

    @Test func maxRetryTimeoutComesFromTheModelConfigOnlyAndZeroCounts() throws {
        #expect(ModelSettings().maxRetryTimeout == .seconds(300))
        let set = ModelSettings(completing: ModelSettings.Partial(modelConfig: try config("maxRetryTimeoutInSec: 7")))
        #expect(set.maxRetryTimeout == .seconds(7))
        // 0 means "never retry" in TorchServe; a negative value is ignored.
        #expect(ModelSettings.Partial(modelConfig: try config("maxRetryTimeoutInSec: 0")).maxRetryTimeout == .zero)
        #expect(ModelSettings.Partial(modelConfig: try config("maxRetryTimeoutInSec: -5")).maxRetryTimeout == nil)
        let resolved = ModelSettings.resolve([
            .registration: ModelSettings.Partial(maxRetryTimeout: .seconds(1)),
            .modelConfig: ModelSettings.Partial(modelConfig: try config("batchSize: 2")),
        ])
        #expect(resolved.maxRetryTimeout == .seconds(300), "only model-config.yaml sets it")
        var huge = ModelSettings()
        huge.maxRetryTimeout = .seconds(10_000_000)
        #expect(throws: ServerError.self) { try huge.validate(maxWorkersPerModel: 4) }
    }
}
