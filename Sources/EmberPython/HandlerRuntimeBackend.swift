import EmberArchive
import EmberCore

/// The server's backend: declarative archives in-process (libtorch), Python ones in Python workers.
public struct HandlerRuntimeBackend: InferenceBackend {
    public let declarative: any InferenceBackend
    public let python: any InferenceBackend

    public init(declarative: any InferenceBackend, python: any InferenceBackend) {
        self.declarative = declarative
        self.python = python
    }

    public func load(_ archive: ModelArchive, device: String) throws -> any LoadedModel {
        switch archive.runtime {
        case .declarative: try declarative.load(archive, device: device)
        case .python: try python.load(archive, device: device)
        }
    }
}
