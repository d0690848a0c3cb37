import EmberCore
import Hummingbird

/// SageMaker's `POST /invocations[?model_name=m]` (contract §2): a prediction on the model named by
/// `model_name`, or on the only registered model when there is exactly one. (`GET /ping` is the
/// inference listener's own.)
struct SageMakerRoutes: Sendable {
    let service: any ModelService

    func invoke(
        _ request: Request, info: ListenerResponder.RequestInfo,
        predict: (Request, String, String?, ListenerResponder.RequestInfo) async throws -> Response
    ) async throws -> Response {
        guard request.method == .post else { throw ServerError.methodNotAllowed }
        let model: String
        if let named = request.query("model_name"), !named.isEmpty {
            model = named
        } else if case .array(let models)? = await service.list(limit: 2, offset: 0)["models"], models.count == 1,
            case .string(let only)? = models[0]["modelName"]
        {
            model = only
        } else {
            throw ServerError.badRequest("Parameter model_name is required.")
        }
        return try await predict(request, model, nil, info)
    }
}
