import Testing

@testable import EmberHTTP

/// Paths split as TorchServe's frontend splits them (Java `String.split("/")`).
@Suite struct RequestPathTests {
    @Test(arguments: [
        ("/predictions/mlp", ["predictions", "mlp"]),
        ("/predictions/mlp/2.0", ["predictions", "mlp", "2.0"]),
        ("/models/x/", ["models", "x"]),
        ("/models/x///", ["models", "x"]),
        ("/models?limit=1&next_page_token=2", ["models"]),
        ("/models/x?a=/b/c", ["models", "x"]),
        ("/", []),
        ("", []),
        ("?q", []),
        ("//x", ["", "x"]),
        ("/a//b", ["a", "", "b"]),
        ("/predictions/my%20model/v%2F1", ["predictions", "my model", "v/1"]),
        ("/v2/models/m%C3%A9/infer", ["v2", "models", "mé", "infer"]),
        ("/models/%zz", ["models", "%zz"]),
        ("/a+b", ["a+b"]),
    ])
    func splitsLikeTorchServe(path: String, segments: [String]) {
        let parsed = RequestPath(path)
        #expect(parsed.segments == segments)
        #expect(parsed.count == segments.count)
        #expect(parsed[segments.count] == nil)
    }
}
