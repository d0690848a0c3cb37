import EmberCore
import EmberHTTP
import Foundation
import Logging

/// Start-up of token authorization (contract §9.1): unless disabled, fresh keys written to
/// `key_file.json` in the working directory (mode 0600).
enum TokenFile {
    static let fileName = "key_file.json"

    /// The keys the listeners require, or nil when token authorization is disabled.
    static func start(configuration: ServerConfiguration, logger: Logger) throws -> TokenAuthorization? {
        guard !configuration.disableTokenAuthorization else {
            logger.info("Token authorization is disabled.")
            return nil
        }
        let file = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(fileName)
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
