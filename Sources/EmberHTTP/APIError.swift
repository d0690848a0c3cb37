import EmberCore

/// Errors answered in TorchServe's shape; the type lives in EmberCore so the registry can throw it.
public typealias APIError = ServerError
