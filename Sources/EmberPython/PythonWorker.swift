#if canImport(Glibc)
import Glibc
#endif
import EmberCore
import Foundation
import Logging
import Synchronization

/// A pool worker that is one `ts.model_service_worker` process, spoken to over a Unix socket with
/// TorchServe's binary protocol.
///
/// One dedicated thread owns the process and the socket: it spawns the process, connects, sends the
/// load message and reports ready; then it waits on the socket and a wake pipe together, so a batch
/// from ``run(_:)``, a ``stop()`` and the process dying (the socket closes) all wake it. It writes
/// each batch, reads the reply (intermediate chunks first, when the handler streams) and reports it.
/// It alone waits for the process, so a pid is never reaped twice; a second thread turns the
/// process's output into log lines and metrics.
final class PythonWorker: PoolWorker, @unchecked Sendable {
    let id: Int
    private let launch: PythonWorkerLaunch
    private let logger: Logger
    private let mailbox = Mutex(Mail())
    private let wake: WakePipe
    /// Set once the process answered its load (only the I/O thread writes it).
    private let loaded = Atomic<Bool>(false)

    private struct Mail {
        var batch: [InferenceInput]?
        var stop = false
    }

    init(id: Int, launch: PythonWorkerLaunch) throws(WireError) {
        self.id = id
        self.launch = launch
        self.wake = try WakePipe()
        var logger = launch.logger
        logger[metadataKey: "worker.id"] = "\(id)"
        self.logger = logger
    }

    func start(events: any PoolWorkerEvents) {
        let thread = Thread { [self] in
            try? "ember-py\(id)".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            serve(events)
        }
        thread.name = "ember-python-\(id)"
        thread.start()
    }

    func run(_ batch: [InferenceInput]) {
        mailbox.withLock { $0.batch = batch }
        wake.signal()
    }

    func stop() {
        mailbox.withLock { $0.stop = true }
        wake.signal()
    }

    private var stopRequested: Bool { mailbox.withLock { $0.stop } }

    // MARK: The I/O thread

    private func serve(_ events: any PoolWorkerEvents) {
        let socketPath: String
        switch WorkerSocketDirectory.socketPath(worker: id) {
        case .success(let path): socketPath = path
        case .failure(let error):
            logger.error("no directory for the worker's socket", metadata: ["error": "\(error)"])
            events.workerExited(id, reason: "\(error)")
            return
        }
        unlink(socketPath)
        defer { unlink(socketPath) }
        let process: ChildProcess
        do {
            process = try ChildProcess(
                arguments: launch.arguments(socketPath: socketPath), environment: launch.processEnvironment(parent: getpid()))
        } catch {
            logger.error("cannot start the Python worker", metadata: ["error": "\(error)"])
            events.workerExited(id, reason: "\(error)")
            return
        }
        var logger = self.logger
        logger[metadataKey: "worker.pid"] = "\(process.pid)"
        let output = WorkerOutput()
        startOutputThread(fd: process.output, logger: logger, output: output)
        logger.info("started Python worker", metadata: ["interpreter": "\(launch.interpreter)"])

        let reason = converse(process: process, socketPath: socketPath, events: events, logger: logger)
        let ending = process.reap(grace: .seconds(3))
        if let reason {
            logger.error("Python worker ended", metadata: ["reason": "\(reason)", "status": "\(ending)"])
            // A worker that never became ready: the Python error that stopped its load, when it printed
            // one (a missing package, a broken handler), is what a failed registration should say.
            let error = loaded.load(ordering: .relaxed) ? "" : output.firstError(waitingUpTo: .seconds(1)).map { ": \($0)" } ?? ""
            events.workerExited(id, reason: "\(reason) (\(ending))\(error)")
        } else {
            logger.info("Python worker stopped", metadata: ["status": "\(ending)"])
        }
    }

    /// Runs the conversation until a stop (returns nil) or a failure (returns why).
    private func converse(
        process: ChildProcess, socketPath: String, events: any PoolWorkerEvents, logger: Logger
    ) -> String? {
        let socket: WorkerSocket
        let deadline = ContinuousClock.now + launch.startupTimeout
        do {
            socket = try WorkerSocket.connect(
                path: socketPath, deadline: deadline, wake: wake, shouldStop: { [self] in stopRequested },
                childExited: { process.exitStatus().map(ChildProcess.describe) })
        } catch {
            return reason(error, interruption: nil, phase: "connect")
        }
        defer { socket.close() }
        let decoder = WorkerResponseDecoder(maxBodySize: launch.maxResponseSize)

        // Load.
        do {
            try socket.writeAll(launch.load.encoded())
            var source = SocketWireSource(socket: socket, deadline: deadline)
            let reply: WorkerResponse
            do {
                reply = try decoder.decode(from: &source)
            } catch {
                return reason(error, interruption: source.interruption, phase: "load")
            }
            guard reply.code == 200 else { return "the handler failed to load: \(reply.code) \(reply.message)" }
        } catch {
            return reason(error, interruption: nil, phase: "load")
        }
        logger.info("Python worker loaded the model")
        loaded.store(true, ordering: .relaxed)
        events.workerReady(id)

        // Batches.
        while true {
            let mail = mailbox.withLock { mail in
                let taken = mail
                mail.batch = nil
                return taken
            }
            if mail.stop { return nil }
            guard let batch = mail.batch else {
                do {
                    // Readable while idle: the process closed its end (it died).
                    if try socket.waitReadable(until: nil) { return "the worker closed its socket" }
                } catch {
                    return reason(error, interruption: nil, phase: "idle")
                }
                continue
            }
            let started = ContinuousClock.now
            let requests = batch.map { WorkerRequest($0) }
            do {
                try socket.writeAll(InferenceRequest(requests: requests).encoded())
            } catch {
                return reason(error, interruption: nil, phase: "write")
            }
            var source = SocketWireSource(socket: socket, deadline: nil)
            let reply: WorkerResponse
            do {
                var message = try decoder.decode(from: &source)
                // Intermediate chunks (`send_intermediate_predict_response`) come first, one message
                // each: each goes to its request's stream as it arrives.
                while message.code == 200, !message.predictions.isEmpty, message.predictions.allSatisfy(\.isIntermediate) {
                    for prediction in message.predictions {
                        events.workerStreamed(id, requestID: prediction.requestID, prediction.output)
                    }
                    message = try decoder.decode(from: &source)
                }
                reply = message
            } catch {
                return reason(error, interruption: source.interruption, phase: "predict")
            }
            let finished = ContinuousClock.now
            let outcome = BatchOutcome(answers: .success(reply.results(for: batch)), inferenceTime: finished - started)
            events.workerFinished(id, outcome)
        }
    }

    /// nil for a requested stop; otherwise why the worker is gone.
    private func reason(_ error: any Error, interruption: SocketInterruption?, phase: String) -> String? {
        switch interruption ?? (error as? SocketInterruption) {
        case .stopRequested: return nil
        case .timedOut: return "no answer in the \(phase) phase within startupTimeout"
        case .closed(let why): return why
        case nil: return "\(phase): \(error)"
        }
    }

    // MARK: Output

    private func startOutputThread(fd: Int32, logger: Logger, output: WorkerOutput) {
        let metricsLine = launch.metricsLine
        let thread = Thread {
            defer { output.finished() }
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16_384)
            func emit(_ line: ArraySlice<UInt8>) {
                let text = String(decoding: line, as: UTF8.self)
                if let range = text.range(of: "[METRICS]") {
                    metricsLine(String(text[range.upperBound...]))
                } else if !text.isEmpty {
                    logger.info("\(text)", metadata: ["source": "python"])
                    output.saw(text)
                }
            }
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                pending += buffer[0..<count]
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    emit(pending[..<newline])
                    pending.removeSubrange(...newline)
                }
                // A line longer than the buffer is logged in pieces rather than held without bound.
                if pending.count > buffer.count {
                    emit(pending[...])
                    pending.removeAll()
                }
            }
            if !pending.isEmpty { emit(pending[...]) }
            close(fd)
        }
        thread.name = "ember-python-log-\(id)"
        thread.start()
    }
}

/// What the output thread saw that the I/O thread may need: the first line that reads like a Python
/// exception (`ModuleNotFoundError: No module named 'x'`: the root of a chained traceback comes first).
final class WorkerOutput: Sendable {
    private let firstErrorLine = Mutex<String?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func saw(_ line: String) {
        // A traceback's exception line: `SomethingError: message` (or `…Exception: …`) at the line's start.
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon]
        guard name.hasSuffix("Error") || name.hasSuffix("Exception"), !name.contains(" ") else { return }
        firstErrorLine.withLock { if $0 == nil { $0 = String(line.prefix(500)) } }
    }

    func finished() { done.signal() }

    /// The first exception line, after waiting (bounded) for the output to end.
    func firstError(waitingUpTo limit: Duration) -> String? {
        _ = done.wait(timeout: .now() + limit.seconds)
        return firstErrorLine.withLock { $0 }
    }
}
