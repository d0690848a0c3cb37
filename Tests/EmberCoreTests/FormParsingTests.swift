import EmberCore
import Testing

@Suite struct FormParsingTests {
    let boundary = "----ember1234"

    func body(_ parts: [(headers: String, value: [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = Array("preamble\r\n".utf8)
        for part in parts {
            bytes += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.value + Array("\r\n".utf8)
        }
        return bytes + Array("--\(boundary)--\r\n".utf8)
    }

    @Test func boundaryFromContentType() {
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(fromContentType: "Multipart/Form-Data;charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartParser.boundary(fromContentType: "application/json") == nil)
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data") == nil)
    }

    @Test func mediaTypeDropsParametersBlanksAndCase() {
        #expect(mediaType(ofContentType: "application/json") == "application/json")
        #expect(mediaType(ofContentType: " Application/JSON ; charset=utf-8") == "application/json")
        #expect(mediaType(ofContentType: "\tmultipart/form-data;boundary=x") == "multipart/form-data")
        #expect(mediaType(ofContentType: "") == "")
    }

    @Test func fileAndTextFieldsKeepTheirBytes() throws {
        let binary: [UInt8] = [0xFF, 0xD8, 0x0D, 0x0A, 0x2D, 0x2D, 0x00, 0x42]
        let fields = try MultipartParser.parse(
            body([
                ("Content-Disposition: form-data; name=\"data\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg", binary),
                ("Content-Disposition: form-data; name=note", Array("hello".utf8)),
            ]),
            boundary: boundary)
        #expect(fields == [
            FormField(name: "data", contentType: "image/jpeg", filename: "x.jpg", value: binary),
            FormField(name: "note", value: Array("hello".utf8)),
        ])
    }

    @Test func brokenBodiesAreErrors() {
        #expect(throws: FormParseError.self) { try MultipartParser.parse(Array("no boundary here".utf8), boundary: boundary) }
        let unterminated = Array("--\(boundary)\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue".utf8)
        #expect(throws: FormParseError.self) { try MultipartParser.parse(unterminated, boundary: boundary) }
        let nameless = body([("Content-Type: text/plain", Array("x".utf8))])
        #expect(throws: FormParseError.self) { try MultipartParser.parse(nameless, boundary: boundary) }
    }

    @Test func urlEncoded() {
        let pairs = URLEncodedForm.parse("model_name=mlp&url=a%2Fb+c.mar&flag&bad=%zz")
        #expect(pairs.map(\.name) == ["model_name", "url", "flag", "bad"])
        #expect(pairs.map(\.value) == ["mlp", "a/b c.mar", "", "%zz"])
    }
}
