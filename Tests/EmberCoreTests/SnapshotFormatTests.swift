import Foundation
import Testing

@testable import EmberCore

/// What snapshots are made of: properties lines that read back, TorchServe's `model_snapshot` JSON,
/// and file names that sort by time.
struct SnapshotFormatTests {
    @Test func propertiesLinesReadBackUnchanged() throws {
        let values = [
            "plain", "http://127.0.0.1:8080", "a=b:c#d!e", #"back\slash"#, " leading space", "two\nlines\ttab",
            #"{"models": {"m": {"1.0": {"marName": "m.mar"}}}}"#, "ünïcode", "",
        ]
        for value in values {
            let parsed = try PropertiesFile.parse(PropertiesFile.line("some key", value))
            #expect(parsed.count == 1)
            #expect(parsed.first?.key == "some key")
            #expect(parsed.first?.value == value)
        }
    }

    @Test func theConfigurationRoundTripsThroughItsProperties() throws {
        let original = try ServerConfiguration(properties: """
            inference_address=http://0.0.0.0:9080
            management_address=https://[::1]:9081
            model_store=/srv/models
            job_queue_size=7
            cors_allowed_origin=*
            allowed_urls=file://.*,https://example.com/.*
            token_expiration_min=0.5
            enable_model_api=true
            """, environment: [:])
        let text = original.propertyEntries.map { PropertiesFile.line($0.key, $0.value) }.joined(separator: "\n")
        let copy = try ServerConfiguration(properties: text, environment: [:])
        #expect(copy.inferenceAddress == original.inferenceAddress)
        #expect(copy.managementAddress == original.managementAddress)
        #expect(copy.modelStore == "/srv/models")
        #expect(copy.jobQueueSize == 7)
        #expect(copy.corsAllowedOrigin == "*")
        #expect(copy.allowedURLs == original.allowedURLs)
        #expect(copy.tokenExpirationMinutes == 0.5)
        #expect(copy.enableModelAPI)
        #expect(copy.unknownKeys.isEmpty)
    }

    @Test func modelSnapshotJSONIsTorchServesShape() throws {
        let settings = ModelSettings(
            minWorkers: 0, maxWorkers: 0, batchSize: 1, maxBatchDelay: .milliseconds(100), responseTimeout: .seconds(120),
            startupTimeout: .seconds(120))
        let snapshot = ModelSnapshot(versions: [
            .init(modelName: "b", version: "2.0", isDefault: true, marName: "b2.mar", settings: settings),
            .init(modelName: "a", version: "1.0", isDefault: true, marName: "a.mar", settings: settings),
            .init(modelName: "b", version: "1.0", isDefault: false, marName: "b.mar", settings: settings),
        ])
        let json = snapshot.json(name: "x-snapshot.cfg", createdMilliseconds: 42)
        #expect(json["modelCount"] == 2)
        #expect(json["created"] == 42)
        #expect(json["models"]?["b"]?["2.0"]?["defaultVersion"] == true)
        #expect(json["models"]?["a"]?["1.0"]?["minWorkers"] == 0)
        #expect(try ModelSnapshot.parse(json.compact()) == snapshot)
        #expect(throws: ConfigurationError.self) { try ModelSnapshot.parse(#"{"name": "x", "models": {"a": {"1.0": {}}}}"#) }
        #expect(throws: ConfigurationError.self) { try ModelSnapshot.parse(#"{"name": "x", "modelCount": 1, "models": {"#) }
    }

    @Test func fileNamesAreUTCMillisecondStamps() {
        let date = Date(timeIntervalSince1970: 1_795_291_556.654)
        #expect(SnapshotStore.fileName(.startup, at: date) == "20261121200556654-startup.cfg")
        #expect(SnapshotStore.fileName(.shutdown, at: date) == "20261121200556654-shutdown.cfg")
    }
}
