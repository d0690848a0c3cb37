import Testing

@testable import EmberCore

/// `disable_token_authorization` and `token_expiration_min` (contract §5.2, §9.1).
struct TokenConfigurationTests {
    @Test func tokensAreOnWithASixtyMinuteLifetimeByDefault() throws {
        let configuration = try ServerConfiguration(properties: "", environment: [:])
        #expect(!configuration.disableTokenAuthorization)
        #expect(configuration.tokenExpirationMinutes == 60)
    }

    @Test func theFileSetsThemAndFractionsAreAllowed() throws {
        let configuration = try ServerConfiguration(
            properties: "disable_token_authorization=true\ntoken_expiration_min=0.25\n", environment: [:])
        #expect(configuration.disableTokenAuthorization)
        #expect(configuration.tokenExpirationMinutes == 0.25)
        #expect(!configuration.ignoredKeys.contains("token_expiration_min"))
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(properties: "token_expiration_min=soon", environment: [:])
        }
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(properties: "token_expiration_min=-1", environment: [:])
        }
    }

    @Test func environmentNamesAreTorchServes() throws {
        let environment = ["TS_TOKEN_EXPIRATION_TIME_MIN": "5", "TS_DISABLE_TOKEN_AUTHORIZATION": "true"]
        let configuration = try ServerConfiguration(properties: "enable_envvars_config=true", environment: environment)
        #expect(configuration.tokenExpirationMinutes == 5)
        #expect(configuration.disableTokenAuthorization)
        #expect(configuration.environmentKeys == ["token_expiration_min", "disable_token_authorization"])
        // Without enable_envvars_config the variables are ignored.
        let ignored = try ServerConfiguration(properties: "", environment: environment)
        #expect(ignored.tokenExpirationMinutes == 60)
        #expect(ignored.environmentKeys.isEmpty)
    }
}
