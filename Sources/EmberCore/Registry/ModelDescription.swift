import Foundation

/// One element of TorchServe's describe array (contract §3.5), fields in TorchServe's order.
struct ModelDescription: Sendable {
    var modelName: String
    var modelVersion: String
    var modelUrl: String
    var runtime: String
    /// With the pool's current worker range.
    var settings: ModelSettings
    var loadedAtStartup: Bool
    var workers: [WorkerPool.WorkerInfo]
    var pendingRequests: Int
    var loadError: String?
    /// Why failing workers are no longer restarted (``WorkerPool/retriesExhausted``).
    var retriesExhausted: String? = nil
    /// The warm-up forward at load, when the model was warmed up.
    var warmUpTime: Duration? = nil

    static func json(for description: ModelDescription) -> JSONValue {
        let settings = description.settings
        var pairs: [(String, JSONValue)] = [
            ("modelName", .string(description.modelName)),
            ("modelVersion", .string(description.modelVersion)),
            ("modelUrl", .string(description.modelUrl)),
            ("runtime", .string(description.runtime)),
            ("minWorkers", .int(settings.minWorkers)),
            ("maxWorkers", .int(settings.maxWorkers)),
            ("batchSize", .int(settings.batchSize)),
            ("maxBatchDelay", .int(settings.maxBatchDelay.wholeMilliseconds)),
            ("responseTimeout", .int(settings.responseTimeout.wholeSeconds)),
            ("startupTimeout", .int(settings.startupTimeout.wholeSeconds)),
            ("maxRetryTimeoutInSec", .int(settings.maxRetryTimeout.wholeSeconds)),
            ("clientTimeoutInMills", .int(settings.clientTimeout?.wholeMilliseconds ?? 0)),
            ("parallelType", ""),
            ("parallelLevel", 0),
            ("deviceType", "cpu"),
            ("continuousBatching", false),
            ("useJobTicket", false),
            ("useVenv", false),
            ("stateful", false),
            ("sequenceMaxIdleMSec", 0),
            ("sequenceTimeoutMSec", 0),
            ("maxNumSequence", 0),
            ("maxSequenceJobQueueSize", 0),
            ("loadedAtStartup", .bool(description.loadedAtStartup)),
            ("workers", .array(description.workers.map(worker))),
            ("jobQueueStatus", [
                "remainingCapacity": .int(max(0, settings.jobQueueSize - description.pendingRequests)),
                "pendingRequests": .int(description.pendingRequests),
            ]),
        ]
        if let warmUp = description.warmUpTime {
            // Ember's addition: the warm-up forward that proved the model runs before it reported ready.
            pairs.append(("warmUpMilliseconds", .double((warmUp.seconds * 1e6).rounded() / 1e3)))
        }
        if let reason = description.retriesExhausted {
            // Ember's addition: the listed workers are not coming back (the reason names the last failure).
            pairs.append(("status", .string("Workers failed: \(reason)")))
        } else if let error = description.loadError {
            // Ember's addition: why the workers are not up.
            pairs.append(("status", .string("Failed to load: \(error)")))
        }
        return .object(pairs)
    }

    private static func worker(_ info: WorkerPool.WorkerInfo) -> JSONValue {
        [
            "id": .string(String(info.id)),
            "startTime": .string(timestamp(info.startTime)),
            "status": .string(info.isReady ? "READY" : "UNLOADING"),
            "memoryUsage": .int(ProcessMemory.residentBytes()),
            "pid": .int(Int(getpid())),
            "gpu": false,
            "gpuUsage": "N/A",
        ]
    }

    /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` in UTC, as TorchServe prints on a UTC host.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        return formatter.string(from: date)
    }
}

/// Resident memory of this process, from /proc (0 where unavailable).
public enum ProcessMemory {
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
