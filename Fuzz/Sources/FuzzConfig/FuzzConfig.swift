import FuzzSupport
import EmberArchive
import EmberCore

/// Configuration text on any bytes: config.properties, model-config.yaml, handler specs.
@_cdecl("FuzzConfig_main")
public func fuzzConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzConfig(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ServerConfiguration(properties: text, environment: [:])
    _ = try? ModelConfig(yaml: text)
    _ = try? HandlerSpec.parse(yaml: text, fileName: "fuzz.yaml", archiveFiles: ["index_to_name.json"])
    return 0
}
