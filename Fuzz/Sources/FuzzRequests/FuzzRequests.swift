import FuzzSupport
import EmberCore
import ImageCodec

/// Request decoders on any bytes: JSON bodies, multipart and urlencoded forms, images.
@_cdecl("FuzzRequests_main")
public func fuzzRequestsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzRequests(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let value = try? JSONValue.parse(bytes) {
        // What renders must parse back to the same value.
        guard let again = try? JSONValue.parse(value.compact()), again == value || value.containsNaN else {
            fatalError("JSON round trip changed the value")
        }
    }
    _ = try? MultipartParser.parse(bytes, boundary: "fuzzboundary")
    _ = URLEncodedForm.parse(String(decoding: bytes, as: UTF8.self))
    _ = try? ImageDecoder(maxPixels: 1 << 20).decode(bytes)
    return 0
}

extension JSONValue {
    var containsNaN: Bool {
        switch self {
        case .double(let value): !value.isFinite
        case .array(let elements): elements.contains { $0.containsNaN }
        case .object(let pairs): pairs.contains { $0.1.containsNaN }
        default: false
        }
    }
}
