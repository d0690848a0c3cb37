import Foundation
import Testing
import TorchBackend

@Suite struct TorchModuleTests {
    let expected = Fixtures.expected.mlp

    @Test func mlpForwardMatchesGenerator() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("mlp.pt"))
        let input = try Tensor(shape: [2, 4], floats: try #require(expected.input))
        let output = try #require(try module.forward(input).tensor).value()
        #expect(output.shape == expected.shape)
        #expect(maxDifference(try #require(output.floats), try #require(expected.output)) < 1e-5)
    }

    @Test func loadsFromMemory() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("mlp.pt"))))
        let module = try TorchModule(serialized: bytes)
        let input = try Tensor(shape: [2, 4], floats: try #require(expected.input))
        let output = try #require(try module.forward(input).tensor).value()
        #expect(maxDifference(try #require(output.floats), try #require(expected.output)) < 1e-5)
    }

    @Test func tupleOutput() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("tuple_out.pt"))
        let output = try module.forward(try Tensor(shape: [3], floats: [1, 2, 3]))
        guard case .list(let elements) = output else {
            Issue.record("expected a list, got \(output)")
            return
        }
        #expect(elements.count == 2)
        #expect(try #require(output[0]?.tensor).value().floats == [2, 4, 6])
        #expect(try #require(output[1]?.tensor).value().floats == [2, 3, 4])
    }

    @Test func dictOutput() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("dict_out.pt"))
        let output = try module.forward(try Tensor(shape: [2, 2], floats: [1, 2, 3, 4]))
        #expect(try #require(output["out"]?.tensor).value().floats == [3, 6, 9, 12])
        let aux = try #require(output["aux"]?.tensor).value()
        #expect(aux.shape == [2])
        #expect(aux.floats == [3, 7])
        #expect(output["missing"] == nil)
    }

    @Test func severalIntegerInputs() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("add_ints.pt"))
        let a = try Tensor(shape: [2], int64s: [40, -7])
        let b = try Tensor(shape: [2], int64s: [2, 7])
        #expect(try #require(try module.forward(a, b).tensor).value().int64s == [42, 0])
    }

    @Test func modelThatThrowsReportsItsMessage() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("throws.pt"))
        let error = #expect(throws: TorchError.self) {
            try module.forward(try Tensor(shape: [2], floats: [-1, -2]))
        }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("negative input is not allowed") == true)
        // The module keeps working after a failed call.
        #expect(try #require(try module.forward(try Tensor(shape: [1], floats: [5])).tensor).value().floats == [5])
    }

    @Test func wrongInputShapeIsAReadableError() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("mlp.pt"))
        let error = #expect(throws: TorchError.self) {
            try module.forward(try Tensor(shape: [2, 5], floats: Array(repeating: 1, count: 10)))
        }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("shapes cannot be multiplied") == true)
    }

    @Test func wrongInputDTypeIsAReadableError() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("mlp.pt"))
        let error = #expect(throws: TorchError.self) {
            try module.forward(try Tensor(shape: [1, 4], int64s: [1, 2, 3, 4]))
        }
        #expect(error?.message.isEmpty == false)
    }

    @Test func missingFileIsALoadError() {
        let error = #expect(throws: TorchError.self) {
            try TorchModule(contentsOf: "/nonexistent/model.pt")
        }
        #expect(error?.code == .loadFailed)
        #expect(error?.message.contains("/nonexistent/model.pt") == true)
    }

    @Test func fileThatIsNotTorchScriptIsALoadError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-model-\(UUID()).pt")
        try Data("this is not a zip archive".utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let error = #expect(throws: TorchError.self) {
            try TorchModule(contentsOf: path.path)
        }
        #expect(error?.code == .loadFailed)
        #expect(error?.message.isEmpty == false)
        #expect(throws: TorchError.self) { try TorchModule(serialized: [1, 2, 3]) }
    }

    @Test func unavailableDeviceIsAnError() {
        let error = #expect(throws: TorchError.self) {
            try TorchModule(contentsOf: Fixtures.path("mlp.pt"), device: "cuda:\(TorchRuntime.cudaDeviceCount)")
        }
        #expect(error?.message.contains("cuda") == true)
        #expect(throws: TorchError.self) { try TorchModule(contentsOf: Fixtures.path("mlp.pt"), device: "abacus") }
    }

    @Test func threadSettings() throws {
        try TorchRuntime.setIntraOpThreads(1)
        #expect(TorchRuntime.intraOpThreads == 1)
        #expect(throws: TorchError.self) { try TorchRuntime.setIntraOpThreads(0) }
        #expect(TorchRuntime.apiVersion == 1)
    }
}
