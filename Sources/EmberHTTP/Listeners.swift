import EmberCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore

/// Builds the three listeners as Hummingbird applications (each a `Service` for one ServiceGroup).
public struct Listeners: Sendable {
    public let service: any ModelService
    public let settings: HTTPSettings
    public let metrics: ServerMetrics
    public let logger: Logger
    /// One line per request (nil: none).
    public let accessLog: AccessLog?
    /// Refreshes system gauges before `/metrics` renders.
    public let refreshMetrics: @Sendable () -> Void
    /// The I/O threads that serve the connections (`number_of_netty_threads`); nil: NIO's shared
    /// group, one thread per core.
    public let eventLoopGroup: (any EventLoopGroup)?

    public init(
        service: any ModelService, settings: HTTPSettings, metrics: ServerMetrics, logger: Logger,
        accessLog: AccessLog? = nil, refreshMetrics: @escaping @Sendable () -> Void = {},
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.eventLoopGroup = eventLoopGroup
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.accessLog = accessLog
        self.refreshMetrics = refreshMetrics
    }

    public typealias App = Application<ListenerResponder>

    /// - Parameters:
    ///   - tls: serve TLS with these credentials (an `https://` address); nil: plain HTTP.
    ///   - onRunning: called with the bound port once the listener accepts connections.
    public func inference(
        host: String, port: Int, tls: TLSCredentials? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> App {
        let routes = InferenceRoutes(service: service, metrics: metrics)
        return try application(
            .inference, host: host, port: port, tls: tls, onRunning: onRunning, routes: routes.handle,
            immediateRoutes: routes.immediate)
    }

    public func management(
        host: String, port: Int, tls: TLSCredentials? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> App {
        let routes = ManagementRoutes(service: service)
        return try application(.management, host: host, port: port, tls: tls, onRunning: onRunning, routes: routes.handle)
    }

    public func metrics(
        host: String, port: Int, tls: TLSCredentials? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> App {
        let routes = MetricsRoutes(metrics: metrics, refresh: refreshMetrics)
        return try application(.metrics, host: host, port: port, tls: tls, onRunning: onRunning, routes: routes.handle)
    }

    private func application(
        _ listener: OpenAPIDocument.Listener, host: String, port: Int, tls: TLSCredentials?,
        onRunning: @escaping @Sendable (Int) async -> Void,
        routes: @escaping @Sendable (Request, RequestPath, ListenerResponder.RequestInfo) async throws -> Response,
        immediateRoutes: @escaping @Sendable (Request, RequestPath, ListenerResponder.RequestInfo) throws
            -> BufferedResponse? = { _, _, _ in nil }
    ) throws -> App {
        let responder = ListenerResponder(
            listener: listener, settings: settings, metrics: metrics, accessLog: accessLog, routes: routes,
            immediateRoutes: immediateRoutes)
        // Idle connections close after the idle timeout; slow senders after the request deadlines.
        let idleTimeout = TimeAmount.seconds(Int64(settings.idleTimeoutSeconds))
        let headTimeout = TimeAmount.milliseconds(Int64(settings.requestHeadTimeoutSeconds * 1000))
        let bodyTimeout = TimeAmount.milliseconds(Int64(settings.requestBodyTimeoutSeconds * 1000))
        let http1 =
            listener == .inference
            ? HTTPServerBuilder { _ in
                InferenceChannel(
                    responder: responder, idleTimeout: .seconds(settings.idleTimeoutSeconds), headTimeout: headTimeout,
                    bodyTimeout: bodyTimeout)
            }
            : HTTPServerBuilder { responder in
                HTTP1Channel(
                    responder: responder,
                    configuration: .init(
                        additionalChannelHandlers: [
                            RequestDeadlineHandler(headTimeout: headTimeout, bodyTimeout: bodyTimeout)
                        ],
                        idleTimeout: idleTimeout))
            }
        let server = try tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: $0.configuration) } ?? http1
        return Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "Ember", backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            eventLoopGroupProvider: eventLoopGroup.map { .shared($0) } ?? .singleton,
            logger: logger)
    }
}
