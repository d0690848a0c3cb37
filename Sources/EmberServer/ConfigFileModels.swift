import EmberCore
import Foundation

/// The models a configuration file names in `model_snapshot` (TorchServe loads them at start, and
/// KServe's TorchServe layout, `config/config.properties` + `model-store/`, names its models this way).
enum ConfigFileModels {
    static func snapshot(inFile path: String) throws -> ModelSnapshot? {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read \(path): \(error.localizedDescription)")
        }
        guard let value = try PropertiesFile.parse(text).last(where: { $0.0 == "model_snapshot" })?.1 else { return nil }
        do {
            return try ModelSnapshot.parse(value)
        } catch {
            throw ConfigurationError("\(path): \(error)")
        }
    }
}
