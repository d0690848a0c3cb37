import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The inference listener's connections: Hummingbird's server binds, accepts, serves TLS and drains on
/// shutdown, but each connection's requests are served by ``InferenceConnectionHandler`` on its event
/// loop instead of Hummingbird's `NIOAsyncChannel` loop. That loop moves every request part through an
/// async sequence and runs the responder on the concurrency pool: two hand-offs per request, and
/// about 2.5 times the CPU of a bare NIOHTTP1 handler. Here a request is read and answered on the
/// event loop, and a prediction leaves it only for the worker (see `InferenceConnectionHandler`).
///
/// Hummingbird's responder closure is not used: the handler calls ``ListenerResponder`` directly, the
/// same responder the management and metrics listeners run through Hummingbird, so routing, the token
/// check, the error shape, standard headers, metrics and the access log are one implementation.
struct InferenceChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let responder: ListenerResponder
    let idleTimeout: Duration
    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let disconnect = ClientDisconnectHandler()
            try pipeline.addHandler(disconnect)
            // Pipelined requests, and parse errors in their turn, are ordered by InferenceConnectionHandler.
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try pipeline.addHandler(InferenceHTTPCodec(secure: false))
            try pipeline.addHandler(RequestDeadlineHandler(headTimeout: headTimeout, bodyTimeout: bodyTimeout))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            try pipeline.addHandler(
                InferenceConnectionHandler(responder: responder, withdrawal: disconnect.withdrawal, logger: logger))
            return Value(channel: channel)
        }
    }

    /// The connection is served by its handlers; its task only waits for it to close. (On a graceful
    /// shutdown Hummingbird's server sends every connection `ChannelShouldQuiesceEvent`, and
    /// `HTTPConnectionStateHandler` closes it once its request in flight is answered.)
    func handle(value: Value, logger: Logger) async {
        try? await value.channel.closeFuture.get()
    }
}
