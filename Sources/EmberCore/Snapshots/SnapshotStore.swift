import Foundation

/// TorchServe's configuration snapshots (contract §5.4): `<dir>/<yyyyMMddHHmmssSSS>-<kind>.cfg`, each the
/// full properties plus `model_snapshot=`. Written atomically (temporary file, fsync, rename, fsync of
/// the directory), so a kill at any moment leaves the previous snapshot or the new one, never half of one.
public struct SnapshotStore: Sendable {
    public enum Kind: String, Sendable { case startup, snapshot, shutdown }

    /// `$LOG_LOCATION/config`.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// A complete snapshot read back.
    public struct Restored: Sendable {
        public let file: URL
        /// The properties text without `model_snapshot` (read it with `ServerConfiguration(properties:)`).
        public let properties: String
        public let models: ModelSnapshot
    }

    /// The file name for `kind` at `date`: `20261121173016258-snapshot.cfg` (UTC).
    public static func fileName(_ kind: Kind, at date: Date) -> String {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let stamp = pad(Int(parts.tm_year) + 1900, 4) + pad(Int(parts.tm_mon) + 1, 2) + pad(Int(parts.tm_mday), 2)
            + pad(Int(parts.tm_hour), 2) + pad(Int(parts.tm_min), 2) + pad(Int(parts.tm_sec), 2)
            + pad(milliseconds % 1000, 3)
        return "\(stamp)-\(kind.rawValue).cfg"
    }

    /// Writes one snapshot; returns its file.
    @discardableResult
    public func write(_ kind: Kind, configuration: ServerConfiguration, models: ModelSnapshot, at date: Date = Date())
        throws -> URL
    {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = Self.fileName(kind, at: date)
        let created = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        var lines = ["# Ember \(kind.rawValue) snapshot"]
        lines += configuration.propertyEntries.map { PropertiesFile.line($0.key, $0.value) }
        lines.append(PropertiesFile.line("model_snapshot", models.json(name: name, createdMilliseconds: created).compact()))
        let file = directory.appendingPathComponent(name)
        try AtomicFile.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: file)
        return file
    }

    /// Snapshot files, newest first (by the time stamp in their names; temporary files are not snapshots).
    public func snapshotFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.wholeMatch(of: /\d{17}-(startup|snapshot|shutdown)\.cfg/) != nil }
            .sorted { (String($0.prefix(17)), $0) > (String($1.prefix(17)), $1) }
            .map { directory.appendingPathComponent($0) }
    }

    /// The newest snapshot that reads back completely; older ones are tried when a newer one is damaged.
    public func latest() -> Restored? {
        for file in snapshotFiles() {
            if let restored = try? read(file) { return restored }
        }
        return nil
    }

    public func read(_ file: URL) throws -> Restored {
        let text = try String(contentsOf: file, encoding: .utf8)
        var models: ModelSnapshot?
        var properties: [String] = []
        for (key, value) in try PropertiesFile.parse(text) {
            if key == "model_snapshot" {
                models = try ModelSnapshot.parse(value)
            } else {
                properties.append(PropertiesFile.line(key, value))
            }
        }
        guard let models else { throw ConfigurationError("\(file.lastPathComponent) has no model_snapshot") }
        // The properties must read back as a configuration too.
        let configuration = properties.joined(separator: "\n")
        _ = try ServerConfiguration(properties: configuration, environment: [:])
        return Restored(file: file, properties: configuration, models: models)
    }
}
