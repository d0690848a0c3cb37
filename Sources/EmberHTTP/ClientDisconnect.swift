import EmberCore
import NIOCore

/// Takes a queued inference out of its model's queue when its client goes away, so it does not cost a
/// forward nobody reads, without a task per request and without cancelling the connection's task.
///
/// Each inference connection gets one ``RequestWithdrawal`` (EmberCore): this handler, first in the
/// pipeline, calls ``RequestWithdrawal/withdraw()`` when the client's side closes (EOF, as nginx counts a client
/// abort, or a reset), and ``InferenceConnectionHandler`` binds it to each request's task
/// (``RequestWithdrawal/current``), where the worker pool finds it when it queues the request: no
/// process-wide table, no lock shared between connections.
///
/// Why not cancel the connection's task instead (cheaper than the task group this replaced, and tried
/// first): a cancelled task stays cancelled. Everything the connection did afterwards would see the
/// cancellation (the next request on a keep-alive connection, the response write, reading the next
/// request head), so one spurious or late mark would break a live connection instead of failing one
/// queued request; withdrawing the job touches only the job.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

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
