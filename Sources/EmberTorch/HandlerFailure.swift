/// A request the handler refuses, with the status and TorchServe exception type it answers with.
struct HandlerFailure: Error, Sendable, CustomStringConvertible {
    let status: Int
    let type: String
    let message: String

    static func badRequest(_ message: String) -> Self {
        .init(status: 400, type: "BadRequestException", message: message)
    }

    /// TorchServe's answer when a handler raises (contract §2.10).
    static var predictionFailed: Self {
        .init(status: 503, type: "InternalServerException", message: "Prediction failed")
    }

    static var outOfResources: Self {
        .init(status: 507, type: "InternalServerException", message: "Out of resources")
    }

    var description: String { "\(status) \(type): \(message)" }
}
