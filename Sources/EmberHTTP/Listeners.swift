import EmberCore
import Hummingbird
import Logging
import NIOCore

/// Builds the three listeners as Hummingbird applications (each a `Service` for one ServiceGroup).
public struct Listeners: Sendable {
    public let service: any ModelService
    public let settings: HTTPSettings
    public let metrics: ServerMetrics
    public let logger: Logger
    /// Refreshes system gauges before `/metrics` renders.
    public let refreshMetrics: @Sendable () -> Void

    public init(
        service: any ModelService, settings: HTTPSettings, metrics: ServerMetrics, logger: Logger,
        refreshMetrics: @escaping @Sendable () -> Void = {}
    ) {
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.refreshMetrics = refreshMetrics
    }

    public typealias App = Application<ListenerResponder>

    /// - Parameter onRunning: called with the bound port once the listener accepts connections.
    public func inference(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> App {
        let routes = InferenceRoutes(service: service, metrics: metrics)
        return application(.inference, host: host, port: port, onRunning: onRunning, routes: routes.handle)
    }

    public func management(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> App {
        let routes = ManagementRoutes(service: service)
        return application(.management, host: host, port: port, onRunning: onRunning, routes: routes.handle)
    }

    public func metrics(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> App {
        let routes = MetricsRoutes(metrics: metrics, refresh: refreshMetrics)
        return application(.metrics, host: host, port: port, onRunning: onRunning, routes: routes.handle)
    }

    private func application(
        _ listener: OpenAPIDocument.Listener, host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void,
        routes: @escaping @Sendable (Request, RequestPath, ListenerResponder.RequestInfo) async throws -> Response
    ) -> App {
        var accessLog = logger
        accessLog[metadataKey: "log"] = "access"
        let responder = ListenerResponder(
            listener: listener, settings: settings, metrics: metrics, accessLog: accessLog, routes: routes)
        return Application(
            responder: responder,
            // Idle connections close after the idle timeout; slow senders after the request deadlines.
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        RequestDeadlineHandler(
                            headTimeout: .milliseconds(Int64(settings.requestHeadTimeoutSeconds * 1000)),
                            bodyTimeout: .milliseconds(Int64(settings.requestBodyTimeoutSeconds * 1000)))
                    ],
                    idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "Ember", backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
