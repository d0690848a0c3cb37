import Foundation

/// How an archive's handler runs: a declarative pipeline in-process, or TorchServe's Python worker.
public enum HandlerRuntime: Sendable, Equatable {
    /// An `ember-handler.yaml`, a spec named by `--handler`, or a builtin with a declarative equivalent.
    case declarative(HandlerSpec)
    /// Anything else TorchServe's worker can load: `handler.py[:function]` shipped in the archive, a
    /// module shipped in it or installed (`ts.torch_handler.object_detector`), or a builtin name
    /// without a declarative equivalent. The string is the manifest's handler, passed on unchanged.
    case python(handler: String)

    /// TorchServe's builtin handler modules (`ts/torch_handler/*.py`).
    public static let torchServeBuiltinModules: Set<String> = [
        "base_handler", "image_classifier", "image_segmenter", "object_detector", "text_classifier", "text_handler",
        "vision_handler", "densenet_handler", "dali_image_classifier", "vllm_handler", "trt_llm_handler",
    ]

    /// Declarative first (``HandlerSpec/resolve(handler:directory:archiveFiles:)``: a spec file wins over
    /// a Python handler, so adding `ember-handler.yaml` forces the in-process path), then Python.
    /// An eager-mode model (`eagerModel`: the manifest names a `modelFile`) cannot be loaded by libtorch,
    /// so without a spec file even a builtin with a declarative equivalent goes to Python.
    public static func resolve(
        handler: String, directory: URL, archiveFiles: Set<String>, eagerModel: Bool = false
    ) throws -> HandlerRuntime {
        let lowered = handler.lowercased()
        let hasSpecFile =
            ((lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml")) && archiveFiles.contains(handler))
            || archiveFiles.contains(HandlerSpec.defaultFileName)
        var declarativeError = HandlerSpec.unsupported(handler)
        if hasSpecFile || !eagerModel {
            do {
                return .declarative(
                    try HandlerSpec.resolve(handler: handler, directory: directory, archiveFiles: archiveFiles))
            } catch let error as ArchiveError where error.kind == .unsupportedHandler {
                declarativeError = error
            }
        }
        let file = handler.split(separator: ":", maxSplits: 1).first.map(String.init) ?? handler
        if file.hasSuffix(".py") {
            let name = (file as NSString).lastPathComponent
            guard archiveFiles.contains(name) else {
                throw ArchiveError.unsupportedHandler(handler, reason: "the handler file \(name) is not in the archive.")
            }
            return .python(handler: handler)
        }
        if torchServeBuiltinModules.contains(file) || archiveFiles.contains(file + ".py")
            || (file.contains(".") && isModulePath(file))
        {
            return .python(handler: handler)
        }
        throw declarativeError
    }

    /// `a.b.c`: dot-separated Python identifiers.
    static func isModulePath(_ text: String) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            guard let first = part.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
            else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
        }
    }
}
