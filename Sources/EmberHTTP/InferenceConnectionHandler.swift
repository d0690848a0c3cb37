import EmberCore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Serves one inference connection's requests on its event loop.
///
/// A request's head and body are collected here (at most `max_request_size` bytes), then
/// ``ListenerResponder`` answers it: at once, inside this read, when no route has to wait (`/ping`, the
/// API description, every refusal), else in a task whose executor is this event loop
/// (``EventLoopTaskExecutor``): what the routes do between awaits runs on the thread that read the
/// request, a prediction's answer wakes this loop once, and the answer is written here without another
/// hop. Nothing of the request crosses the concurrency pool.
///
/// Requests are answered in order. A pipelined request that arrives while an answer is pending waits
/// here, and the socket is not read further until that answer is written; a client that does not
/// pipeline never makes the loop change its interest in the socket (NIO's pipelining handler would,
/// twice per awaited answer).
///
/// A request with `Expect: 100-continue` gets its interim `100 Continue` when its head is read (unless
/// its declared body is over the limit: then its final answer is all it gets).
///
/// A body over the limit is not read further: the request goes to the responder at once with a body
/// that refuses to be collected (its route answers 413, or 401/404 first, as Hummingbird's did), and
/// ``RequestDeadlineHandler`` discards the rest of it.
final class InferenceConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        case collecting(HTTPRequest, ByteBuffer?)
        /// Dispatched before its end (too large): the rest of the body is dropped.
        case discarding
    }

    private let responder: ListenerResponder
    private let withdrawal: RequestWithdrawal
    private let logger: Logger
    private let maxRequestSize: Int
    private var state = State.idle
    /// A dispatched request's answer has not ended yet.
    private var answering = false
    /// Parts of later requests that arrived while `answering`.
    private var waiting = CircularBuffer<Incoming>()

    private enum Incoming {
        case part(HTTPRequestPart)
        /// What NIO's decoder could not parse: answered 400 in its turn, then the connection closes.
        case malformed
    }

    /// A request asked for `Connection: close`: what follows it is not served.
    private var closeRequested = false
    /// A read was asked for while requests waited; it is passed on once they are served.
    private var readHeld = false
    /// An answer with `Connection: close` went out before its request's body ended: close at that end.
    private var closeAtRequestEnd = false
    /// An answer with `Connection: close` went out: later requests are not served.
    private var finished = false
    private var executor: EventLoopTaskExecutor?
    private var date = HTTPDateCache()

    init(responder: ListenerResponder, withdrawal: RequestWithdrawal, logger: Logger) {
        self.responder = responder
        self.withdrawal = withdrawal
        self.logger = logger
        self.maxRequestSize = responder.settings.maxRequestSize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if finished {
            if case .end = part, closeAtRequestEnd { context.close(promise: nil) }
            return
        }
        if answering, case .idle = state {
            waiting.append(.part(part))
        } else {
            receive(part, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if answering, !waiting.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// An answer's end is written (`written` completes when it is sent): the requests that waited are
    /// served, then reading resumes; or, for `Connection: close`, the connection closes once the answer
    /// is sent, or once the request's body has been read when the answer came early (a client still
    /// writing would not read it otherwise).
    fileprivate func answerEnded(context: ChannelHandlerContext, written: EventLoopFuture<Void>, closing: Bool) {
        answering = false
        if closing {
            finished = true
            waiting.removeAll()
            if case .discarding = state {
                closeAtRequestEnd = true
            } else {
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            }
            return
        }
        while !answering, !finished, let item = waiting.popFirst() {
            switch item {
            case .part(let part): receive(part, context: context)
            case .malformed: refuseMalformed(context: context)
            }
        }
        if !answering, !finished, readHeld {
            readHeld = false
            context.read()
        }
    }

    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (part, state) {
        case (.head(let head), .idle):
            if let length = head.headerFields.first(.contentLength).flatMap(Int.init), length > maxRequestSize {
                state = .discarding
                dispatch(head, body: RequestBody(asyncSequence: RefusedBody(limit: maxRequestSize)), context: context)
            } else {
                state = .collecting(head, nil)
                // curl and others wait for this (up to a second) before they send a body.
                if head.headerFields.first(.expect)?.lowercased() == "100-continue" {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
                }
            }
        case (.body(var part), .collecting(let head, let collected)):
            guard (collected?.readableBytes ?? 0) <= maxRequestSize - part.readableBytes else {
                state = .discarding
                dispatch(head, body: RequestBody(asyncSequence: RefusedBody(limit: maxRequestSize)), context: context)
                return
            }
            guard var collected else {
                state = .collecting(head, part)
                return
            }
            state = .idle  // drops the state's reference, so the append below does not copy
            collected.writeBuffer(&part)
            state = .collecting(head, collected)
        case (.end, .collecting(let head, let collected)):
            state = .idle
            dispatch(head, body: RequestBody(buffer: collected ?? ByteBuffer()), context: context)
        case (.end, .discarding):
            state = .idle
            if closeAtRequestEnd { context.close(promise: nil) }
        case (.body, .discarding):
            break
        case (.head, _), (.body, .idle), (.end, .idle):
            // NIO's decoder never sends these out of order; close rather than guess.
            logger.debug("unexpected HTTP part; closing the connection")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            logger.debug("inference connection error; closing it", metadata: ["error": "\(error)"])
            return context.close(promise: nil)
        }
        // After a `Connection: close` request the decoder refuses any more bytes: nothing to answer.
        if closeRequested || finished { return }
        if answering || !waiting.isEmpty {
            waiting.append(.malformed)
        } else {
            refuseMalformed(context: context)
        }
    }

    /// A request that is not HTTP/1: 400 and close, as Hummingbird answers it.
    private func refuseMalformed(context: ChannelHandlerContext) {
        var fields = HTTPFields()
        fields[.connection] = "close"
        fields[.contentLength] = "0"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .badRequest, headerFields: fields))), promise: nil)
        answerEnded(context: context, written: context.writeAndFlush(wrapOutboundOut(.end(nil))), closing: true)
    }

    private func dispatch(_ head: HTTPRequest, body: RequestBody, context: ChannelHandlerContext) {
        let exchange = responder.start(Request(head: head, body: body), logger: logger)
        let closing = head.headerFields.first(.connection)?.lowercased() == "close"
        if closing { closeRequested = true }
        if let answer = responder.answerAtOnce(exchange) {
            return write(answer, closing: closing, context: context)
        }
        answering = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let writer = ResponseChannelWriter(
            target: NIOLoopBound(context, eventLoop: context.eventLoop), eventLoop: context.eventLoop, closing: closing,
            date: date.current(),
            ended: { context, written in handler.value.answerEnded(context: context, written: written, closing: closing) })
        let (responder, withdrawal, logger) = (self.responder, self.withdrawal, self.logger)
        Task(executorPreference: executor) {
            let response = await RequestWithdrawal.$current.withValue(withdrawal) {
                await responder.answerLater(exchange)
            }
            do {
                try await writer.write(response)
            } catch {
                // A stream that failed midway: the client must see the answer incomplete.
                logger.debug("response write failed; closing the connection", metadata: ["error": "\(error)"])
                await writer.close()
            }
        }
    }

    /// An immediate answer, written while the request is read: one flush, no task.
    private func write(_ answer: BufferedResponse, closing: Bool, context: ChannelHandlerContext) {
        var head = ResponseChannelWriter.head(
            status: answer.status, headers: answer.headers, date: date.current(), closing: closing)
        head.headerFields.appendNew(.contentLength, String(answer.body.readableBytes))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if answer.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(answer.body)), promise: nil) }
        if closing {
            answerEnded(context: context, written: context.writeAndFlush(wrapOutboundOut(.end(nil))), closing: true)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// A body over `max_request_size`: collecting it fails with 413.
private struct RefusedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let limit: Int
        mutating func next() async throws -> ByteBuffer? { throw ServerError.requestTooLarge(limit: limit) }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(limit: limit) }
}
