import Hummingbird
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Cancels a request's task when its client goes away, so a queued inference leaves its model's queue
/// instead of costing a forward nobody reads.
///
/// Hummingbird 2 does not do this: `HTTPChannelHandler.handleHTTP` runs the responder inside the
/// connection's task and cancels it only when the whole server shuts down; a client's EOF only ends the
/// inbound stream, which nobody reads while the handler runs. So ``ClientDisconnectHandler`` (in each
/// connection's pipeline) marks the connection's ``ConnectionWatch`` when the client's side closes
/// (EOF, as nginx counts a client abort, or a reset), and ``ConnectionWatch/cancellingOnDisconnect(_:)``
/// runs the request beside a task that waits for that mark.
final class ConnectionWatch: Sendable {
    private struct State {
        var gone = false
        var waiter: CheckedContinuation<Void, Never>?

        mutating func take() -> CheckedContinuation<Void, Never>? {
            defer { waiter = nil }
            return waiter
        }
    }

    private let state = Mutex(State())

    /// Watches by channel, for the responder to find its connection's.
    private static let watches = Mutex<[ObjectIdentifier: ConnectionWatch]>([:])

    static func register(_ channel: any Channel) -> ConnectionWatch {
        let watch = ConnectionWatch()
        watches.withLock { $0[ObjectIdentifier(channel)] = watch }
        return watch
    }

    static func unregister(_ channel: any Channel) {
        _ = watches.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    static func of(_ channel: any Channel) -> ConnectionWatch? {
        watches.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// The client closed its side or the connection dropped.
    func markGone() {
        let waiter = state.withLock { state in
            state.gone = true
            return state.take()
        }
        waiter?.resume()
    }

    var isGone: Bool { state.withLock { $0.gone } }

    /// Runs `operation`; cancels it when the client goes away first.
    func cancellingOnDisconnect<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                await self.clientGone()
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
                group.cancelAll()  // the client went away: the operation ends with its cancellation error
            }
            throw CancellationError()
        }
    }

    /// Returns when the client has gone, or when the calling task is cancelled.
    private func clientGone() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.gone || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.take() }?.resume()
        }
    }
}

/// Marks the connection's ``ConnectionWatch`` when the client's side closes.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private var watch: ConnectionWatch?

    func handlerAdded(context: ChannelHandlerContext) {
        watch = ConnectionWatch.register(context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ConnectionWatch.unregister(context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { watch?.markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch?.markGone()
        ConnectionWatch.unregister(context.channel)
        context.fireChannelInactive()
    }
}

/// Ember's request context: Hummingbird's basics plus the connection, to watch for its client leaving.
public struct EmberRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
