import Foundation
import Synchronization
import Testing

@testable import EmberHTTP

@Suite struct AccessLogTests {
    final class Collected: Sendable {
        let bytes = Mutex([UInt8]())
        var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func linesAreWrittenInOrderByTheBackgroundWriterAndOnClose() async throws {
        let collected = Collected()
        let log = AccessLog(sink: .init { bytes in collected.bytes.withLock { $0 += bytes } }, flushInterval: .milliseconds(20))
        log.record(requestID: "id-1", method: "POST", uri: "/predictions/mlp", status: 200, milliseconds: 3)
        // The writer thread flushes without being asked.
        let deadline = ContinuousClock.now + .seconds(10)
        while !collected.text.contains("id-1"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        log.record(requestID: "id-2", method: "GET", uri: "/ping", status: 404, milliseconds: 0)
        log.close()
        log.record(requestID: "id-3", method: "GET", uri: "/ping", status: 200, milliseconds: 0)
        let lines = collected.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix(#" info ember: log=access request.id=id-1 "POST /predictions/mlp HTTP/1.1" 200 3"#) == true)
        #expect(lines.last?.hasSuffix(#"request.id=id-2 "GET /ping HTTP/1.1" 404 0"#) == true)
        #expect(lines.first?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} .*/) != nil)
    }

    @Test func aSinkThatCannotKeepUpLosesLinesNotMemory() {
        let collected = Collected()
        let log = AccessLog(
            sink: .init { bytes in collected.bytes.withLock { $0 += bytes } }, flushInterval: .seconds(60), bufferLimit: 1_000)
        for index in 0..<100 {
            log.record(requestID: "id-\(index)", method: "GET", uri: "/ping", status: 200, milliseconds: 0)
        }
        log.close()
        let text = collected.text
        #expect(text.utf8.count < 1_000 + 2 * 120)
        #expect(text.contains("access log lines dropped"))
        #expect(text.contains("request.id=id-0 "))
        #expect(!text.contains("request.id=id-99 "))
    }

    @Test func requestIDsAreVersion4UUIDs() {
        let ids = (0..<1_000).map { _ in RequestID.next() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(20) {
            #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
            #expect(UUID(uuidString: id) != nil)
        }
    }
}
