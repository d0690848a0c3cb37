import EmberCore
import EmberGRPCProtos

/// `max_request_size` for gRPC messages, answered as TorchServe's grpc-java answers it:
/// RESOURCE_EXHAUSTED with a message. grpc-swift's transport resets the stream of a message over its
/// own limit (the client sees CANCELLED, without a reason), so the transport's limit is set above
/// `max_request_size` (``transportLimit(_:)``, still a bound on memory) and the services check the
/// payload of each message against `max_request_size` themselves.
enum MessageSizeLimit {
    /// Twice the limit and a megabyte: room for protobuf's framing around a payload at the limit.
    static func transportLimit(_ maxRequestSize: Int) -> Int {
        let (doubled, overflow) = maxRequestSize.multipliedReportingOverflow(by: 2)
        return overflow ? Int(Int32.max) : min(Int(Int32.max), doubled &+ (1 << 20))
    }

    static func check(_ request: Org_Pytorch_Serve_Grpc_Inference_PredictionsRequest, limit: Int) throws(ServerError) {
        var size = request.modelName.utf8.count &+ request.modelVersion.utf8.count
        for (key, value) in request.input { size = size &+ key.utf8.count &+ value.count }
        guard size <= limit else { throw .requestTooLarge(limit: limit) }
    }

    static func check(_ request: Inference_ModelInferRequest, limit: Int) throws(ServerError) {
        var size = request.rawInputContents.reduce(0) { $0 &+ $1.count }
        for input in request.inputs {
            let contents = input.contents
            // Typed elements at their widest wire size: an upper bound, never an underestimate that lets
            // a message through.
            size = size &+ 8 &* (contents.boolContents.count &+ contents.intContents.count &+ contents.int64Contents.count
                &+ contents.uintContents.count &+ contents.uint64Contents.count &+ contents.fp32Contents.count
                &+ contents.fp64Contents.count)
            size = size &+ contents.bytesContents.reduce(0) { $0 &+ $1.count &+ 4 }
        }
        guard size <= limit else { throw .requestTooLarge(limit: limit) }
    }
}
