import EmberCore
import HTTPTypes

/// A request's HTTP headers as a handler sees them (TorchServe forwards every one to its workers):
/// the header fields as the client spelled them, with `Host` from the request's authority (HTTPTypes
/// keeps that apart). Holds the listener's own field storage, so building it copies nothing.
struct ForwardedHeaders: RequestHeaderFields {
    let fields: HTTPFields
    let authority: String?

    func forEachField(_ body: (_ name: String, _ value: String) -> Void) {
        if let authority { body("Host", authority) }
        for field in fields { body(field.name.rawName, field.value) }
    }
}
