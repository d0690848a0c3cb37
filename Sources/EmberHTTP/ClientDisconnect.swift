import EmberCore
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Takes a queued inference out of its model's queue when its client goes away, so it does not cost a
/// forward nobody reads, without a task per request and without cancelling the connection's task.
///
/// Hummingbird 2 runs the responder inside the connection's task and cancels it only when the whole
/// server shuts down; a client's EOF only ends the inbound stream, which nobody reads while the handler
/// runs. So each connection gets one ``RequestWithdrawal`` (EmberCore): ``ClientDisconnectHandler``
/// (in the pipeline) calls ``RequestWithdrawal/withdraw()`` when the client's side closes (EOF, as nginx
/// counts a client abort, or a reset), and ``WatchedHTTP1Channel`` binds it to the connection's task
/// (``RequestWithdrawal/current``), where the worker pool finds it when it queues the request: no
/// process-wide table, no lock shared between connections.
///
/// Why not cancel the connection's task instead (cheaper than the task group this replaced, and tried
/// first): a cancelled task stays cancelled. Everything the connection did afterwards would see the
/// cancellation (the next request on a keep-alive connection, the response write, reading the next
/// request head), so one spurious or late mark would break a live connection instead of failing one
/// queued request; withdrawing the job touches only the job.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let withdrawal = RequestWithdrawal()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { withdrawal.withdraw() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        withdrawal.withdraw()
        context.fireChannelInactive()
    }
}

/// Hummingbird's HTTP/1 child channel with the connection's ``RequestWithdrawal`` bound to its task.
/// Its pipeline must hold a ``ClientDisconnectHandler`` (``Listeners`` adds one to every connection).
struct WatchedHTTP1Channel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let inner: HTTP1Channel.Value
        let withdrawal: RequestWithdrawal?
        var channel: any Channel { inner.channel }
    }

    let inner: HTTP1Channel
    /// Run the connection's task on its event loop (``EventLoopTaskExecutor``).
    var onEventLoop = false

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).map { value in
            // On the channel's event loop (the future's callbacks run there), once per connection.
            let handler = try? channel.pipeline.syncOperations.handler(type: ClientDisconnectHandler.self)
            return Value(inner: value, withdrawal: handler?.withdrawal)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard onEventLoop else { return await serve(value, logger: logger) }
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await serve(value, logger: logger)
        }
    }

    private func serve(_ value: Value, logger: Logger) async {
        await RequestWithdrawal.$current.withValue(value.withdrawal) {
            await inner.handle(value: value.inner, logger: logger)
        }
    }
}
