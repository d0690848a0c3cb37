import EmberArchive
import EmberCore
import Foundation

/// A backend whose model doubles the number in each request body, records its batch sizes, and
/// misbehaves on purpose: `boom` throws (failing the batch), `hang` sleeps past any short timeout,
/// `bad` fails only its own request with 400, `short` returns one answer too few, and a batch holding `gate` waits until the test
/// calls ``release()`` (so tests control what is in flight without sleeping).
final class FakeBackend: InferenceBackend, @unchecked Sendable {
    let delay: TimeInterval
    let failLoads: Int
    let loadDelay: TimeInterval
    fileprivate let lock = NSLock()
    private var batches: [Int] = []
    private var loads = 0
    private var running = 0
    private let gate = DispatchSemaphore(value: 0)

    /// Signalled whenever a batch starts or a load begins.
    let changes = Changes()

    /// Lets one waiting `gate` batch finish.
    func release() { gate.signal() }

    /// Batches inside `infer` right now.
    var batchesRunning: Int { lock.withLock { running } }

    init(delay: TimeInterval = 0, failLoads: Int = 0, loadDelay: TimeInterval = 0) {
        self.delay = delay
        self.failLoads = failLoads
        self.loadDelay = loadDelay
    }

    var batchSizes: [Int] { lock.withLock { batches } }
    var loadCount: Int { lock.withLock { loads } }

    struct LoadFailure: Error, CustomStringConvertible { var description: String { "fake load failure" } }

    func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel {
        let attempt = lock.withLock { () -> Int in
            loads += 1
            return loads
        }
        changes.signal()
        if loadDelay > 0 { Thread.sleep(forTimeInterval: loadDelay) }
        if attempt <= failLoads { throw LoadFailure() }
        return Model(backend: self)
    }

    func record(_ size: Int) { lock.withLock { batches.append(size) } }

    final class Model: LoadedModel, @unchecked Sendable {
        let backend: FakeBackend
        init(backend: FakeBackend) { self.backend = backend }

        func prepareWorkerThread(intraOpThreads: Int) {}

        func infer(_ batch: [InferenceInput]) throws -> [Result<InferenceOutput, ServerError>] {
            backend.record(batch.count)
            backend.lock.withLock { backend.running += 1 }
            backend.changes.signal()
            defer { backend.lock.withLock { backend.running -= 1 } }
            let texts = batch.map { String(decoding: $0.body, as: UTF8.self) }
            if texts.contains("gate") { backend.gate.wait() }
            if texts.contains("boom") { throw LoadFailure() }
            if texts.contains("hang") { Thread.sleep(forTimeInterval: 2.5) }
            if backend.delay > 0 { Thread.sleep(forTimeInterval: backend.delay) }
            let answers = texts.map { text -> Result<InferenceOutput, ServerError> in
                if text == "gate" { return .success(InferenceOutput(body: Array("opened".utf8), contentType: nil)) }
                guard let number = Int(text) else {
                    return .failure(.badRequest("not a number: \(text)"))
                }
                return .success(InferenceOutput(body: Array(String(number * 2).utf8), contentType: "text/plain"))
            }
            // `short` answers one result too few for its batch.
            return texts.contains("short") ? Array(answers.dropLast()) : answers
        }

    }
}

/// Lets a test await a state change other threads make, without polling: whoever changes the state
/// calls ``signal()`` afterwards, and ``wait(until:)`` re-checks its condition on each signal.
final class Changes: @unchecked Sendable {
    private let lock = NSLock()
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func signal() {
        let woken = lock.withLock {
            defer { waiters = [] }
            return waiters
        }
        for waiter in woken { waiter.resume() }
    }

    func wait(until condition: @escaping () -> Bool) async {
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock a signal needs, so a change between the check and the wait still wakes us.
                let holds = lock.withLock {
                    if condition() { return true }
                    waiters.append(continuation)
                    return false
                }
                if holds { continuation.resume() }
            }
            if condition() { return }
        }
    }
}

/// A real archive on disk (a `no-archive` directory) for pools and the registry.
enum TestArchives {
    static func directory(name: String = "fake", version: String = "1.0", config: String? = nil) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-core-test-\(UUID().uuidString)")
        let directory = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("MAR-INF"), withIntermediateDirectories: true)
        try Data("not really torchscript".utf8).write(to: directory.appendingPathComponent("model.pt"))
        var model = """
            "modelName": "\(name)", "serializedFile": "model.pt", "handler": "base_handler", "modelVersion": "\(version)"
            """
        if let config {
            try Data(config.utf8).write(to: directory.appendingPathComponent("model-config.yaml"))
            model += #", "configFile": "model-config.yaml""#
        }
        let manifest = #"{"runtime": "python", "model": {"# + model + #"}, "archiverVersion": "0.12.0"}"#
        try Data(manifest.utf8).write(to: directory.appendingPathComponent("MAR-INF/MANIFEST.json"))
        return directory
    }

    static func archive(name: String = "fake", version: String = "1.0") throws -> ModelArchive {
        try ModelArchive.open(at: try directory(name: name, version: version).path)
    }
}

extension Result where Success == InferenceOutput, Failure == ServerError {
    var text: String? {
        if case .success(let output) = self { return String(decoding: output.body, as: UTF8.self) }
        return nil
    }

    var failure: ServerError? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
