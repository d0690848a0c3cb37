import EmberCore
import EmberGRPCProtos
import EmberHTTP
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Builds the two gRPC listeners (each a `Service` for the server's one ServiceGroup): inference
/// (TorchServe's InferenceAPIsService and the OIP GRPCInferenceService, default 7070) and management
/// (ManagementAPIsService, default 7071). Messages are limited to `max_request_size`
/// (``MessageSizeLimit``); TLS serves the
/// same PEM files as the HTTPS listeners.
public struct GRPCListeners: Sendable {
    /// The PEM files of `enable_grpc_ssl`.
    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    public let service: any ModelService
    public let settings: HTTPSettings
    public let metrics: ServerMetrics
    public let logger: Logger
    public let accessLog: AccessLog?
    public let tls: TLSFiles?
    /// The I/O threads (`number_of_netty_threads`), shared with the HTTP listeners.
    public let eventLoopGroup: MultiThreadedEventLoopGroup

    public init(
        service: any ModelService, settings: HTTPSettings, metrics: ServerMetrics, logger: Logger,
        accessLog: AccessLog? = nil, tls: TLSFiles? = nil,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) {
        self.eventLoopGroup = eventLoopGroup
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.accessLog = accessLog
        self.tls = tls
    }

    /// - Parameter onRunning: called with the bound port once the listener accepts connections.
    public func inference(
        host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> GRPCListener {
        let torchServe = GRPCCall(logger: logger, accessLog: accessLog, style: .torchServe)
        let oip = GRPCCall(logger: logger, accessLog: accessLog, style: .oip)
        let services: [any RegistrableRPCService] = [
            TorchServeInferenceService(service: service, metrics: metrics, settings: settings, call: torchServe),
            OIPInferenceService(service: service, metrics: metrics, settings: settings, call: oip),
        ]
        // The health calls, which health_probes_without_token opens as REST's /ping and /v2/health/*.
        let probes: Set<String> = [
            Org_Pytorch_Serve_Grpc_Inference_InferenceAPIsService.Method.Ping.descriptor.fullyQualifiedMethod,
            Inference_GRPCInferenceService.Method.ServerLive.descriptor.fullyQualifiedMethod,
            Inference_GRPCInferenceService.Method.ServerReady.descriptor.fullyQualifiedMethod,
        ]
        return try listener(
            host: host, port: port, services: services, scope: .inference,
            open: settings.healthProbesWithoutToken ? probes : [], onRunning: onRunning)
    }

    public func management(
        host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> GRPCListener {
        let call = GRPCCall(logger: logger, accessLog: accessLog, style: .torchServe)
        return try listener(
            host: host, port: port,
            services: [TorchServeManagementService(service: service, settings: settings, call: call)],
            scope: .management, open: [], onRunning: onRunning)
    }

    private func listener(
        host: String, port: Int, services: [any RegistrableRPCService], scope: TokenAuthorization.Scope,
        open: Set<String>, onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> GRPCListener {
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            if let tls {
                .tls(
                    .defaults(
                        certificateChain: [.file(path: tls.certificateChain, format: .pem)],
                        privateKey: .file(path: tls.privateKey, format: .pem)))
            } else {
                .plaintext
            }
        let transportLimit = MessageSizeLimit.transportLimit(settings.maxRequestSize)
        let transport = HTTP2ServerTransport.Posix(
            address: try Self.address(host: host, port: port), transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = transportLimit }, eventLoopGroup: eventLoopGroup)
        let interceptors: [any ServerInterceptor] =
            settings.tokenAuthorization.map { [TokenInterceptor(tokens: $0, scope: scope, open: open, accessLog: accessLog)] }
            ?? []
        let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
        return GRPCListener(server: server, transport: transport, onRunning: onRunning, logger: logger)
    }

    /// An IP literal as it is; a host name resolved once, as the HTTP listeners' bind does.
    static func address(host: String, port: Int) throws -> GRPCNIOTransportCore.SocketAddress {
        let resolved: NIOCore.SocketAddress
        do {
            resolved = try NIOCore.SocketAddress(ipAddress: host, port: port)
        } catch {
            resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: port)
        }
        let literal = resolved.ipAddress ?? host
        switch resolved {
        case .v6: return .ipv6(host: literal, port: port)
        default: return .ipv4(host: literal, port: port)
        }
    }
}

/// One gRPC listener in the ServiceGroup: serves until the group shuts down; a graceful shutdown
/// stops new calls and lets the calls in flight finish, as the REST listeners do.
public struct GRPCListener: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let transport: HTTP2ServerTransport.Posix
    let onRunning: @Sendable (Int) async -> Void
    let logger: Logger

    public func run() async throws {
        let server = self.server
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                group.addTask {
                    // Throws if the bind failed; serve() then reports why.
                    guard let address = try? await transport.listeningAddress else { return }
                    await onRunning(address.ipv4?.port ?? address.ipv6?.port ?? 0)
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
