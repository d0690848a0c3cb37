/// TorchServe's frontend → worker messages (`ts/protocol/otf_message_handler.py`): 4-byte big-endian
/// signed integers, strings as a length and UTF-8 bytes, lists terminated by -1.
public struct LoadRequest: Sendable, Equatable {
    public var modelName: String
    /// The extracted model directory.
    public var modelPath: String
    public var batchSize: Int32
    /// The manifest's handler: a builtin name, a module, or `file.py[:function]`.
    public var handler: String
    /// -1 for CPU.
    public var gpuID: Int32
    /// The request envelope (`json`, `kserve`, …), empty for none.
    public var envelope: String
    public var limitMaxImagePixels: Bool

    public init(
        modelName: String, modelPath: String, batchSize: Int32, handler: String, gpuID: Int32 = -1,
        envelope: String = "", limitMaxImagePixels: Bool = true
    ) {
        self.modelName = modelName
        self.modelPath = modelPath
        self.batchSize = batchSize
        self.handler = handler
        self.gpuID = gpuID
        self.envelope = envelope
        self.limitMaxImagePixels = limitMaxImagePixels
    }

    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.bytes([UInt8(ascii: "L")])
        writer.string(modelName)
        writer.string(modelPath)
        writer.int(batchSize)
        writer.string(handler)
        writer.int(gpuID)
        writer.string(envelope)
        writer.bytes([limitMaxImagePixels ? 1 : 0])
        return writer.buffer
    }
}

/// One request of an inference batch as the worker sees it.
public struct WorkerRequest: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        public var name: String
        /// Empty when the input has none; `application/json` inputs are `json.loads`-ed by the worker.
        public var contentType: String
        public var value: [UInt8]

        public init(name: String, contentType: String, value: [UInt8]) {
            self.name = name
            self.contentType = contentType
            self.value = value
        }
    }

    public var requestID: String
    public var headers: [(name: String, value: String)]
    public var parameters: [Parameter]

    public init(requestID: String, headers: [(name: String, value: String)] = [], parameters: [Parameter]) {
        self.requestID = requestID
        self.headers = headers
        self.parameters = parameters
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.requestID == rhs.requestID && lhs.parameters == rhs.parameters
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// The `I` message: a batch of requests.
public struct InferenceRequest: Sendable, Equatable {
    public var requests: [WorkerRequest]

    public init(requests: [WorkerRequest]) { self.requests = requests }

    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.bytes([UInt8(ascii: "I")])
        for request in requests {
            writer.string(request.requestID)
            for header in request.headers {
                writer.string(header.name)
                writer.string(header.value)
            }
            writer.int(-1)
            for parameter in request.parameters {
                writer.string(parameter.name)
                writer.string(parameter.contentType)
                writer.data(parameter.value)
            }
            writer.int(-1)
        }
        writer.int(-1)
        return writer.buffer
    }
}

struct WireWriter {
    var buffer: [UInt8] = []

    mutating func int(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        buffer += [UInt8(truncatingIfNeeded: bits >> 24), UInt8(truncatingIfNeeded: bits >> 16),
                   UInt8(truncatingIfNeeded: bits >> 8), UInt8(truncatingIfNeeded: bits)]
    }

    mutating func bytes(_ bytes: [UInt8]) { buffer += bytes }

    /// A length-prefixed byte string; the caller bounds sizes (a batch is far below 2 GiB).
    mutating func data(_ bytes: [UInt8]) {
        int(Int32(clamping: bytes.count))
        buffer += bytes.prefix(Int(Int32.max))
    }

    mutating func string(_ text: String) { data(Array(text.utf8)) }
}
