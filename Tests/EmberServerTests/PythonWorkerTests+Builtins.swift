import EmberCore
import Foundation
import Testing

/// TorchServe's builtin handlers served by Python workers from archives the real torch-model-archiver
/// makes with small eager-mode models (Fixtures/python/make_python_models.py): `object_detector` and
/// `text_classifier`, which have no in-process equivalent, and `image_segmenter` (eager, so Python;
/// `image_classifier` is `anEagerModelIsServedByABuiltinHandler`): the same answer as the handler's
/// steps run in plain Python. (text_classifier in torchserve 0.12 needs no torchtext, only captum.)
extension PythonWorkerTests {
    private struct Builtin: Sendable, CustomTestStringConvertible {
        let handler: String
        let directory: String
        let state: String
        let modelFile: String
        let extras: [String]
        let input: String
        let contentType: String?
        var testDescription: String { handler }
    }

    private static let builtins = [
        Builtin(
            handler: "object_detector", directory: "detector", state: "tiny_detector_state.pt",
            modelFile: "tiny_detector.py", extras: ["index_to_name.json"],
            input: TestServer.fixture("EmberTorchTests/Fixtures/images/small.jpg").path, contentType: nil),
        Builtin(
            handler: "text_classifier", directory: "text", state: "tiny_text_state.pt", modelFile: "tiny_text.py",
            extras: ["index_to_name.json", "source_vocab.pt"], input: "", contentType: "text/plain"),
        Builtin(
            handler: "image_segmenter", directory: "segmenter", state: "tiny_segmenter_state.pt",
            modelFile: "tiny_segmenter.py", extras: [],
            input: TestServer.fixture("EmberTorchTests/Fixtures/images/small.jpg").path, contentType: nil),
    ]

    @Test(arguments: builtins) private func aBuiltinWithoutAnInProcessPathIsServedByPythonWorkers(_ builtin: Builtin)
        async throws
    {
        try await TestServer.with(models: []) { server in
            let store = server.modelStore
            let work = store.appendingPathComponent("builtin-work")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let models = work.appendingPathComponent(builtin.directory)
            let input = builtin.input.isEmpty ? work.appendingPathComponent("text.txt").path : builtin.input
            if builtin.input.isEmpty {
                try Data("The quick brown fox isn't <b>slow</b>!".utf8).write(to: URL(fileURLWithPath: input))
            }
            let name = builtin.directory
            try await offThePool {
                _ = try PythonWorkerFixtures.run(
                    PythonWorkerFixtures.python, [PythonWorkerFixtures.path("make_python_models.py"), work.path])
                try PythonWorkerFixtures.archive(
                    name, handler: builtin.handler, serializedFile: models.appendingPathComponent(builtin.state).path,
                    modelFile: PythonWorkerFixtures.path(builtin.modelFile),
                    extraFiles: builtin.extras.map { models.appendingPathComponent($0).path }, into: store)
            }
            let registered = try await server.manage("POST", "/models?url=\(name).mar&initial_workers=1&synchronous=true")
            try #require(registered.status == 200, "\(registered.text)")
            let extracted = store.appendingPathComponent("\(name)-plain")
            let expected = try await offThePool {
                _ = try PythonWorkerFixtures.run(
                    PythonWorkerFixtures.python,
                    ["-m", "zipfile", "-e", store.appendingPathComponent("\(name).mar").path, extracted.path])
                return try PythonWorkerFixtures.run(
                    PythonWorkerFixtures.python,
                    [PythonWorkerFixtures.path("run_handler.py"), extracted.path, builtin.handler, "data", input])
            }
            let reply = try await server.request(
                "POST", port: server.inference, "/predictions/\(name)", body: try Data(contentsOf: URL(fileURLWithPath: input)),
                contentType: builtin.contentType)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.text == String(decoding: expected, as: UTF8.self))
            switch builtin.handler {
            case "object_detector":
                // The biased class scores pass the handler's 0.5 threshold: labelled boxes come back.
                guard case .array(let detections)? = reply.json else {
                    Issue.record("not a list: \(reply.text)")
                    return
                }
                #expect(!detections.isEmpty)
                #expect(detections.allSatisfy { $0["thing"] != nil && $0["score"] != nil })
            case "image_segmenter":
                // Resize(256), CenterCrop(224): per pixel [class, probability], [224][224][2].
                guard case .array(let rows)? = reply.json else {
                    Issue.record("not a [H][W][2] list: \(reply.text.prefix(200))")
                    return
                }
                #expect(rows.count == 224)
                #expect(rows.allSatisfy { if case .array(let pixels) = $0 { pixels.count == 224 } else { false } })
                #expect(rows[0][0]?[1] != nil && rows[0][0]?[2] == nil)
            default:
                #expect(reply.json?["negative"] != nil && reply.json?["neutral"] != nil && reply.json?["positive"] != nil)
            }
        }
    }
}
