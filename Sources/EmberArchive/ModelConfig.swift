import Foundation
import Logging

/// `model-config.yaml`: the keys TorchServe's frontend reads (contract §6.3), Ember's thread counts,
/// and the whole document as plain data for everything else (`raw["handler"]?["foo"]`).
///
/// As in TorchServe, a key with the wrong type is ignored (and reported in ``warnings``), not an error.
public struct ModelConfig: Sendable, Equatable {
    public var minWorkers: Int?
    public var maxWorkers: Int?
    public var batchSize: Int?
    public var maxBatchDelay: Int?
    public var responseTimeout: Int?
    public var startupTimeout: Int?
    /// `cpu` or `gpu`.
    public var deviceType: String?
    public var deviceIds: [Int]?
    /// `pp`, `tp`, `pptp` or `custom`.
    public var parallelType: String?
    public var parallelLevel: Int?
    public var jobQueueSize: Int?
    public var maxRetryTimeoutInSec: Int?
    public var clientTimeoutInMills: Int?
    public var useJobTicket: Bool?
    public var sequenceBatching: Bool?
    public var sequenceMaxIdleMSec: Int?
    public var sequenceTimeoutMSec: Int?
    public var maxNumSequence: Int?
    public var maxSequenceJobQueueSize: Int?
    public var continuousBatching: Bool?
    public var asyncCommunication: Bool?
    public var useVenv: Bool?
    /// Ember: libtorch intra-op thread count for this model.
    public var intraOpThreads: Int?
    /// Ember: libtorch inter-op thread count for this model.
    public var interOpThreads: Int?
    /// Ember: decode JPEGs at reduced scale in libjpeg-turbo's DCT domain before an image resize
    /// (faster on large photos; the pixels then differ from PIL's). Off unless `true`.
    public var jpegDCTScaling: Bool?
    /// The `torchrun` section as written.
    public var torchrun: YAMLValue?
    /// The whole document (a mapping, or `.null` for an empty file).
    public var raw: YAMLValue
    /// One line per ignored key with the wrong type.
    public var warnings: [String]

    /// Decodes `model-config.yaml` text.
    ///
    /// - Throws: ``ArchiveError`` `invalidYAML` when the text is not YAML or its top level is not a mapping.
    public init(yaml text: String, fileName: String = "model-config.yaml", logger: Logger? = nil) throws {
        let document = try YAMLValue.parse(text, fileName: fileName)
        let entries: [String: YAMLValue]
        switch document {
        case .null: entries = [:]
        case .mapping(let mapping): entries = mapping
        default:
            throw ArchiveError.invalidYAML(
                file: fileName, reason: "the top level must be a mapping of keys, not a \(document.typeName)")
        }
        raw = document
        var problems: [String] = []
        torchrun = entries["torchrun"]

        func int(_ key: String) -> Int? {
            guard let value = entries[key] else { return nil }
            if let number = value.intValue { return number }
            problems.append("\(fileName): '\(key)' should be an int, got \(value.typeName); ignored")
            return nil
        }
        func bool(_ key: String) -> Bool? {
            guard let value = entries[key] else { return nil }
            if let flag = value.boolValue { return flag }
            problems.append("\(fileName): '\(key)' should be a bool, got \(value.typeName); ignored")
            return nil
        }
        func string(_ key: String, allowed: Set<String>) -> String? {
            guard let value = entries[key] else { return nil }
            if let text = value.stringValue, allowed.contains(text) { return text }
            problems.append(
                "\(fileName): '\(key)' should be one of \(allowed.sorted().joined(separator: ", ")); ignored")
            return nil
        }

        minWorkers = int("minWorkers")
        maxWorkers = int("maxWorkers")
        batchSize = int("batchSize")
        maxBatchDelay = int("maxBatchDelay")
        responseTimeout = int("responseTimeout")
        startupTimeout = int("startupTimeout")
        deviceType = string("deviceType", allowed: ["cpu", "gpu"])
        parallelType = string("parallelType", allowed: ["pp", "tp", "pptp", "custom"])
        parallelLevel = int("parallelLevel")
        jobQueueSize = int("jobQueueSize")
        maxRetryTimeoutInSec = int("maxRetryTimeoutInSec")
        clientTimeoutInMills = int("clientTimeoutInMills")
        useJobTicket = bool("useJobTicket")
        sequenceBatching = bool("sequenceBatching")
        sequenceMaxIdleMSec = int("sequenceMaxIdleMSec")
        sequenceTimeoutMSec = int("sequenceTimeoutMSec")
        maxNumSequence = int("maxNumSequence")
        maxSequenceJobQueueSize = int("maxSequenceJobQueueSize")
        continuousBatching = bool("continuousBatching")
        asyncCommunication = bool("asyncCommunication")
        useVenv = bool("useVenv")
        intraOpThreads = int("intraOpThreads")
        interOpThreads = int("interOpThreads")
        jpegDCTScaling = bool("jpegDCTScaling")

        deviceIds = nil
        if let value = entries["deviceIds"] {
            // TorchServe drops the whole list when one id is invalid.
            if let list = value.arrayValue, list.allSatisfy({ ($0.intValue ?? -1) >= 0 }) {
                deviceIds = list.compactMap(\.intValue)
            } else {
                problems.append("\(fileName): 'deviceIds' should be a list of non-negative ints; ignored")
            }
        }

        warnings = problems
        for warning in problems { logger?.warning("\(warning)") }
    }

    /// Reads and decodes a `model-config.yaml` file.
    public init(contentsOf url: URL, logger: Logger? = nil) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ArchiveError.ioFailure("read", path: url.path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ArchiveError.invalidYAML(file: url.lastPathComponent, reason: "not UTF-8 text")
        }
        try self.init(yaml: text, fileName: url.lastPathComponent, logger: logger)
    }
}
