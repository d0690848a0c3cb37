import EmberCore
import EmberHTTP
import Synchronization

/// A ``ModelService`` that answers from data and records every call, for testing the HTTP listeners
/// without a registry, worker pools or libtorch.
///
/// Models it knows answer; others are `ModelNotFoundException`, unknown versions
/// `ModelVersionNotFoundException`, as the registry answers. An error set in ``Answers/errors`` is
/// thrown instead of answering.
public final class FakeModelService: ModelService {
    public enum Operation: Hashable, Sendable {
        case predict, register, scale, describe, list, unregister, setDefault
    }

    /// One call as the listener made it.
    public enum Call: Sendable, Equatable {
        case predict(model: String, version: String?, body: [UInt8], contentType: String?)
        case register(RegisterRequest)
        case scale(model: String, version: String?, minWorkers: Int, maxWorkers: Int, synchronous: Bool)
        case describe(model: String, version: DescribeTarget)
        case list(limit: Int, offset: Int)
        case unregister(model: String, version: String?)
        case setDefault(model: String, version: String)
        case isHealthy, isReady
        case isModelReady(String)
        case requireModel(String)
    }

    public struct Answers: Sendable {
        /// Model name to its versions; the first is the default.
        public var models: [String: [String]]
        /// What every prediction returns.
        public var prediction: InferenceOutput
        /// Thrown instead of answering.
        public var errors: [Operation: any Error]
        /// The status of register, scale, unregister and set-default answers.
        public var changeStatus: Int
        public var healthy: Bool
        public var ready: Bool

        public init(
            models: [String: [String]] = [:],
            prediction: InferenceOutput = InferenceOutput(body: Array(#"{"prediction": 1}"#.utf8), contentType: "application/json"),
            errors: [Operation: any Error] = [:], changeStatus: Int = 200, healthy: Bool = true, ready: Bool = true
        ) {
            self.models = models
            self.prediction = prediction
            self.errors = errors
            self.changeStatus = changeStatus
            self.healthy = healthy
            self.ready = ready
        }
    }

    private struct State {
        var answers: Answers
        var calls: [Call] = []
    }

    private let state: Mutex<State>

    public init(_ answers: Answers = Answers()) {
        state = Mutex(State(answers: answers))
    }

    /// Every call so far, in order.
    public var calls: [Call] { state.withLock { $0.calls } }

    /// Changes the answers from now on.
    public func change(_ update: (inout Answers) -> Void) {
        state.withLock { update(&$0.answers) }
    }

    /// Records `call` and returns the answers.
    private func record(_ call: Call) -> Answers {
        state.withLock { state in
            state.calls.append(call)
            return state.answers
        }
    }

    /// Records `call`; throws the error set for `operation`, else returns the answers.
    private func record(_ call: Call, failing operation: Operation) throws -> Answers {
        let answers = record(call)
        if let error = answers.errors[operation] { throw error }
        return answers
    }

    private func versions(of model: String, in answers: Answers) throws(ServerError) -> [String] {
        guard let versions = answers.models[model], !versions.isEmpty else { throw .modelNotFound(model) }
        return versions
    }

    private func requireVersion(_ version: String?, of model: String, in answers: Answers) throws(ServerError) {
        let versions = try versions(of: model, in: answers)
        if let version, !versions.contains(version) { throw .versionNotFound(model, version) }
    }

    public func predict(model: String, version: String?, input: InferenceInput) async throws -> InferenceOutput {
        let answers = try record(
            .predict(model: model, version: version, body: input.body, contentType: input.contentType), failing: .predict)
        try requireVersion(version, of: model, in: answers)
        return answers.prediction
    }

    public func register(_ request: RegisterRequest) async throws -> ServiceResponse {
        let answers = try record(.register(request), failing: .register)
        let name = request.modelName ?? request.url ?? ""
        return .status("Model \"\(name)\" registered", code: answers.changeStatus)
    }

    public func scale(model: String, version: String?, minWorkers: Int, maxWorkers: Int, synchronous: Bool) async throws
        -> ServiceResponse
    {
        let answers = try record(
            .scale(model: model, version: version, minWorkers: minWorkers, maxWorkers: maxWorkers, synchronous: synchronous),
            failing: .scale)
        try requireVersion(version, of: model, in: answers)
        return .status("Workers scaled to \(minWorkers) for model: \(model)", code: answers.changeStatus)
    }

    public func describe(model: String, version: DescribeTarget) async throws -> JSONValue {
        let answers = try record(.describe(model: model, version: version), failing: .describe)
        let versions = try versions(of: model, in: answers)
        let described: [String]
        switch version {
        case .defaultVersion: described = Array(versions.prefix(1))
        case .all: described = versions
        case .version(let name):
            try requireVersion(name, of: model, in: answers)
            described = [name]
        }
        return .array(described.map { ["modelName": .string(model), "modelVersion": .string($0)] })
    }

    public func list(limit: Int, offset: Int) async -> JSONValue {
        let answers = record(.list(limit: limit, offset: offset))
        let names = answers.models.keys.sorted().dropFirst(offset).prefix(limit)
        return ["models": .array(names.map { ["modelName": .string($0)] })]
    }

    public func unregister(model: String, version: String?) async throws -> ServiceResponse {
        let answers = try record(.unregister(model: model, version: version), failing: .unregister)
        try requireVersion(version, of: model, in: answers)
        return .status("Model \"\(model)\" unregistered", code: answers.changeStatus)
    }

    public func setDefault(model: String, version: String) async throws -> ServiceResponse {
        let answers = try record(.setDefault(model: model, version: version), failing: .setDefault)
        try requireVersion(version, of: model, in: answers)
        return .status("Default version successfully updated for model \"\(model)\" to \"\(version)\"", code: answers.changeStatus)
    }

    public func isHealthy() -> Bool { record(.isHealthy).healthy }
    public func isReady() async -> Bool { record(.isReady).ready }

    public func isModelReady(_ model: String) async throws -> Bool {
        let answers = record(.isModelReady(model))
        _ = try versions(of: model, in: answers)
        return answers.ready
    }

    public func requireModel(_ model: String) async throws {
        _ = try versions(of: model, in: record(.requireModel(model)))
    }
}
