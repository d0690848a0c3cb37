import EmberCore
import Foundation

/// Reads `POST /models` parameters as TorchServe does: from the query string, or from a JSON body
/// (leniently: quoted numbers and single quotes are accepted). Text that is not a number counts as
/// absent, as in TorchServe; a number beyond the setting's range is a 400 naming it (``IntegerParameter``).
enum RegisterParameters {
    static func fromQuery(_ pairs: [(name: String, value: String)]) throws(ServerError) -> RegisterRequest {
        var values: [String: String] = [:]
        for pair in pairs { values[pair.name] = pair.value }
        return try make(values)
    }

    static func fromJSON(_ body: [UInt8]) throws -> RegisterRequest {
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            // Gson's lenient mode takes single-quoted strings; so do we.
            let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "'", with: "\"")
            guard let lenient = try? JSONValue.parse(text) else { throw ServerError.badRequest("Invalid JSON body: \(error)") }
            document = lenient
        }
        guard case .object(let pairs) = document else { throw ServerError.badRequest("The JSON body must be an object.") }
        var values: [String: String] = [:]
        // Whole numbers too large for an integer (1e300): out of range, where "x" would be absent.
        var oversized: Set<String> = []
        for (key, value) in pairs {
            switch value {
            case .string(let text): values[key] = text
            case .int(let number): values[key] = String(number)
            // 4.0 is 4; 1e300 stays a number too large for any setting (no trap converting it).
            case .double(let number):
                values[key] = Int(exactly: number).map(String.init) ?? String(number)
                if Int(exactly: number) == nil, number.isFinite, number > 0, number == number.rounded() { oversized.insert(key) }
            case .bool(let flag): values[key] = flag ? "true" : "false"
            default: continue
            }
        }
        return try make(values, oversized: oversized)
    }

    /// Named values as the other two forms give them (the gRPC listener's RegisterModelRequest).
    static func fromFields(_ values: [String: String]) throws(ServerError) -> RegisterRequest {
        try make(values)
    }

    private static func make(_ values: [String: String], oversized: Set<String> = []) throws(ServerError)
        -> RegisterRequest
    {
        var request = RegisterRequest()
        request.url = values["url"]
        request.modelName = values["model_name"].flatMap { $0.isEmpty ? nil : $0 }
        request.handler = values["handler"]
        request.runtime = values["runtime"]
        // Below the range is "not given" (TorchServe's -1 defaults); above it, or too large to be a number, is a 400.
        func integer(_ name: String, _ range: ClosedRange<Int>) throws(ServerError) -> Int? {
            if oversized.contains(name) { throw .outOfRange(name, range, got: values[name] ?? "") }
            return try IntegerParameter.parse(values[name], name: name, range: range, belowIsAbsent: true)
        }
        typealias Limits = ModelSettings.Limits
        request.settings = ModelSettings.Partial(
            initialWorkers: try integer("initial_workers", 1...Limits.workerCount.upperBound),
            batchSize: try integer("batch_size", Limits.batchSize),
            maxBatchDelayMilliseconds: try integer("max_batch_delay", Limits.maxBatchDelayMilliseconds),
            responseTimeoutSeconds: try integer("response_timeout", Limits.timeoutSeconds),
            startupTimeoutSeconds: try integer("startup_timeout", Limits.timeoutSeconds))
        // Boolean.parseBoolean: only "true" (any case) is true; absent means TorchServe's default, true.
        request.synchronous = values["synchronous"].map { $0.lowercased() == "true" } ?? true
        return request
    }
}

extension RegisterRequest {
    /// A registration from named text values, read and checked exactly as REST's query parameters
    /// (`url`, `model_name`, `handler`, `runtime`, `initial_workers`, `batch_size`, `max_batch_delay`,
    /// `response_timeout`, `startup_timeout`, `synchronous`).
    public static func parse(fields: [String: String]) throws(ServerError) -> RegisterRequest {
        try RegisterParameters.fromFields(fields)
    }
}
