import CTorchShim

/// An error reported by libtorch through the shim, with libtorch's own message.
public struct TorchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure it was; cases may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case unknown, invalidArgument, notFound, loadFailed, runtime, outOfMemory, unsupported
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        public static let unknown = Code(.unknown)
        public static let invalidArgument = Code(.invalidArgument)
        public static let notFound = Code(.notFound)
        public static let loadFailed = Code(.loadFailed)
        public static let runtime = Code(.runtime)
        public static let outOfMemory = Code(.outOfMemory)
        public static let unsupported = Code(.unsupported)

        init(_ code: CTorchShim_ErrorCode) {
            switch code {
            case CTORCHSHIM_ERROR_INVALID_ARGUMENT: self = .invalidArgument
            case CTORCHSHIM_ERROR_NOT_FOUND: self = .notFound
            case CTORCHSHIM_ERROR_LOAD_FAILED: self = .loadFailed
            case CTORCHSHIM_ERROR_RUNTIME: self = .runtime
            case CTORCHSHIM_ERROR_OUT_OF_MEMORY: self = .outOfMemory
            case CTORCHSHIM_ERROR_UNSUPPORTED: self = .unsupported
            default: self = .unknown
            }
        }

        public var description: String { "\(value)" }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "TorchError(\(code)): \(message)" }

    /// Takes ownership of a shim error and frees it.
    init(consuming error: OpaquePointer) {
        self.code = Code(CTorchShim_ErrorGetCode(error))
        self.message = String(cString: CTorchShim_ErrorMessage(error))
        CTorchShim_ErrorFree(error)
    }

    /// Throws the shim's error, if the call returned one.
    static func check(_ error: OpaquePointer?) throws(TorchError) {
        if let error { throw TorchError(consuming: error) }
    }
}
