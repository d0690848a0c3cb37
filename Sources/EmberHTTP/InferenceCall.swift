import EmberCore
import Logging

/// What every prediction route does around the model call, whatever protocol it speaks (REST's
/// /predictions, OIP infer and KServe :predict, and the gRPC services): the request is withdrawn from
/// the queue when its client goes away (over HTTP the pool finds the connection's `RequestWithdrawal`
/// bound to the task: see ClientDisconnect.swift; over gRPC the call's task is cancelled), the answer is
/// held to `max_response_size`, and TorchServe's latency series and Ember's overhead histogram are
/// recorded under the version as the request named it (`default` when it named none). A streamed answer
/// (``InferenceOutput/stream``) comes back at its first chunk to a caller that can stream it; for the
/// others it is joined here first.
public struct InferenceCall: Sendable {
    let service: any ModelService
    let metrics: ServerMetrics

    public init(service: any ModelService, metrics: ServerMetrics) {
        self.service = service
        self.metrics = metrics
    }

    /// The HTTP routes' call.
    func run(
        model: String, version: String?, input: InferenceInput, info: ListenerResponder.RequestInfo,
        started: ContinuousClock.Instant, streaming: Bool = false
    ) async throws -> InferenceOutput {
        try await run(
            model: model, version: version, input: input, maxResponseSize: info.settings.maxResponseSize,
            logger: info.logger, started: started, streaming: streaming)
    }

    /// The call for any front end.
    public func run(
        model: String, version: String?, input: InferenceInput, maxResponseSize: Int,
        logger: @autoclosure () -> Logger, started: ContinuousClock.Instant, streaming: Bool = false
    ) async throws -> InferenceOutput {
        var output = try await service.predict(model: model, version: version, input: input)
        if let stream = output.stream, !streaming {
            output.body = try await stream.collect(limit: maxResponseSize)
            output.stream = nil
        }
        let size = output.tensors?.reduce(output.body.count) { $0 &+ $1.data.count } ?? output.body.count
        guard size <= maxResponseSize else {
            logger().warning(
                "response larger than max_response_size",
                metadata: ["model.name": "\(model)", "bytes": "\(size)", "limit": "\(maxResponseSize)"])
            throw ServerError.responseTooLarge(size: size, limit: maxResponseSize)
        }
        let elapsed = ContinuousClock.now - started
        let series = metrics.predictionSeries(model: model, version: version)
        series.latency?.increment(by: elapsed.microseconds)
        if let forwardTime = output.forwardTime { series.overhead?.observe((elapsed - forwardTime).seconds) }
        return output
    }
}
