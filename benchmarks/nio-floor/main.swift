// The bare SwiftNIO floor for `make bench` (benchmarks/run.py): an HTTP/1.1 server on NIOHTTP1 that reads
// each request's body and answers a fixed body (the size of the MLP's answer), on as many event loops as
// Ember's listeners get. What Swift and NIO cost on this machine with no framework, no routing and no model.
//
//     ember-nio-floor --port 8080 --answer answer.json
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Collects the request, then writes head, the fixed body and end in one flush.
final class FixedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let answer: ByteBuffer
    private var keepAlive = true
    private var received = 0

    init(answer: ByteBuffer) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            received = 0
        case .body(let chunk):
            received &+= chunk.readableBytes  // read, as Ember reads the body it decodes
        case .end:
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(answer.readableBytes))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(answer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !keepAlive { context.close(mode: .output, promise: nil) }
        }
    }
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let port = option("--port").flatMap(Int.init), let answerPath = option("--answer"),
    let answerData = FileManager.default.contents(atPath: answerPath)
else {
    FileHandle.standardError.write(Data("usage: ember-nio-floor --port N --answer FILE [--threads N]\n".utf8))
    exit(2)
}
let threads = option("--threads").flatMap(Int.init) ?? System.coreCount
let answer = ByteBuffer(bytes: answerData)
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(FixedAnswerHandler(answer: answer))
        }
    }
do {
    let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
    // Unbuffered, so the driver sees it at once.
    FileHandle.standardOutput.write(
        Data("Model server started. (nio floor on \(channel.localAddress?.description ?? "?"), \(threads) event loops)\n".utf8))
    try channel.closeFuture.wait()
} catch {
    FileHandle.standardError.write(Data("ember-nio-floor: \(error)\n".utf8))
    exit(1)
}
