import EmberCore
import EmberGRPCProtos
import EmberHTTP
import Foundation

/// ModelInferRequest tensors to the core's, and output tensors to ModelInferResponse. Typed contents
/// go through the REST routes' element rules (``OIPTensorElements``); raw contents are the tensor's
/// bytes as they are, checked against the shape by ``NamedTensor``. Outputs always go as
/// `raw_output_contents`, as Triton's server sends them.
enum OIPGRPCTensors {
    static func decode(_ request: Inference_ModelInferRequest) throws(ServerError) -> TensorRequest {
        guard !request.inputs.isEmpty else { throw .badRequest("The inference request needs at least one input tensor.") }
        let raw = request.rawInputContents
        guard raw.isEmpty || raw.count == request.inputs.count else {
            throw .badRequest(
                "raw_input_contents has \(raw.count) entries for \(request.inputs.count) inputs: it must have one per input, or none.")
        }
        var inputs: [NamedTensor] = []
        inputs.reserveCapacity(request.inputs.count)
        for (index, input) in request.inputs.enumerated() {
            let datatype = try OIPTensorElements.datatype(input.datatype, input: input.name)
            var shape: [Int] = []
            for dimension in input.shape {
                guard dimension >= 0, let size = Int(exactly: dimension) else {
                    throw .badRequest("Input '\(input.name)': shape dimensions must be integers of 0 or more.")
                }
                shape.append(size)
            }
            if !raw.isEmpty {
                guard !input.hasContents else {
                    throw .badRequest("Input '\(input.name)' has contents while raw_input_contents is used; use one or the other.")
                }
                inputs.append(try NamedTensor(name: input.name, datatype: datatype, shape: shape, data: [UInt8](raw[index])))
            } else {
                inputs.append(try typed(input, datatype: datatype, shape: shape))
            }
        }
        var outputs: [RequestedOutput] = []
        for output in request.outputs {
            var classification: Int?
            if let parameter = output.parameters["classification"] {
                guard case .int64Param(let k)? = parameter.parameterChoice, k > 0, let count = Int(exactly: k) else {
                    throw .badRequest("Output '\(output.name)': classification must be a positive integer.")
                }
                classification = count
            }
            outputs.append(RequestedOutput(name: output.name, classification: classification))
        }
        return TensorRequest(inputs: inputs, outputs: outputs)
    }

    /// Triton's rule for which contents field carries which datatype.
    private static func typed(
        _ input: Inference_ModelInferRequest.InferInputTensor, datatype: TensorDataType, shape: [Int]
    ) throws(ServerError) -> NamedTensor {
        let contents = input.contents
        let count = try NamedTensor.elementCount(of: shape, name: input.name)
        let elements: [JSONValue]
        switch datatype {
        case .bool: elements = contents.boolContents.map { .bool($0) }
        case .int8, .int16, .int32: elements = contents.intContents.map { .int(Int($0)) }
        case .int64: elements = contents.int64Contents.map { .int(Int($0)) }
        case .uint8, .uint16, .uint32: elements = contents.uintContents.map { .int(Int($0)) }
        case .uint64:
            var values: [JSONValue] = []
            for value in contents.uint64Contents {
                guard let exact = Int(exactly: value) else {
                    throw .badRequest("Input '\(input.name)': UINT64 element \(value) is beyond what Ember takes (\(Int.max)).")
                }
                values.append(.int(exact))
            }
            elements = values
        case .fp32: elements = contents.fp32Contents.map { .double(Double($0)) }
        case .fp64: elements = contents.fp64Contents.map { .double($0) }
        case .bytes:
            guard contents.bytesContents.count == count else {
                throw .badRequest(
                    "Input '\(input.name)': shape \(shape) needs \(count) elements, bytes_contents has \(contents.bytesContents.count).")
            }
            return try NamedTensor(
                name: input.name, datatype: .bytes, shape: shape, data: NamedTensor.byteData(contents.bytesContents.map { [UInt8]($0) }))
        case .fp16, .bf16:
            throw .badRequest("Input '\(input.name)': \(datatype.rawValue) travels only in raw_input_contents.")
        }
        guard elements.count == count else {
            throw .badRequest(
                "Input '\(input.name)': shape \(shape) needs \(count) elements, the \(datatype.rawValue) contents have \(elements.count)"
                    + (elements.isEmpty ? " (is the data in another contents field than \(datatype.rawValue)'s?)." : "."))
        }
        return try NamedTensor(
            name: input.name, datatype: datatype, shape: shape, data: OIPTensorElements.bytes(elements, datatype, input: input.name))
    }

    static func encode(
        model: String, version: String, id: String, outputs: [NamedTensor]
    ) -> Inference_ModelInferResponse {
        var response = Inference_ModelInferResponse()
        response.modelName = model
        response.modelVersion = version
        response.id = id
        response.outputs = outputs.map { tensor in
            var output = Inference_ModelInferResponse.InferOutputTensor()
            output.name = tensor.name
            output.datatype = tensor.datatype.rawValue
            output.shape = tensor.shape.map { Int64($0) }
            return output
        }
        response.rawOutputContents = outputs.map { Data($0.data) }
        return response
    }
}
