import EmberCore
import Foundation
import Testing

@testable import EmberHTTP

/// The operator's key file: TorchServe's `key_file.json` read back, clear refusals, reload.
@Suite struct TokenKeyFileTests {
    static func parse(_ text: String) throws(ConfigurationError) -> TokenKeyFile.Keys {
        try TokenKeyFile.parse(Array(text.utf8), name: "keys.json")
    }

    static func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ember-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aFileTorchServeWroteReadsBackWithItsExpiries() throws {
        // What TokenAuthorization (and TorchServe) writes.
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = TokenAuthorization(expirationMinutes: 30, file: directory.appendingPathComponent("key_file.json"))
        try written.writeFile()
        let keys = try TokenKeyFile.parse(try TokenKeyFile.read(directory.appendingPathComponent("key_file.json")), name: "k")
        #expect(keys.inference.key == written.token(for: .inference).key)
        #expect(keys.management.key == written.token(for: .management).key)
        #expect(keys.api == written.apiKey)
        #expect(abs(keys.inference.expiration.timeIntervalSince(written.token(for: .inference).expiration)) < 1e-6)
    }

    @Test func timestampsAreJavasInstantFormat() {
        let parsed = TokenKeyFile.timestamp("2026-11-21T17:30:16.258101969Z")?.timeIntervalSince1970 ?? 0
        #expect(abs(parsed - 1_795_282_216.258101969) < 1e-6)
        #expect(TokenKeyFile.timestamp("1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        for bad in ["2026-11-21 17:30:16Z", "2026-13-01T00:00:00Z", "2026-11-21T17:30:16", "yesterday", "2026-11-21T17:30:16.Z",
                    "2026-11-21T25:00:00Z"] {
            #expect(TokenKeyFile.timestamp(bad) == nil, "\(bad)")
        }
    }

    @Test func badFilesAreRefusedWithTheirReason() {
        let cases: [(String, String)] = [
            ("not json", "is not JSON"),
            ("[1]", "is not a JSON object"),
            (#"{"inference": {"key": "a"}}"#, #"no "management" section"#),
            (#"{"management": {"key": "a"}, "inference": {}}"#, #""inference" has no "key" string"#),
            (#"{"management": {"key": "a"}, "inference": {"key": ""}}"#, "printable ASCII"),
            (#"{"management": {"key": "a b"}, "inference": {"key": "c"}}"#, "printable ASCII"),
            (#"{"management": {"key": "a"}, "inference": {"key": "c", "expiration time": 5}}"#, "expiration time"),
            (#"{"management": {"key": "a"}, "inference": {"key": "c"}, "API": {"key": 7}}"#, #""API" has no "key""#),
            ("{\"management\": {\"key\": \"\(String(repeating: "k", count: 1025))\"}, \"inference\": {\"key\": \"c\"}}", "1 to 1024"),
        ]
        for (text, reason) in cases {
            do {
                _ = try Self.parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                let message = String(describing: error)
                #expect(message.contains(reason), "\(text): \(message)")
                #expect(message.contains("keys.json"))
            }
        }
    }

    @Test func aMissingOrHugeFileIsRefused() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: ConfigurationError.self) { _ = try TokenAuthorization(operatorFile: directory.appendingPathComponent("none.json")) }
        let huge = directory.appendingPathComponent("huge.json")
        try Data(repeating: 0x20, count: TokenKeyFile.maximumSize + 1).write(to: huge)
        #expect(throws: ConfigurationError.self) { _ = try TokenAuthorization(operatorFile: huge) }
    }

    @Test func reloadSwapsInAChangedFileAndKeepsTheKeysOfABadOne() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("keys.json")
        try Data(#"{"management": {"key": "m1"}, "inference": {"key": "i1"}}"#.utf8).write(to: file)
        let tokens = try TokenAuthorization(operatorFile: file)
        #expect(tokens.reload() == .unchanged)
        try Data(#"{"management": {"key": "m2"}, "inference": {"key": "i2"}}"#.utf8).write(to: file)
        #expect(tokens.reload() == .replaced)
        #expect(tokens.check("Bearer i2", for: .inference))
        #expect(!tokens.check("Bearer i1", for: .inference))
        try Data(#"{"management": {"key": "m3"}}"#.utf8).write(to: file)
        guard case .refused(let reason) = tokens.reload() else {
            Issue.record("a file without an inference key was used")
            return
        }
        #expect(reason.contains("inference"))
        #expect(tokens.check("Bearer i2", for: .inference))
        try FileManager.default.removeItem(at: file)
        if case .refused = tokens.reload() {} else { Issue.record("a deleted file was not reported") }
        #expect(tokens.check("Bearer m2", for: .management))
        // Generated keys have nothing to re-read.
        #expect(TokenAuthorization().reload() == .unchanged)
    }
}
