import EmberCore
import Foundation

/// Reads `POST /models` parameters as TorchServe does: from the query string, or from a JSON body
/// (leniently: quoted numbers and single quotes are accepted). Unparseable numbers count as absent.
enum RegisterParameters {
    static func fromQuery(_ pairs: [(name: String, value: String)]) -> RegisterRequest {
        var values: [String: String] = [:]
        for pair in pairs { values[pair.name] = pair.value }
        return make(values)
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
        for (key, value) in pairs {
            switch value {
            case .string(let text): values[key] = text
            case .int(let number): values[key] = String(number)
            case .double(let number): values[key] = number == number.rounded() ? String(Int(number)) : String(number)
            case .bool(let flag): values[key] = flag ? "true" : "false"
            default: continue
            }
        }
        return make(values)
    }

    private static func make(_ values: [String: String]) -> RegisterRequest {
        var request = RegisterRequest()
        request.url = values["url"]
        request.modelName = values["model_name"].flatMap { $0.isEmpty ? nil : $0 }
        request.handler = values["handler"]
        request.runtime = values["runtime"]
        func integer(_ name: String) -> Int? { values[name].flatMap { Int($0) } }
        request.settings = ModelSettings.Partial(
            initialWorkers: integer("initial_workers"), batchSize: integer("batch_size"),
            maxBatchDelayMilliseconds: integer("max_batch_delay"), responseTimeoutSeconds: integer("response_timeout"),
            startupTimeoutSeconds: integer("startup_timeout"))
        // Boolean.parseBoolean: only "true" (any case) is true; absent means TorchServe's default, true.
        request.synchronous = values["synchronous"].map { $0.lowercased() == "true" } ?? true
        return request
    }
}
