import NIOCore

/// Runs a request's task on its connection's event loop (a `TaskExecutor` preference, see
/// ``InferenceConnectionHandler``), so the responder's code between awaits runs on the thread that
/// reads and writes the socket: no hand-off to the concurrency pool when a request arrives and none
/// back when its answer is written (the worker's answer still wakes the loop once).
///
/// Only for listeners whose routes never block: everything blocking already runs on the `Blocking`
/// pool or a worker thread, and actor calls (the registry) still hop to the actor and back.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
