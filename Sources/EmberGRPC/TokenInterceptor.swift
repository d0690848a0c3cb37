import EmberCore
import EmberHTTP
import GRPCCore

/// Token authorization for one gRPC listener (contract §8, §9.1): every call carries
/// `authorization: Bearer <key>` in its metadata, the inference key on the inference listener and the
/// management key on the management one; a missing, wrong or expired key is PERMISSION_DENIED with
/// TorchServe's message. With `health_probes_without_token`, the health calls answer without a key,
/// as REST's probes do.
struct TokenInterceptor: ServerInterceptor {
    let tokens: TokenAuthorization
    let scope: TokenAuthorization.Scope
    /// Fully qualified methods that need no key.
    let open: Set<String>
    let accessLog: AccessLog?

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.fullyQualifiedMethod
        if !open.contains(method) {
            let header = request.metadata[stringValues: "authorization"].first { _ in true }
            guard tokens.check(header, for: scope) else {
                accessLog?.record(
                    requestID: RequestID.next(), method: "POST", uri: "/" + method,
                    status: Status.Code.permissionDenied.rawValue, milliseconds: 0, protocolName: "gRPC")
                throw RPCError(code: .permissionDenied, message: ServerError.tokenAuthorizationFailed.message)
            }
        }
        return try await next(request, context)
    }
}
