import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// HTTP/1 ⇄ HTTPTypes for the inference listener, between NIO's request decoder and the socket:
/// decoded requests go up as `HTTPRequestPart`s, answers come down as `HTTPResponsePart`s and leave
/// as bytes encoded here.
///
/// It stands where NIO's `HTTP1ToHTTPServerCodec` and `HTTPResponseEncoder` stood and answers as they
/// did (an HTTP/1.1 status line; a body framed by its `Content-Length`, else chunked; no body for a
/// status that has none or for an answer to HEAD or CONNECT), in one handler instead of two
/// conversions and two pipeline steps per part. An origin-form request target (`/path?query`, what
/// every client but a proxy sends) is taken as the path as it is: NIO's conversion parses each target
/// with Foundation's `URLComponents` (2 % of a prediction's CPU) and is kept for the other forms.
final class InferenceHTTPCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = IOData

    private enum BodyFraming {
        /// The body's bytes as they are (a `Content-Length` framed it).
        case identity
        case chunked
        /// Nothing may follow the head (1xx, 204, 304, answers to HEAD and CONNECT): body parts are dropped.
        case suppressed
    }

    private let secure: Bool
    /// The methods of requests read and not answered yet, oldest first.
    private var methods = CircularBuffer<HTTPMethod>(initialCapacity: 4)
    private var framing = BodyFraming.identity

    init(secure: Bool) {
        self.secure = secure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            methods.append(head.method)
            do {
                context.fireChannelRead(wrapInboundOut(.head(try Self.request(head, secure: secure))))
            } catch {
                context.fireErrorCaught(error)
            }
        case .body(let body):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { HTTPFields($0, splitCookie: false) })))
        }
    }

    static func request(_ head: HTTPRequestHead, secure: Bool) throws -> HTTPRequest {
        guard head.uri.utf8.first == UInt8(ascii: "/") else {
            return try HTTPRequest(head, secure: secure, splitCookie: false)
        }
        return HTTPRequest(
            method: try HTTPRequest.Method(head.method), scheme: secure ? "https" : "http",
            authority: head.headers.first(name: "host"), path: head.uri,
            headerFields: HTTPFields(head.headers, splitCookie: false))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response):
            let code = response.status.code
            let informational = (100..<200).contains(code) && code != 101
            // An interim answer (100 Continue) precedes the final one to the same request.
            let method = informational ? nil : methods.popFirst()
            let hasTransferEncoding = response.headerFields.has(.transferEncoding)
            // An answer to CONNECT has no body either (a 2xx one would open a tunnel: RFC 9110 §9.3.6).
            if informational || code == 204 || code == 304 || method == .CONNECT {
                if response.headerFields.has(.contentLength) { response.headerFields[.contentLength] = nil }
                if hasTransferEncoding { response.headerFields[.transferEncoding] = nil }
                framing = .suppressed
            } else if response.headerFields.has(.contentLength) {
                if hasTransferEncoding { response.headerFields[.transferEncoding] = nil }
                framing = .identity
            } else {
                response.headerFields[.transferEncoding] = "chunked"
                framing = .chunked
            }
            // HEAD's answer says what GET's would be, its framing headers included, without the body.
            if method == .HEAD { framing = .suppressed }
            let head = Self.encode(response, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(.byteBuffer(head)), promise: promise)
        case .body(let body):
            switch framing {
            case .identity:
                context.write(wrapOutboundOut(.byteBuffer(body)), promise: promise)
            case .chunked where body.readableBytes > 0:
                // An empty chunk would end the body.
                var chunk = context.channel.allocator.buffer(capacity: body.readableBytes + 20)
                chunk.writeString(String(body.readableBytes, radix: 16))
                chunk.writeStaticString("\r\n")
                chunk.writeImmutableBuffer(body)
                chunk.writeStaticString("\r\n")
                context.write(wrapOutboundOut(.byteBuffer(chunk)), promise: promise)
            case .chunked, .suppressed:
                promise?.succeed()
            }
        case .end(let trailers):
            guard case .chunked = framing else {
                // Written anyway, so the promise completes after the parts before it are sent.
                context.write(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: promise)
                return
            }
            var last = context.channel.allocator.buffer(capacity: 8)
            last.writeStaticString("0\r\n")
            for field in trailers ?? [:] { Self.write(field, into: &last) }
            last.writeStaticString("\r\n")
            context.write(wrapOutboundOut(.byteBuffer(last)), promise: promise)
        }
    }

    /// The status line and header fields (HTTPTypes has checked their bytes) in one buffer.
    static func encode(_ response: HTTPResponse, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(response.status.code))
        buffer.writeStaticString(" ")
        // `HTTPResponse.Status(code:)` has no phrase; NIO knows the standard ones.
        let phrase = response.status.reasonPhrase
        buffer.writeString(phrase.isEmpty ? HTTPResponseStatus(statusCode: response.status.code).reasonPhrase : phrase)
        buffer.writeStaticString("\r\n")
        for field in response.headerFields { write(field, into: &buffer) }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    private static func write(_ field: HTTPField, into buffer: inout ByteBuffer) {
        buffer.writeString(field.name.rawName)
        buffer.writeStaticString(": ")
        buffer.writeString(field.value)
        buffer.writeStaticString("\r\n")
    }
}
