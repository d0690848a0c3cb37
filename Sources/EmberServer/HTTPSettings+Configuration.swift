import EmberCore
import EmberHTTP

extension HTTPSettings {
    /// The listeners' settings from `config.properties`.
    init(configuration: ServerConfiguration, version: String, tokens: TokenAuthorization?) {
        self.init(
            maxRequestSize: configuration.maxRequestSize, corsAllowedOrigin: configuration.corsAllowedOrigin,
            corsAllowedMethods: configuration.corsAllowedMethods, corsAllowedHeaders: configuration.corsAllowedHeaders,
            enableModelAPI: configuration.enableModelAPI, version: version, tokenAuthorization: tokens)
        healthProbesWithoutToken = configuration.healthProbesWithoutToken
        maxResponseSize = configuration.maxResponseSize
    }
}
