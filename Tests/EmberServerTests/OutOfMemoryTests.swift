import EmberArchive
import EmberCore
import Foundation
import Testing

/// libtorch running out of memory fails that batch with TorchServe's 507, and the server keeps serving.
@Suite struct OutOfMemoryTests {
    @Test func anAllocationFailureAnswers507AndTheNextRequestSucceeds() async throws {
        try await TestServer.with(models: []) { server in
            let spec = server.modelStore.appendingPathComponent("hungry-handler.yaml")
            try Data("ember_handler: 1\ninput: {type: tensor, dtype: float32, shape: [2]}\npostprocess: [identity]\n".utf8)
                .write(to: spec)
            try ArchiveWriter(
                modelName: "hungry", version: "1.0", handler: spec.path,
                serializedFile: TestServer.fixture("EmberServerTests/Fixtures/hungry.pt"), exportPath: server.modelStore
            ).write()
            #expect(try await server.manage("POST", "/models?url=hungry.mar&initial_workers=1").status == 200)
            // 10^7 x 10^7 float32 is 400 TB: the allocation fails at once.
            let starved = try await server.predict("hungry", json: "[10000000, 1]")
            #expect(starved.status == 507)
            #expect(starved.json?["message"] == "Out of resources")
            let fed = try await server.predict("hungry", json: "[2, 21]")
            #expect(fed.status == 200)
            #expect(fed.json == [2.0, 21.0])
        }
    }
}
