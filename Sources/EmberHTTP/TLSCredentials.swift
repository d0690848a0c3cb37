import EmberCore
import Foundation
import NIOSSL

/// The certificate chain and private key an `https://` listener serves with (`certificate_file`,
/// `private_key_file`, both PEM), checked when the server starts so a bad file stops it with its name.
public struct TLSCredentials: Sendable {
    /// The server configuration: the chain and key from the files, TLS 1.2 or later.
    public let configuration: TLSConfiguration

    /// Reads and checks both files; every failure names the file it comes from.
    public static func load(certificateFile: String, privateKeyFile: String) throws(ConfigurationError) -> TLSCredentials {
        let certificateBytes = try read(certificateFile, key: "certificate_file")
        let keyBytes = try read(privateKeyFile, key: "private_key_file")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw ConfigurationError("certificate_file \(certificateFile) is not a PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError("certificate_file \(certificateFile) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw ConfigurationError(
                "private_key_file \(privateKeyFile) is not an unencrypted PEM private key: \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            // Builds the context once now: a key that does not match the certificate fails here, not
            // on the first connection.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(
                "private_key_file \(privateKeyFile) and certificate_file \(certificateFile) cannot be used together: \(error)")
        }
        return TLSCredentials(configuration: configuration)
    }

    private static func read(_ path: String, key: String) throws(ConfigurationError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("\(key) \(path) cannot be read")
        }
        return [UInt8](data)
    }
}
