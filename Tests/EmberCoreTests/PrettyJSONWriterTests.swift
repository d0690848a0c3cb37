import EmberCore
import Testing

/// The byte writer against JSONValue's own rendering: the same bytes for every kind of value.
@Suite struct PrettyJSONWriterTests {
    static let values: [JSONValue] = [
        ["code": 404, "type": "ModelNotFoundException", "message": "Model not found: a/b"],
        ["workers": [], "ratio": 3.0, "nested": ["x": [1, true, nil, false]], "empty": [:]],
        .string("quote\" back\\ \n \r \t \u{01} \u{1F} é \u{1F600} /"),
        [.double(.nan), .double(.infinity), .double(-.infinity), .double(-0.0), .double(0.0), .double(1e15),
         .double(999_999_999_999_999), .double(-123_456.0), .double(1e16), .double(1e-7), .double(0.1),
         .double(Double(Float(0.0936))), .double(Double(Float.leastNonzeroMagnitude)), .double(.greatestFiniteMagnitude),
         .double(-2.5e-300), .int(0), .int(-1), .int(.min), .int(.max)],
        [[[1, 2], [3, 4]], [[5], []]],
        ["prediction": 2, "probabilities": [0.0936, 1.0, .double(.leastNonzeroMagnitude)]],
        .array([["a": ["b": ["c": []]]]]),
    ]

    @Test(arguments: values) func writesWhatPrettyPrintedRenders(value: JSONValue) {
        #expect(PrettyJSONWriter.document(value) == Array(value.prettyPrinted().utf8))
    }

    @Test func randomDoublesRenderAsTheirDescription() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let value = Double(bitPattern: generator.next())
            let float = Double(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator)))
            for number in [value, float, value.rounded()] {
                let json = JSONValue.double(number)
                #expect(PrettyJSONWriter.document(json) == Array(json.prettyPrinted().utf8), "\(number)")
            }
        }
    }
}
