/// How a management call that succeeded ended, with TorchServe's message. Front ends choose the status:
/// over HTTP `completed` is 200, `accepted` 202 and `inProgress` 206.
public enum ManagementResult: Sendable, Equatable {
    /// Done: the model is registered, scaled, unregistered or made the default.
    case completed(String)
    /// An asynchronous call: workers start (or stop) in the background.
    case accepted(String)
    /// A synchronous scale whose workers were still starting when `startupTimeout` ran out.
    case inProgress(String)

    public var message: String {
        switch self {
        case .completed(let message), .accepted(let message), .inProgress(let message): message
        }
    }
}
