import EmberCore
import Hummingbird

/// The metrics listener: `/metrics` (any path whose first segment is `metrics`), with `name[]` filters.
struct MetricsRoutes: Sendable {
    let metrics: ServerMetrics
    let refresh: @Sendable () -> Void

    func handle(_ request: Request, _ path: RequestPath, _ info: ListenerResponder.RequestInfo) async throws -> Response {
        guard path[0] == "metrics" else { throw ServerError.resourceNotFound }
        refresh()
        let names = request.queryPairs.filter { $0.name == "name[]" }.map(\.value)
        let text = metrics.registry.render(names: names.isEmpty ? nil : Set(names))
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
