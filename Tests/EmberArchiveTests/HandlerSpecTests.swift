import Foundation
import Testing

@testable import EmberArchive

@Suite struct HandlerSpecTests {
    private func problem(_ yaml: String, files: Set<String>? = nil) -> String {
        expectArchiveError(.invalidHandlerSpec) { _ = try HandlerSpec.parse(yaml: yaml, fileName: "h.yaml", archiveFiles: files) }?
            .message ?? ""
    }

    @Test func tensorSpecParses() throws {
        let spec = try HandlerSpec.parse(
            yaml: """
                ember_handler: 1
                input: {type: tensor, dtype: int64, shape: [16, -1]}
                model: {output: 1}
                postprocess:
                  - softmax: {}
                  - argmax: {dim: 1}
                  - labels: {}
                """, fileName: "h.yaml")
        #expect(spec.input == .tensor(dtype: .int64, shape: [16, -1]))
        #expect(spec.modelOutput == .index(1))
        #expect(spec.postprocess == [.softmax(dim: 1), .argmax(dim: 1), .labels(file: nil)])
    }

    @Test func imageSpecParsesWithDefaults() throws {
        let spec = try HandlerSpec.parse(
            yaml: """
                ember_handler: 1
                input: {type: image}
                preprocess:
                  - decode_image: {}
                  - resize: {size: 256}
                  - center_crop: {size: [200, 100]}
                  - to_float: {}
                postprocess: [classification]
                """, fileName: "h.yaml")
        #expect(
            spec.preprocess == [
                .decodeImage(mode: .rgb), .resize(size: .shorterSide(256), interpolation: .bilinear, antialias: true),
                .centerCrop(height: 200, width: 100), .toFloat,
            ])
        #expect(spec.postprocess == [.classification])
    }

    @Test func unknownStepNamesTheValidSteps() {
        let message = problem("ember_handler: 1\ninput: {type: tensor}\npostprocess:\n  - sigmoid: {}\n")
        #expect(message.contains("postprocess step 1: unknown step 'sigmoid'"))
        #expect(message.contains("softmax, topk, labels, argmax, classification, segmentation, identity"))
    }

    @Test func badTopK() {
        #expect(problem("ember_handler: 1\ninput: {type: tensor}\npostprocess: [{topk: {k: 0}}]").contains("'topk': 'k' must be an integer >= 1"))
        #expect(problem("ember_handler: 1\ninput: {type: tensor}\npostprocess: [{topk: {k: five}}]").contains("'k' must be an integer"))
    }

    @Test func mismatchedMeanAndStd() {
        let message = problem(
            """
            ember_handler: 1
            input: {type: image}
            preprocess: [{decode_image: {}}, {to_float: {}}, {normalize: {mean: [0.5, 0.5, 0.5], std: [0.2, 0.2]}}]
            """)
        #expect(message.contains("preprocess step 3 'normalize': 'mean' and 'std' must be non-empty lists of equal length"))
    }

    @Test func unknownDType() {
        #expect(problem("ember_handler: 1\ninput: {type: tensor, dtype: float16}").contains("unknown dtype 'float16'"))
    }

    @Test func unknownParameterAndKey() {
        #expect(problem("ember_handler: 1\ninput: {type: tensor}\npostprocess: [{softmax: {axis: 1}}]").contains("unknown parameter 'axis'"))
        #expect(problem("ember_handler: 1\ninput: {type: tensor}\nextra: 1").contains("unknown top-level key 'extra'"))
        #expect(problem("ember_handler: 2\ninput: {type: tensor}").contains("schema version"))
    }

    @Test func crossStepChecks() {
        #expect(problem("ember_handler: 1\ninput: {type: tensor}\npreprocess: [{to_float: {}}]").contains("input is a tensor"))
        #expect(problem("ember_handler: 1\ninput: {type: tensor}\npostprocess: [{labels: {}}]").contains("needs a preceding topk or argmax"))
        #expect(problem("ember_handler: 1\ninput: {type: image}\npreprocess: [{to_float: {}}]").contains("decode_image"))
    }

    @Test func labelFileMustBeInTheArchive() {
        let yaml = "ember_handler: 1\ninput: {type: tensor}\npostprocess: [{topk: {}}, {labels: {file: names.json}}]"
        #expect(problem(yaml, files: ["model.pt"]).contains("label file 'names.json' is not in the archive"))
        #expect(throws: Never.self) { try HandlerSpec.parse(yaml: yaml, fileName: "h.yaml", archiveFiles: ["names.json"]) }
    }

    @Test func builtinsResolve() throws {
        let directory = URL(fileURLWithPath: "/nonexistent")
        let classifier = try HandlerSpec.resolve(handler: "image_classifier", directory: directory, archiveFiles: ["index_to_name.json"])
        #expect(classifier.preprocess == HandlerSpec.imageNetPreprocess)
        #expect(classifier.postprocess == [.softmax(dim: 1), .topk(k: 5), .labels(file: "index_to_name.json")])
        let unlabelled = try HandlerSpec.resolve(handler: "image_classifier", directory: directory, archiveFiles: [])
        #expect(unlabelled.postprocess.last == .labels(file: nil))
        let segmenter = try HandlerSpec.resolve(handler: "image_segmenter", directory: directory, archiveFiles: [])
        #expect(segmenter.modelOutput == .key("out"))
        #expect(segmenter.postprocess == [.softmax(dim: 1), .segmentation])
        let base = try HandlerSpec.resolve(handler: "base_handler", directory: directory, archiveFiles: [])
        #expect(base.input == .tensor(dtype: .float32, shape: nil))
        #expect(base.postprocess == [.identity])
    }

    @Test func unsupportedHandlersListWhatIsSupported() {
        let directory = URL(fileURLWithPath: "/nonexistent")
        for name in HandlerSpec.unsupportedBuiltinNames {
            let error = expectArchiveError(.unsupportedHandler) {
                _ = try HandlerSpec.resolve(handler: name, directory: directory, archiveFiles: [])
            }
            #expect(error?.message.contains("base_handler, image_classifier, image_segmenter") == true)
        }
        for name in ["my_handler.py", "x:func"] {
            let error = expectArchiveError(.unsupportedHandler) {
                _ = try HandlerSpec.resolve(handler: name, directory: directory, archiveFiles: [name])
            }
            #expect(error?.message.contains("does not run Python handlers") == true)
            #expect(error?.message.contains("ember-handler.yaml") == true)
        }
    }

    @Test func specFileWinsOverPythonHandler() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        try scratch.write("ember-handler.yaml", "ember_handler: 1\ninput: {type: tensor, shape: [3]}\npostprocess: [identity]")
        let spec = try HandlerSpec.resolve(handler: "my_handler.py", directory: scratch.root, archiveFiles: ["ember-handler.yaml"])
        #expect(spec.input == .tensor(dtype: .float32, shape: [3]))
    }
}

@Suite struct HandlerRuntimeTests {
    private let directory = URL(fileURLWithPath: "/nonexistent")

    @Test func pythonHandlersGoToPythonWorkers() throws {
        let cases: [(String, Set<String>)] = [
            ("handler.py", ["handler.py", "model.pt"]), ("handler.py:handle", ["handler.py"]),
            ("object_detector", []), ("text_classifier", []), ("ts.torch_handler.image_classifier", []),
            ("my_module", ["my_module.py"]),
        ]
        for (handler, files) in cases {
            #expect(try HandlerRuntime.resolve(handler: handler, directory: directory, archiveFiles: files) == .python(handler: handler))
        }
    }

    @Test func declarativeArchivesStayInProcess() throws {
        let builtin = try HandlerRuntime.resolve(handler: "image_classifier", directory: directory, archiveFiles: [])
        #expect(builtin == .declarative(try #require(HandlerSpec.builtin(named: "image_classifier"))))
    }

    @Test func anEagerModelGoesToPythonEvenWithADeclarativeBuiltin() throws {
        let eager = try HandlerRuntime.resolve(
            handler: "image_classifier", directory: directory, archiveFiles: ["model.py", "state.pt"], eagerModel: true)
        #expect(eager == .python(handler: "image_classifier"))
    }

    @Test func aMissingHandlerFileOrUnknownNameIsRefused() {
        let missing = expectArchiveError(.unsupportedHandler) {
            _ = try HandlerRuntime.resolve(handler: "handler.py", directory: directory, archiveFiles: ["model.pt"])
        }
        #expect(missing?.message.contains("handler.py is not in the archive") == true)
        let unknown = expectArchiveError(.unsupportedHandler) {
            _ = try HandlerRuntime.resolve(handler: "no_such_handler", directory: directory, archiveFiles: [])
        }
        #expect(unknown?.message.contains("image_classifier") == true)
    }
}
