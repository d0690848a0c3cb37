import EmberCore
import Logging

/// What the listeners share: limits, CORS, metrics and the access log.
public struct HTTPSettings: Sendable {
    public var maxRequestSize: Int
    /// The largest answer a model may give (`max_response_size`); a larger one fails that request
    /// with a 500 and the worker goes on serving.
    public var maxResponseSize = 6_553_500
    public var corsAllowedOrigin: String?
    public var corsAllowedMethods: String?
    public var corsAllowedHeaders: String?
    public var enableModelAPI: Bool
    public var version: String
    /// Seconds a connection may stay idle before it is closed.
    public var idleTimeoutSeconds = 60
    /// Seconds a client has to send a request head (from the connection's start or the previous
    /// response), and then its body: slower clients are disconnected.
    public var requestHeadTimeoutSeconds: Double = 30
    public var requestBodyTimeoutSeconds: Double = 60
    /// The keys the inference and management listeners require; nil: token authorization disabled.
    public var tokenAuthorization: TokenAuthorization?
    /// `health_probes_without_token`: `/ping`, `/v2/health/live` and `/v2/health/ready` answer without
    /// a key (Kubernetes probes cannot send one); every other route still needs it.
    public var healthProbesWithoutToken = false

    public init(
        maxRequestSize: Int = 6_553_500, corsAllowedOrigin: String? = nil, corsAllowedMethods: String? = nil,
        corsAllowedHeaders: String? = nil, enableModelAPI: Bool = false, version: String = "0.1.0",
        tokenAuthorization: TokenAuthorization? = nil
    ) {
        self.maxRequestSize = maxRequestSize
        self.corsAllowedOrigin = corsAllowedOrigin
        self.corsAllowedMethods = corsAllowedMethods
        self.corsAllowedHeaders = corsAllowedHeaders
        self.enableModelAPI = enableModelAPI
        self.version = version
        self.tokenAuthorization = tokenAuthorization
    }

    var cors: CORSHeaders? {
        let headers = CORSHeaders(origin: corsAllowedOrigin, methods: corsAllowedMethods, headers: corsAllowedHeaders)
        return headers.isEmpty ? nil : headers
    }
}
