// The fallbacks never apply: the names are valid tokens; they only avoid force unwraps.
import HTTPTypes
import Hummingbird

/// Headers TorchServe puts on every response (contract §1.3), and the JSON responses it sends.
enum ResponseHeaders {
    static let requestID = HTTPField.Name("x-request-id") ?? .via
    static let pragma = HTTPField.Name("Pragma") ?? .via
    static let expires = HTTPField.Name("Expires") ?? .via

    // Made once: making a field checks its value's bytes.
    private static let noCache = HTTPField(name: pragma, value: "no-cache")
    private static let cacheControl = HTTPField(name: .cacheControl, value: "no-cache; no-store, must-revalidate, private")
    private static let expired = HTTPField(name: expires, value: "Thu, 01 Jan 1970 00:00:00 UTC")

    /// Appends them to an answer's own fields (no field of these names is set before).
    static func appendStandard(to fields: inout HTTPFields, requestID id: String, cors: CORSHeaders?) {
        fields.append(HTTPField(name: requestID, value: id))
        fields.append(noCache)
        fields.append(cacheControl)
        fields.append(expired)
        cors?.apply(to: &fields)
    }
}

/// `cors_allowed_*`: added to every response with exactly the configured strings.
struct CORSHeaders: Sendable {
    var origin: String?
    var methods: String?
    var headers: String?

    var isEmpty: Bool { origin == nil && methods == nil && headers == nil }

    func apply(to fields: inout HTTPFields) {
        if let origin { fields[.accessControlAllowOrigin] = origin }
        if let methods { fields[.accessControlAllowMethods] = methods }
        if let headers { fields[.accessControlAllowHeaders] = headers }
    }
}
