import EmberCore
import Foundation
import Logging

/// Registers the models named by `--models` / `load_models` before the listeners open.
struct StartupModels {
    let configuration: ServerConfiguration
    let registry: ModelRegistry
    let logger: Logger

    func registerAll() async throws {
        for (name, url) in try entries() {
            do {
                let result = try await registry.register(
                    .init(url: url, modelName: name, synchronous: true, atStartup: true))
                logger.info("\(result.message)")
            } catch {
                // One broken archive does not stop the others from serving.
                logger.error("start-up model failed", metadata: ["url": "\(url)", "error": "\(error)"])
            }
        }
    }

    /// `all` = every `.mar`, `.tar.gz`, `.model` file and non-hidden directory in the store; otherwise
    /// `name=url` or `url` entries.
    func entries() throws -> [(name: String?, url: String)] {
        guard let store = configuration.modelStore else { return [] }
        var result: [(name: String?, url: String)] = []
        for entry in configuration.loadModels {
            if entry.lowercased() == "all" {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
                for file in names.sorted() where !file.hasPrefix(".") {
                    var isDirectory: ObjCBool = false
                    FileManager.default.fileExists(atPath: store + "/" + file, isDirectory: &isDirectory)
                    if isDirectory.boolValue || file.hasSuffix(".mar") || file.hasSuffix(".tar.gz") || file.hasSuffix(".model") {
                        result.append((nil, file))
                    }
                }
            } else if let equals = entry.firstIndex(of: "=") {
                result.append((String(entry[..<equals]), String(entry[entry.index(after: equals)...])))
            } else {
                result.append((nil, entry))
            }
        }
        return result
    }
}
