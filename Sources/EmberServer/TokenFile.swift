import EmberCore
import EmberHTTP
import Foundation
import Logging

/// Start-up of token authorization (contract §9.1): unless disabled, fresh keys written to
/// `key_file.json` in the working directory (mode 0600), or the operator's keys from `token_key_file`
/// (read, never written; `KeyFileWatcher` re-reads it when it changes).
enum TokenFile {
    static let fileName = "key_file.json"

    /// The keys the listeners require, or nil when token authorization is disabled.
    static func start(configuration: ServerConfiguration, logger: Logger) throws -> TokenAuthorization? {
        guard !configuration.disableTokenAuthorization else {
            logger.info("Token authorization is disabled.")
            return nil
        }
        let file = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(fileName)
        if let path = configuration.tokenKeyFile {
            let operatorFile = URL(fileURLWithPath: path).standardizedFileURL
            // `ember --stop` deletes ./key_file.json, as `torchserve --stop` does.
            guard operatorFile.resolvingSymlinksInPath() != file.standardizedFileURL.resolvingSymlinksInPath() else {
                throw ConfigurationError(
                    "token_key_file must not be ./key_file.json in the working directory, which `ember --stop` deletes")
            }
            let tokens = try TokenAuthorization(operatorFile: operatorFile)
            logger.info(
                "Token authorization uses the operator's keys: requests need 'Authorization: Bearer <key>'. Key file \(operatorFile.path) (not rotated; re-read when it changes)")
            return tokens
        }
        let tokens = TokenAuthorization(expirationMinutes: configuration.tokenExpirationMinutes, file: file)
        do {
            try tokens.writeFile()
        } catch {
            throw ConfigurationError("cannot write the token key file: \(error)")
        }
        logger.info(
            "Ember enforces token authorization by default: requests need 'Authorization: Bearer <key>'. Key file located at \(file.path)")
        return tokens
    }
}
