import EmberCore

/// One request's answer from a handler pipeline, before it becomes bytes. The MLP-style
/// classification keeps the model's floats as they are, rendered straight into the body; everything
/// else is a `JSONValue`. Either way the body is what `JSONValue.prettyPrinted()` gives for
/// ``jsonValue`` (Gson's layout, TorchServe's answer).
package enum PipelineAnswer {
    case json(JSONValue)
    /// `{"prediction": <argmax>, "probabilities": [<each float as a double>]}` of one row.
    case classification(prediction: Int, probabilities: [Float])
    /// A request that sent several rows: a list of their answers.
    case rows([PipelineAnswer])

    var jsonValue: JSONValue {
        switch self {
        case .json(let value): value
        case .classification(let prediction, let probabilities):
            ["prediction": .int(prediction), "probabilities": .array(probabilities.map { .double(Double($0)) })]
        case .rows(let rows): .array(rows.map(\.jsonValue))
        }
    }

    /// The answer's body, with the final newline.
    func body() -> [UInt8] {
        var writer = PrettyJSONWriter(reservingCapacity: 256)
        write(into: &writer, indent: 0)
        writer.newline()
        return writer.bytes
    }

    func write(into writer: inout PrettyJSONWriter, indent: Int) {
        switch self {
        case .json(let value):
            writer.write(value, indent: indent)
        case .classification(let prediction, let probabilities):
            writer.container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), count: 2, indent: indent) {
                writer, index, inner in
                if index == 0 {
                    writer.write(key: "prediction")
                    writer.write(integer: prediction)
                } else {
                    writer.write(key: "probabilities")
                    writer.container(
                        open: UInt8(ascii: "["), close: UInt8(ascii: "]"), count: probabilities.count, indent: inner
                    ) { writer, position, _ in writer.write(Double(probabilities[position])) }
                }
            }
        case .rows(let rows):
            writer.container(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), count: rows.count, indent: indent) {
                writer, index, inner in rows[index].write(into: &writer, indent: inner)
            }
        }
    }
}
