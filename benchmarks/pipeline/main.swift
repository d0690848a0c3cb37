// ember-pipeline-bench: what one prediction costs below HTTP, stage by stage, in-process (no sockets).
// Loads an archive (default model_store/mlp.mar) through TorchInferenceBackend, as the server does, and
// runs each stage of a batch-1 prediction in a loop of its own on one thread, with one intra-op thread:
//
//   decode       the body's JSON → the model's input tensor (in libtorch)
//   forward      TorchModule.forward on that tensor
//   postprocess  the spec's steps on the output (softmax, classification) → the answer
//   render       the answer → its body bytes
//   infer        LoadedModel.infer([input]): all of the above, as a worker runs it
//   metrics      the series the server updates per request (ServerMetrics, as EmberHTTP/EmberServer do)
//   metrics (series)  the same through series resolved once (MetricsRegistry.series)
//   pool c1      WorkerPool.submit → answer, one request at a time (the worker thread's hand-offs included;
//                the pool's observer is the server's, ServerMetrics.poolObserver)
//   pool c32     32 tasks submitting at once (batches form: batch size and delay from the archive's config)
//
// CPU µs per request is the process's CPU time (all threads) over the requests of one loop; the stages
// run interleaved, `--rounds` times, and the table shows each stage's median round.
//
//   ember-pipeline-bench [--archive PATH] [--body PATH] [--iterations N] [--rounds R] [--only a,b]
import ArgumentParser
import EmberArchive
import EmberCore
import EmberTorch
import Foundation
import Logging
import TorchBackend

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember-pipeline-bench",
        abstract: "What one prediction costs below HTTP, stage by stage, in-process (CPU µs per request).")

    @Option(help: "The model archive (an in-process, libtorch model).")
    var archive = "model_store/mlp.mar"
    @Option(help: "The request body: one prediction's JSON.")
    var body = "examples/mlp/sample.json"
    @Option(help: "Iterations of each stage's loop per round.")
    var iterations = 20_000
    @Option(help: "Rounds (the table shows each stage's median round).")
    var rounds = 5
    @Option(help: "Only these stages, comma-separated (decode, forward, postprocess, render, infer, metrics, …).")
    var only: String?

    var stages: Set<String>? { only.map { Set($0.split(separator: ",").map(String.init)) } }

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ember-pipeline-bench: \(message)\n".utf8))
    exit(2)
}

func processCPU() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CPU and wall µs per iteration of one loop.
struct Measurement {
    var cpu: Double
    var wall: Double
}

func measure(_ iterations: Int, _ body: () throws -> Void) rethrows -> Measurement {
    let (cpu0, wall0) = (processCPU(), wallClock())
    for _ in 0..<iterations { try body() }
    let (cpu1, wall1) = (processCPU(), wallClock())
    return Measurement(cpu: (cpu1 - cpu0) / Double(iterations) * 1e6, wall: (wall1 - wall0) / Double(iterations) * 1e6)
}

/// `requests` predictions through `pool`, from `tasks` tasks at once, off the main actor (as the listeners
/// call it: from tasks on the concurrency pool).
nonisolated func measurePool(_ pool: WorkerPool, _ input: InferenceInput, requests: Int, tasks: Int) async throws
    -> Measurement
{
    let (cpu0, wall0) = (processCPU(), wallClock())
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
            group.addTask {
                for _ in 0..<(requests / tasks) {
                    let answer = try await pool.submit(input).get()
                    guard answer.status == 200 else { fail("pool answered \(answer.status)") }
                }
            }
        }
        try await group.waitForAll()
    }
    let (cpu1, wall1) = (processCPU(), wallClock())
    let answered = Double(requests / tasks * tasks)
    return Measurement(cpu: (cpu1 - cpu0) / answered * 1e6, wall: (wall1 - wall0) / answered * 1e6)
}

let options = Options.parseOrExit()
let logger = Logger(label: "ember.pipeline-bench")
let body: [UInt8]
do {
    body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: options.body)))
} catch {
    fail("cannot read \(options.body): \(error)")
}

let extraction = FileManager.default.temporaryDirectory.appendingPathComponent("ember-pipeline-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: extraction) }
let archive: ModelArchive
let loaded: TorchLoadedModel
do {
    try FileManager.default.createDirectory(at: extraction, withIntermediateDirectories: true)
    archive = try ModelArchive.open(at: options.archive, extractionParent: extraction)
    guard let model = try TorchInferenceBackend(logger: logger).load(archive, device: "cpu") as? TorchLoadedModel else {
        fail("\(options.archive) is not an in-process (libtorch) model")
    }
    loaded = model
} catch {
    fail("cannot load \(options.archive): \(error)")
}
loaded.prepareWorkerThread(intraOpThreads: 1)
let pipeline = loaded.pipeline
let input = InferenceInput(body: body, contentType: "application/json", requestID: "bench")

// What each stage hands the next, made once (and checked: the stages agree with infer's answer).
let tensor = try pipeline.inputTensor([body])
let output = try pipeline.module.forward([tensor])
let answers = try pipeline.answers(for: output, rows: 1)
let rendered = HandlerPipeline.render(answers[0])
guard case .success(let inferred)? = try loaded.infer([input]).first, inferred.body == rendered else {
    fail("the stages do not give infer's answer")
}

let metrics = ServerMetrics(hostname: "bench")
let names = (model: archive.modelName, version: archive.modelVersion)

/// The series the server updates for one answered prediction, as EmberServer's RegistryService and
/// EmberHTTP's InferenceCall and access path do today (label arrays built per request).
func recordRequestMetrics() {
    let registry = metrics.registry
    registry.increment(ServerMetrics.inferenceRequests, labels: [names.model, "default", metrics.hostname])
    registry.observe(ServerMetrics.requestLatencySeconds, labels: [names.model, names.version], 0.0001)
    registry.increment(ServerMetrics.queueLatency, labels: [names.model, "default", metrics.hostname], by: 3)
    registry.increment(ServerMetrics.inferenceLatency, labels: [names.model, "default", metrics.hostname], by: 120)
    registry.observe(ServerMetrics.serverOverhead, labels: [names.model, "default"], 0.0001)
    metrics.recordResponse(status: 200)
}

/// The same series resolved once (MetricsRegistry.series), as a caller that caches them records them.
struct RequestSeries {
    let requests, queueLatency, inferenceLatency, responses2XX: MetricSeries?
    let requestLatency, overhead: MetricSeries?

    init(_ metrics: ServerMetrics, model: String, version: String) {
        let registry = metrics.registry
        let urlLabels = [model, "default", metrics.hostname]
        requests = registry.series(ServerMetrics.inferenceRequests, labels: urlLabels)
        queueLatency = registry.series(ServerMetrics.queueLatency, labels: urlLabels)
        inferenceLatency = registry.series(ServerMetrics.inferenceLatency, labels: urlLabels)
        responses2XX = registry.series(ServerMetrics.requests2XX, labels: ["Host", metrics.hostname])
        requestLatency = registry.series(ServerMetrics.requestLatencySeconds, labels: [model, version])
        overhead = registry.series(ServerMetrics.serverOverhead, labels: [model, "default"])
    }

    func record() {
        requests?.increment()
        requestLatency?.observe(0.0001)
        queueLatency?.increment(by: 3)
        inferenceLatency?.increment(by: 120)
        overhead?.observe(0.0001)
        responses2XX?.increment()
    }
}
let requestSeries = RequestSeries(metrics, model: names.model, version: names.version)

var settings = ModelSettings(completing: archive.config.map { ModelSettings.Partial(modelConfig: $0) } ?? .init())
settings.minWorkers = 1
settings.maxWorkers = 1
settings.intraOpThreads = 1
settings.jobQueueSize = 1000
let pool = WorkerPool(
    modelName: names.model, modelVersion: names.version, archive: archive, backend: TorchInferenceBackend(logger: logger),
    settings: settings, idleSpin: .microseconds(ServerConfiguration().workerIdleSpinMicroseconds),
    observer: metrics.poolObserver(model: names.model, version: names.version),
    logger: logger)
pool.scale(min: 1, max: 1)
guard pool.waitUntilReady(timeout: .seconds(60)) == .ready else { fail("the pool did not become ready") }

typealias Stage = (name: String, run: () async throws -> Measurement)
let n = options.iterations
let stages: [Stage] = [
    ("decode", { try measure(n) { _ = try pipeline.inputTensor([body]) } }),
    ("forward", { try measure(n) { _ = try pipeline.module.forward([tensor]) } }),
    ("postprocess", { try measure(n) { _ = try pipeline.answers(for: output, rows: 1) } }),
    ("render", { measure(n) { _ = HandlerPipeline.render(answers[0]) } }),
    ("infer", { try measure(n) { _ = try loaded.infer([input]) } }),
    ("metrics", { measure(n) { recordRequestMetrics() } }),
    ("metrics (series)", { measure(n) { requestSeries.record() } }),
    ("pool c1", { try await measurePool(pool, input, requests: n, tasks: 1) }),
    ("pool c32", { try await measurePool(pool, input, requests: n, tasks: 32) }),
].filter { options.stages?.contains($0.name) ?? true }

// Warm-up: one short loop of each.
for stage in stages { _ = try await stage.run() }
var results: [String: [Measurement]] = [:]
for _ in 0..<options.rounds {
    for stage in stages { results[stage.name, default: []].append(try await stage.run()) }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

print("archive \(options.archive), body \(options.body) (\(body.count) bytes), \(n) iterations × \(options.rounds) rounds")
print("")
print("| stage | CPU µs/request (median) | min | max | wall µs/request |")
print("|---|---:|---:|---:|---:|")
for stage in stages {
    let runs = results[stage.name] ?? []
    let cpu = runs.map(\.cpu)
    print(
        "| \(stage.name) | \(fixed(median(cpu))) | \(fixed(cpu.min() ?? 0)) | \(fixed(cpu.max() ?? 0)) | \(fixed(median(runs.map(\.wall)))) |")
}
pool.shutdown(timeout: .seconds(5))
