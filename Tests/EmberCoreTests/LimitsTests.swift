import EmberCore
import Foundation
import Logging
import Synchronization
import Testing

/// Every number from a request or a file is checked against a documented range, worker counts against
/// the configured caps, and blocking work runs on a bounded pool of threads.
@Suite struct LimitsTests {
    func registry(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> ModelRegistry {
        let model = try TestArchives.directory(name: "fake")
        var configuration = ServerConfiguration()
        configuration.modelStore = model.deletingLastPathComponent().path
        configure(&configuration)
        return ModelRegistry(
            backend: FakeBackend(), configuration: configuration, metrics: ServerMetrics(hostname: "test"),
            logger: Logger(label: "test"))
    }

    @Test func scalingBeyondThePerModelCapIs400NamingIt() async throws {
        let registry = try registry { $0.maxWorkersPerModel = 3 }
        _ = try await registry.register(.init(url: "fake"))
        await #expect(throws: ServerError.workerCapExceeded(
            "A model version may run at most 3 workers (max_workers_per_model); 5000 were asked for.")) {
            _ = try await registry.scale(name: "fake", version: nil, min: 5000, max: 5000, synchronous: true)
        }
        // Within the cap the scale goes ahead (a larger max starts nothing: there is no autoscaling).
        let scaled = try await registry.scale(name: "fake", version: nil, min: 3, max: 3, synchronous: true)
        #expect(scaled == .completed("Workers scaled to 3 for model: fake"))
        let pool = try registry.pool("fake", version: nil)
        #expect(pool.workerRange.min == 3)
        #expect(pool.workerRange.max == 3)
        await registry.shutdownAll(timeout: .seconds(5))
    }

    @Test func theServerWideCapCountsEveryVersion() async throws {
        let registry = try registry {
            $0.maxWorkersPerModel = 4
            $0.maxWorkers = 5
        }
        _ = try await registry.register(.init(url: "fake", settings: .init(minWorkers: 3, maxWorkers: 3)))
        _ = try await registry.register(.init(url: "fake", modelName: "other"))
        await #expect(throws: ServerError.workerCapExceeded(
            "The server may run at most 5 workers in all (max_workers); 3 here and 3 for the other model versions would be more.")) {
            _ = try await registry.scale(name: "other", version: nil, min: 3, max: 3, synchronous: false)
        }
        // Rescaling a version counts its new workers instead of its old ones.
        _ = try await registry.scale(name: "fake", version: nil, min: 4, max: 4, synchronous: false)
        _ = try await registry.scale(name: "other", version: nil, min: 1, max: 1, synchronous: true)
        // A registration asking for too many is refused and leaves nothing registered.
        await #expect(throws: ServerError.self) {
            _ = try await registry.register(.init(url: "fake", modelName: "third", settings: .init(minWorkers: 2, maxWorkers: 2)))
        }
        await #expect(throws: ServerError.modelNotFound("third")) { try registry.requireModel("third") }
        await registry.shutdownAll(timeout: .seconds(5))
    }

    @Test func settingsFromAnySourceAreCheckedAgainstTheirRange() throws {
        func failure(_ change: (inout ModelSettings) -> Void) -> String? {
            var settings = ModelSettings(minWorkers: 1, maxWorkers: 1)
            change(&settings)
            do {
                try settings.validate(maxWorkersPerModel: 8)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(failure { _ in } == nil)
        #expect(failure { $0.batchSize = 5000 } == "batch_size (batchSize) must be an integer from 1 to 1024; got 5000.")
        #expect(failure { $0.maxBatchDelay = .milliseconds(Int.max) }?.hasPrefix("max_batch_delay") == true)
        #expect(failure { $0.responseTimeout = .seconds(Int.max) }?.hasPrefix("response_timeout") == true)
        #expect(failure { $0.startupTimeout = .zero }?.hasPrefix("startup_timeout") == true)
        #expect(failure { $0.jobQueueSize = 10_000_000 }?.hasPrefix("job_queue_size") == true)
        #expect(failure { $0.clientTimeout = .milliseconds(604_800_001) }?.hasPrefix("clientTimeoutInMills") == true)
        #expect(failure { $0.clientTimeout = .milliseconds(604_800_000) } == nil)
        #expect(failure {
            $0.minWorkers = 9
            $0.maxWorkers = 9
        }?.contains("max_workers_per_model") == true)
        #expect(failure { $0.maxWorkers = 9 } == nil)
    }

    @Test func configurationNumbersOutOfRangeAreStartupErrorsNamingTheKey() throws {
        for (line, fragment) in [
            ("default_response_timeout=9223372036854775807", "default_response_timeout must be an integer from 1 to 604800"),
            ("job_queue_size=99999999", "job_queue_size must be an integer no larger than 1000000"),
            ("max_workers_per_model=0", "max_workers_per_model must be an integer from 1 to 4096"),
            ("max_request_size=99999999999", "max_request_size must be an integer no larger than 2147483647"),
            ("token_expiration_min=1e300", "token_expiration_min must be a positive number of minutes"),
        ] {
            #expect {
                _ = try ServerConfiguration(properties: line, environment: [:])
            } throws: { error in
                "\(error)".contains(fragment)
            }
        }
        let configured = try ServerConfiguration(properties: "max_workers_per_model=6\nmax_workers=20", environment: [:])
        #expect(configured.maxWorkersPerModel == 6)
        #expect(configured.maxWorkers == 20)
        let defaults = ServerConfiguration()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(defaults.maxWorkersPerModel == max(4, 4 * cores))
        #expect(defaults.maxWorkers == max(16, 16 * cores))
    }

    @Test func durationsBeyondInt64MillisecondsSaturate() {
        #expect(Duration.seconds(Int.max).milliseconds == .max)
        #expect(Duration.seconds(Int.min).milliseconds == .min)
        #expect(Duration.seconds(Int.max).wholeMilliseconds == .max)
        #expect(Duration.milliseconds(1500).milliseconds == 1500)
    }

    @Test func blockingWorkRunsOnABoundedPool() async throws {
        final class Gauge: Sendable {
            let running = Atomic<Int>(0)
            let peak = Atomic<Int>(0)
        }
        let gauge = Gauge()
        let jobs = Blocking.threadLimit * 3
        let sum = await withTaskGroup(of: Int.self) { group in
            for index in 0..<jobs {
                group.addTask {
                    await Blocking.run {
                        let now = gauge.running.add(1, ordering: .relaxed).newValue
                        _ = gauge.peak.max(now, ordering: .relaxed)
                        usleep(20_000)
                        gauge.running.subtract(1, ordering: .relaxed)
                        return index
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(sum == jobs * (jobs - 1) / 2)
        #expect(gauge.peak.load(ordering: .relaxed) <= Blocking.threadLimit)
        #expect(Blocking.threadCount <= Blocking.threadLimit)
    }
}
