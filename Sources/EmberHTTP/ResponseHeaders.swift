// The fallbacks never apply: the names are valid tokens; they only avoid force unwraps.
import HTTPTypes
import Hummingbird

/// Headers TorchServe puts on every response (contract §1.3), and the JSON responses it sends.
enum ResponseHeaders {
    static let requestID = HTTPField.Name("x-request-id") ?? .via
    static let pragma = HTTPField.Name("Pragma") ?? .via
    static let expires = HTTPField.Name("Expires") ?? .via

    static func standard(requestID id: String, cors: CORSHeaders?) -> HTTPFields {
        var fields = HTTPFields()
        fields[requestID] = id
        fields[pragma] = "no-cache"
        fields[.cacheControl] = "no-cache; no-store, must-revalidate, private"
        fields[expires] = "Thu, 01 Jan 1970 00:00:00 UTC"
        cors?.apply(to: &fields)
        return fields
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
