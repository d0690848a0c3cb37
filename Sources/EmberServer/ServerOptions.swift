import EmberCore
import EmberHTTP
import ServiceLifecycle
import UnixSignals

/// What distinguishes one server built by ``buildServer(configuration:backend:fetcher:logger:options:)``
/// from another besides its configuration: `ember` passes its TLS credentials, key file, snapshots and
/// signals; tests pass what they exercise.
public struct ServerOptions: Sendable {
    /// Where configuration snapshots go and the configuration they record.
    public struct Snapshots: Sendable {
        public var store: SnapshotStore
        /// Recorded in every snapshot; may differ from the running configuration (one-run switches).
        public var configuration: ServerConfiguration

        public init(store: SnapshotStore, configuration: ServerConfiguration) {
            self.store = store
            self.configuration = configuration
        }
    }

    /// Served by every listener whose address is `https://`.
    public var tls: TLSCredentials?
    /// The keys the inference and management listeners require; nil: token authorization disabled.
    public var tokens: TokenAuthorization?
    /// How often the operator's key file (`token_key_file`) is re-read.
    public var keyFileInterval: Duration = .seconds(1)
    /// Nil: no snapshots are written.
    public var snapshots: Snapshots?
    /// A restored snapshot's models, registered instead of the configuration's `load_models`.
    public var restoredModels: ModelSnapshot?
    public var accessLog: AccessLog?
    public var metrics: ServerMetrics
    /// The version the OpenAPI documents announce.
    public var version: String
    public var gracefulShutdownSignals: [UnixSignal]
    /// Runs once every listener is bound and the start-up snapshot is on disk.
    public var onReady: @Sendable (ListenerPorts.Bound) async -> Void

    public init(
        tls: TLSCredentials? = nil, tokens: TokenAuthorization? = nil, snapshots: Snapshots? = nil,
        restoredModels: ModelSnapshot? = nil, accessLog: AccessLog? = nil, metrics: ServerMetrics = ServerMetrics(),
        version: String = EmberCommand.version, gracefulShutdownSignals: [UnixSignal] = [],
        onReady: @escaping @Sendable (ListenerPorts.Bound) async -> Void = { _ in }
    ) {
        self.tls = tls
        self.tokens = tokens
        self.snapshots = snapshots
        self.restoredModels = restoredModels
        self.accessLog = accessLog
        self.metrics = metrics
        self.version = version
        self.gracefulShutdownSignals = gracefulShutdownSignals
        self.onReady = onReady
    }
}
