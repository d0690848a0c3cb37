import EmberCore
import Testing

@Suite struct JSONValueTests {
    @Test func rendersLikeGsonWithKeysInOrder() {
        let value: JSONValue = ["code": 404, "type": "ModelNotFoundException", "message": "Model not found: a/b"]
        #expect(value.prettyPrinted() == """
            {
              "code": 404,
              "type": "ModelNotFoundException",
              "message": "Model not found: a/b"
            }

            """)
        let nested: JSONValue = ["workers": [], "ratio": 3.0, "nested": ["x": [1, true, nil]], "empty": [:]]
        #expect(nested.compact() == #"{"workers":[],"ratio":3.0,"nested":{"x":[1,true,null]},"empty":{}}"#)
        #expect(JSONValue.string("quote\" back\\ \n \u{01}").compact() == #""quote\" back\\ \n \u0001""#)
        #expect(JSONValue.double(.nan).compact() == "null")
        #expect(JSONValue.double(0.25).compact() == "0.25")
    }

    @Test func parsesWhatItRenders() throws {
        let value: JSONValue = ["data": [[1.5, -2, 3e-3]], "name": "é \u{1F600}", "ok": false, "none": nil]
        #expect(try JSONValue.parse(value.prettyPrinted()) == value)
        #expect(try JSONValue.parse(#"{"s": "\u00e9\ud83d\ude00\/"}"#)["s"] == "é\u{1F600}/")
        #expect(try JSONValue.parse("  [1, 2.0, -0]  ") == [1, 2.0, 0])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"unterminated", "tru", "[1] x", "{\"a\":\u{01}}", "\"\\x\""])
    func refusesMalformedJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        #expect(error?.reason.contains("nesting") == true)
    }
}
