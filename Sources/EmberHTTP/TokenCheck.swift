import EmberCore
import Hummingbird
import NIOCore

extension ListenerResponder {
    /// The token step of TorchServe's chain (contract §1.2, §9.1), after the API description and
    /// before the routes. The inference listener needs the inference key, the management listener the
    /// management key, the metrics listener nothing. On the management listener `/token?type=…`
    /// rotates a key with the API key; its answer is returned here. Nil: go on to the routes.
    func authorize(_ request: Request, _ path: RequestPath) throws -> BufferedResponse? {
        guard let tokens = settings.tokenAuthorization else { return nil }
        let header = request.headers[.authorization]
        switch listener {
        case .metrics:
            return nil
        case .inference:
            if settings.healthProbesWithoutToken, Self.isHealthProbe(path) { return nil }
            guard tokens.check(header, for: .inference) else { throw ServerError.tokenAuthorizationFailed }
            return nil
        case .management:
            if path.count == 1, path[0] == "token" {
                // Replicas share the operator's keys: one replica making a new key would lock the
                // clients out of every other one.
                guard tokens.origin == .generated else { throw ServerError.tokenRotationDisabled }
                guard let scope = request.query("type").flatMap(TokenAuthorization.Scope.init(rawValue:)),
                    try tokens.rotate(scope, authorizedBy: header)
                else { throw ServerError.tokenAuthenticationFailed }
                // TorchServe answers an empty JSON response: a single newline.
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                return BufferedResponse(status: .ok, headers: headers, body: ByteBuffer(string: "\n"))
            }
            guard tokens.check(header, for: .management) else { throw ServerError.tokenAuthorizationFailed }
            return nil
        }
    }
}

extension ListenerResponder {
    /// The paths `health_probes_without_token` opens on the inference listener: what Kubernetes'
    /// probes and load balancers ask, which cannot send a key. Decided here by path, whichever routes
    /// answer them, so no other route is opened by accident.
    static func isHealthProbe(_ path: RequestPath) -> Bool {
        switch path.count {
        case 1: path[0] == "ping"
        case 3: path[0] == "v2" && path[1] == "health" && (path[2] == "live" || path[2] == "ready")
        default: false
        }
    }
}

extension ServerError {
    /// `/token` while the keys come from the operator's key file (`token_key_file`).
    public static var tokenRotationDisabled: Self {
        .init(
            .methodNotAllowed,
            "Token rotation is disabled: the keys come from the operator's key file (token_key_file); "
                + "replace that file to change them")
    }

    /// A missing, wrong or expired key (TorchServe's `InvalidKeyException`, 400 not 401).
    public static var tokenAuthorizationFailed: Self {
        .init(
            .tokenRejected,
            "Token Authorization failed. Token either incorrect, expired, or not provided correctly")
    }

    /// A `/token` rotation without the API key or without a valid `type` (note: *Authentication*).
    public static var tokenAuthenticationFailed: Self {
        .init(
            .tokenRejected,
            "Token Authentication failed. Token either incorrect, expired, or not provided correctly")
    }
}
