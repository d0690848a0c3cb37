import Foundation

/// An error reading, validating or writing a model archive.
///
/// One type for every archive problem, each with its own message; compare `kind` to tell them apart.
public struct ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The category of an ``ArchiveError``, without its details.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case fileNotFound
        case unrecognizedFormat
        case zipSlip
        case absolutePath
        case unsafeLink
        case unsupportedEntryType
        case missingManifest
        case invalidManifest
        case missingArchiveMember
        case invalidMemberName
        case corruptArchive
        case sizeLimitExceeded
        case entryLimitExceeded
        case duplicateEntry
        case invalidYAML
        case invalidHandlerSpec
        case unsupportedHandler
        case invalidModelName
        case outputExists
        case invalidArgument
        case ioFailure
    }

    /// What went wrong, without the details.
    public let kind: Kind
    /// A complete, human readable explanation.
    public let message: String

    public var description: String { message }

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func fileNotFound(_ path: String) -> Self {
        .init(.fileNotFound, "File does not exist: \(path)")
    }

    static func unrecognizedFormat(path: String) -> Self {
        .init(
            .unrecognizedFormat,
            "\(path) is not a model archive: expected a ZIP .mar, a .tar.gz or a directory containing MAR-INF/MANIFEST.json")
    }

    static func zipSlip(entry: String) -> Self {
        .init(.zipSlip, "Archive entry '\(entry)' escapes the archive directory ('..' in its path); refusing the archive")
    }

    static func absolutePath(entry: String) -> Self {
        .init(.absolutePath, "Archive entry '\(entry)' has an absolute path; refusing the archive")
    }

    static func unsafeLink(entry: String, target: String) -> Self {
        .init(
            .unsafeLink,
            "Archive entry '\(entry)' is a link to '\(target)', which is absolute or outside the archive; refusing the archive")
    }

    static func unsupportedEntryType(entry: String, type: String) -> Self {
        .init(.unsupportedEntryType, "Archive entry '\(entry)' has an unsupported type (\(type)); refusing the archive")
    }

    static func missingManifest(archive: String) -> Self {
        .init(.missingManifest, "\(archive) has no MAR-INF/MANIFEST.json; Ember needs the manifest to load a model archive")
    }

    static func invalidManifest(archive: String, reason: String) -> Self {
        .init(.invalidManifest, "MAR-INF/MANIFEST.json in \(archive) cannot be read: \(reason)")
    }

    static func missingArchiveMember(field: String, name: String) -> Self {
        .init(.missingArchiveMember, "The manifest's \(field) '\(name)' is not in the archive")
    }

    static func invalidMemberName(field: String, name: String) -> Self {
        .init(
            .invalidMemberName,
            "The manifest's \(field) '\(name)' must be a plain file name at the archive root (no '/' or '..')")
    }

    static func corruptArchive(_ path: String, reason: String) -> Self {
        .init(.corruptArchive, "\(path) is truncated or corrupt: \(reason)")
    }

    static func sizeLimitExceeded(limit: UInt64) -> Self {
        .init(
            .sizeLimitExceeded,
            "The archive expands to more than the limit of \(limit) bytes; refusing it (raise the limit if the model is really this large)")
    }

    static func entryLimitExceeded(limit: Int) -> Self {
        .init(.entryLimitExceeded, "The archive has more than \(limit) entries; refusing it")
    }

    static func duplicateEntry(_ entry: String) -> Self {
        .init(.duplicateEntry, "The archive contains '\(entry)' more than once; refusing the archive")
    }

    static func invalidYAML(file: String, reason: String) -> Self {
        .init(.invalidYAML, "\(file) is not valid YAML: \(reason)")
    }

    static func invalidHandlerSpec(file: String, problem: String) -> Self {
        .init(.invalidHandlerSpec, "Handler spec \(file): \(problem)")
    }

    static func unsupportedHandler(_ handler: String, reason: String) -> Self {
        .init(.unsupportedHandler, "Handler '\(handler)' is not supported by Ember: \(reason)")
    }

    static func invalidModelName(_ name: String) -> Self {
        .init(
            .invalidModelName,
            "Model name contains special characters.\nThe allowed regular expression filter for model name is: ^[A-Za-z0-9][A-Za-z0-9_\\-.]*$ (got '\(name)')")
    }

    static func outputExists(_ path: String) -> Self {
        .init(
            .outputExists,
            "\(path) already exists. Please specify --force/-f option to overwrite the model archive output file.")
    }

    static func invalidArgument(_ message: String) -> Self {
        .init(.invalidArgument, message)
    }

    static func ioFailure(_ operation: String, path: String, errno code: Int32? = nil) -> Self {
        let detail = code.map { ": " + String(cString: strerror($0)) } ?? ""
        return .init(.ioFailure, "Could not \(operation) \(path)\(detail)")
    }
}

