import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send a request: the request head must arrive within
/// `headTimeout` (counted from the connection's start or the end of the previous response), and the
/// body within `bodyTimeout` of the head. A slowloris client trickling bytes keeps a connection
/// non-idle, so the idle timeout alone would never close it.
///
/// It also lingers after an early answer (a 413, a refused token), as nginx's lingering close does: the
/// response goes out while the client may still be writing its body, so this handler reads the rest of
/// that body and discards it (Hummingbird stops reading a `Connection: close` request's body once it
/// has answered, and a client blocked writing never reads the answer), for no more than `lingerBytes`
/// and `lingerTimeout`, then the connection closes.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let lingerTimeout: TimeAmount
    private let lingerBytes: Int
    /// When the connection closes unless the awaited part arrives first; nil: nothing awaited.
    private var deadline: NIODeadline?
    private var scheduled: (task: Scheduled<Void>, at: NIODeadline)?
    /// Between a request's head and its end.
    private var readingBody = false
    /// Body bytes discarded since the response went out before the request's end; nil when not lingering.
    private var lingered: Int?

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount, lingerTimeout: TimeAmount = .seconds(30), lingerBytes: Int = 64 << 20) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.lingerTimeout = lingerTimeout
        self.lingerBytes = lingerBytes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headTimeout)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readingBody = true
            arm(context, bodyTimeout)
        case .body(let buffer):
            if let lingered {
                let total = lingered + buffer.readableBytes
                self.lingered = total
                if total > lingerBytes { context.close(promise: nil) }
                return  // discarded: the request was answered already
            }
        case .end:
            readingBody = false
            if lingered != nil {
                // The early answer is out and the body is drained: ready for the next request.
                lingered = nil
                arm(context, headTimeout)
            } else {
                cancel()  // the request is complete; the response is ours to send
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            if readingBody {
                lingered = 0
                arm(context, lingerTimeout)
                context.read()
            } else {
                arm(context, headTimeout)
            }
        }
        context.write(data, promise: promise)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // Nobody upstream wants the discarded body: keep reading it here.
        if lingered != nil { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
    }

    /// Sets the deadline. A timer already scheduled no later than it is kept (when it fires early it
    /// schedules the rest), so a request costs a clock read here, not a timer set and cancelled twice.
    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        let at = NIODeadline.now() + timeout
        deadline = at
        if let scheduled, scheduled.at <= at { return }
        schedule(context, at: at)
    }

    private func schedule(_ context: ChannelHandlerContext, at: NIODeadline) {
        scheduled?.task.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: at) {
            let (handler, context) = loopBound.value
            handler.scheduled = nil
            guard let deadline = handler.deadline else { return }
            if deadline <= .now() {
                context.close(promise: nil)
            } else {
                handler.schedule(context, at: deadline)
            }
        }
        scheduled = (task, at)
    }

    private func cancel() {
        deadline = nil
    }

    private func stopTimer() {
        deadline = nil
        scheduled?.task.cancel()
        scheduled = nil
    }
}
