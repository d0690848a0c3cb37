import EmberCore
import Logging

/// What every prediction route does around the model call, whatever protocol it speaks: the request is
/// withdrawn from the queue when its client goes away (the pool finds the connection's
/// `RequestWithdrawal` bound to the task: see ClientDisconnect.swift), the answer is held to `max_response_size`, and
/// TorchServe's latency series and Ember's overhead histogram are recorded under the version as the URL
/// named it (`default` when it named none).
struct InferenceCall: Sendable {
    let service: any ModelService
    let metrics: ServerMetrics

    func run(
        model: String, version: String?, input: InferenceInput, info: ListenerResponder.RequestInfo,
        started: ContinuousClock.Instant
    ) async throws -> InferenceOutput {
        let output = try await service.predict(model: model, version: version, input: input)
        let size = output.tensors?.reduce(output.body.count) { $0 &+ $1.data.count } ?? output.body.count
        guard size <= info.settings.maxResponseSize else {
            info.logger.warning(
                "response larger than max_response_size",
                metadata: ["model.name": "\(model)", "bytes": "\(size)", "limit": "\(info.settings.maxResponseSize)"])
            throw ServerError.responseTooLarge(size: size, limit: info.settings.maxResponseSize)
        }
        let elapsed = ContinuousClock.now - started
        metrics.registry.increment(
            ServerMetrics.inferenceLatency, labels: [model, version ?? "default", metrics.hostname], by: elapsed.microseconds)
        if let forwardTime = output.forwardTime {
            metrics.registry.observe(
                ServerMetrics.serverOverhead, labels: [model, version ?? "default"], (elapsed - forwardTime).seconds)
        }
        return output
    }
}
