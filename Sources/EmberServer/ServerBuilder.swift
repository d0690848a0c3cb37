import EmberCore
import EmberGRPC
import EmberHTTP
import Logging
import ServiceLifecycle

/// Builds the whole server: the registry with its start-up models (or a restored snapshot's),
/// the model service (snapshotting when snapshots are on), the three HTTP listeners, the two gRPC
/// listeners and the pool shutdown,
/// in one ServiceGroup. `ember` and the tests both start their servers here; they differ only in
/// `configuration`, `backend`, `fetcher` and `options`.
///
/// Start-up models are registered before this returns; the listeners bind when the group runs.
public func buildServer(
    configuration: ServerConfiguration, backend: any InferenceBackend, fetcher: (any ArchiveFetcher)?,
    logger: Logger, options: ServerOptions = ServerOptions()
) async throws -> EmberServerServices {
    let metrics = options.metrics
    let registry = ModelRegistry(
        backend: backend, configuration: configuration, metrics: metrics, logger: logger, fetcher: fetcher)
    if let restored = options.restoredModels {
        await SnapshotRestore(models: restored, registry: registry, logger: logger).registerAll()
    } else {
        try await StartupModels(configuration: configuration, registry: registry, logger: logger).registerAll()
    }
    let writer = options.snapshots.map {
        SnapshotWriter(store: $0.store, configuration: $0.configuration, registry: registry, logger: logger)
    }
    let drain = ServerDrain()
    let registryService = RegistryService(registry: registry, metrics: metrics, drain: drain)
    let modelService: any ModelService =
        writer.map { SnapshotService(base: registryService, writer: $0) } ?? registryService
    let settings = HTTPSettings(configuration: configuration, version: options.version, tokens: options.tokens)
    let ioThreads = IOThreads.group(threads: configuration.ioThreads)
    let listeners = Listeners(
        service: modelService, settings: settings, metrics: metrics, logger: logger, accessLog: options.accessLog,
        refreshMetrics: { SystemMetrics.record(into: metrics) }, eventLoopGroup: ioThreads)
    // tlsFiles() has checked that enable_grpc_ssl comes with both PEM files.
    let grpcTLS = try configuration.enableGRPCSSL
        ? configuration.tlsFiles().map { GRPCListeners.TLSFiles(certificateChain: $0.certificate, privateKey: $0.privateKey) }
        : nil
    let grpc = GRPCListeners(
        service: modelService, settings: settings, metrics: metrics, logger: logger, accessLog: options.accessLog,
        tls: grpcTLS, eventLoopGroup: ioThreads)
    let onReady = options.onReady
    let ports = ListenerPorts { bound in
        await writer?.write(.startup)
        await onReady(bound)
    }

    func credentials(for address: ListenerAddress) throws -> TLSCredentials? {
        guard address.scheme == "https" else { return nil }
        // Serving plain HTTP on an https:// address would silently drop the encryption asked for.
        guard let tls = options.tls else { throw ConfigurationError("\(address) is https:// but no TLS credentials were given") }
        return tls
    }
    func announce(_ listener: ListenerPorts.Listener, _ name: String, _ address: ListenerAddress)
        -> @Sendable (Int) async -> Void
    {
        { port in
            logger.info("\(name) bind to: \(address.scheme)://\(address.host):\(port)")
            await ports.record(listener, port: port)
        }
    }
    let grpcScheme = configuration.enableGRPCSSL ? "grpcs" : "grpc"
    let inference = configuration.inferenceAddress
    let management = configuration.managementAddress
    let metricsAddress = configuration.metricsAddress
    var services: [any Service] = [
        PoolShutdownService(
            registry: registry, timeout: .seconds(configuration.unregisterModelTimeout),
            beforeShutdown: { await writer?.write(.shutdown) }),
        try listeners.inference(
            host: inference.host, port: inference.port, tls: try credentials(for: inference),
            onRunning: announce(.inference, "Inference API", inference)),
        try listeners.management(
            host: management.host, port: management.port, tls: try credentials(for: management),
            onRunning: announce(.management, "Management API", management)),
        try listeners.metrics(
            host: metricsAddress.host, port: metricsAddress.port, tls: try credentials(for: metricsAddress),
            onRunning: announce(.metrics, "Metrics API", metricsAddress)),
        try grpc.inference(
            host: configuration.grpcInferenceHost, port: configuration.grpcInferencePort,
            onRunning: announce(
                .grpcInference, "gRPC Inference API",
                ListenerAddress(scheme: grpcScheme, host: configuration.grpcInferenceHost, port: 0))),
        try grpc.management(
            host: configuration.grpcManagementHost, port: configuration.grpcManagementPort,
            onRunning: announce(
                .grpcManagement, "gRPC Management API",
                ListenerAddress(scheme: grpcScheme, host: configuration.grpcManagementHost, port: 0))),
        // Last, so a graceful shutdown reaches it first: readiness goes false before the listeners stop.
        DrainService(drain: drain, delay: .milliseconds(Int(configuration.drainDelaySeconds * 1000)), logger: logger),
    ]
    if let tokens = options.tokens, case .operatorFile = tokens.origin {
        services.insert(KeyFileWatcher(tokens: tokens, interval: options.keyFileInterval, logger: logger), at: 1)
    }
    let group = ServiceGroup(
        configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: options.gracefulShutdownSignals,
            logger: logger))
    return EmberServerServices(services: services, group: group, registry: registry, ports: ports)
}
