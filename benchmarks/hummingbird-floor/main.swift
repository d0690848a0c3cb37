// The bare Hummingbird 2 floor for `make bench` (benchmarks/run.py): one router with the two routes the
// benchmark loads (`POST /predictions/mlp` collects the body, `GET /ping`), each answering a fixed body
// the size of the MLP's answer. What the framework Ember's listeners use costs before Ember adds anything.
//
//     ember-hummingbird-floor --port 8080 --answer answer.json
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let port = option("--port").flatMap(Int.init), let answerPath = option("--answer"),
    let answerData = FileManager.default.contents(atPath: answerPath)
else {
    FileHandle.standardError.write(Data("usage: ember-hummingbird-floor --port N --answer FILE\n".utf8))
    exit(2)
}
let answer = ByteBuffer(bytes: answerData)
let router = Router()
router.post("/predictions/mlp") { request, _ -> Response in
    _ = try await request.body.collect(upTo: 1 << 20)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
}
router.get("/ping") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "floor", backlog: 1024),
    onServerRunning: { _ in
        FileHandle.standardOutput.write(Data("Model server started. (hummingbird floor on port \(port))\n".utf8))
    })
try await app.runService()
