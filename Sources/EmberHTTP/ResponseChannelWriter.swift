import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Writes one ``Response`` to its connection from the request's task (``InferenceConnectionHandler``).
///
/// The task runs on the connection's event loop, so each write goes straight to the pipeline; from
/// anywhere else (it never should) it hops there first. A body of known length goes out with its head
/// in one flush; a streamed body (no length: chunked) is flushed chunk by chunk, and waits for the
/// socket when the client reads more slowly than the handler produces.
struct ResponseChannelWriter: Sendable {
    let target: NIOLoopBound<ChannelHandlerContext>
    let eventLoop: any EventLoop
    /// The client asked to close the connection after this answer.
    let closing: Bool
    let date: HTTPField
    /// Called on the event loop once the answer's end is written, with that write's future (or once the
    /// connection is closed instead).
    let ended: @Sendable (ChannelHandlerContext, EventLoopFuture<Void>) -> Void

    private static let server = HTTPField(name: .server, value: "Ember")
    private static let connectionClose = HTTPField(name: .connection, value: "close")

    /// The head of an answer as every inference answer has it.
    static func head(status: HTTPResponse.Status, headers: HTTPFields, date: HTTPField, closing: Bool) -> HTTPResponse {
        var head = HTTPResponse(status: status, headerFields: headers)
        // No route sets these.
        head.headerFields.append(date)
        head.headerFields.append(server)
        if closing { head.headerFields.append(connectionClose) }
        return head
    }

    func write(_ response: Response) async throws {
        let part = HTTPResponsePart.head(
            Self.head(status: response.status, headers: response.headers, date: date, closing: closing))
        await onLoop { $0.write(NIOAny(part), promise: nil) }
        try await response.body.write(BodyWriter(writer: self, flushEach: response.body.contentLength == nil))
    }

    /// Ends the connection (a body that failed midway).
    func close() async {
        let ended = self.ended
        await onLoop { context in
            let closed = context.close()
            ended(context, closed)
        }
    }

    fileprivate func writeBody(_ buffer: ByteBuffer, flush: Bool) async throws {
        let pending: EventLoopFuture<Void>? = await onLoop { context in
            guard flush else {
                context.write(NIOAny(HTTPResponsePart.body(buffer)), promise: nil)
                return nil
            }
            let written = context.writeAndFlush(NIOAny(HTTPResponsePart.body(buffer)))
            return context.channel.isWritable ? nil : written
        }
        try await pending?.get()
    }

    fileprivate func finish(_ trailers: HTTPFields?) async {
        let ended = self.ended
        await onLoop { context in
            ended(context, context.writeAndFlush(NIOAny(HTTPResponsePart.end(trailers))))
        }
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (ChannelHandlerContext) -> T) async -> T {
        let target = self.target
        if eventLoop.inEventLoop { return body(target.value) }
        return await withCheckedContinuation { continuation in
            eventLoop.execute { continuation.resume(returning: body(target.value)) }
        }
    }
}

private struct BodyWriter: ResponseBodyWriter {
    let writer: ResponseChannelWriter
    let flushEach: Bool

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await writer.writeBody(buffer, flush: flushEach)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        await writer.finish(trailingHeaders)
    }
}
