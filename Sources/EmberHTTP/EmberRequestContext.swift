import Hummingbird

/// Ember's request context: Hummingbird's basics. (The connection's client-gone watch travels with the
/// connection's task instead: see ClientDisconnect.swift.)
public struct EmberRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
