/// The worker → frontend reply to a load or inference message: a top-level code and message, then one
/// prediction per request (none for a load reply), terminated by -1.
public struct WorkerResponse: Sendable, Equatable {
    public struct Prediction: Sendable, Equatable {
        public var requestID: String
        /// Empty when the handler set none.
        public var contentType: String
        public var statusCode: Int32
        public var reasonPhrase: String
        public var headers: [String: String]
        public var body: [UInt8]

        public init(
            requestID: String, contentType: String = "", statusCode: Int32 = 200, reasonPhrase: String = "",
            headers: [String: String] = [:], body: [UInt8]
        ) {
            self.requestID = requestID
            self.contentType = contentType
            self.statusCode = statusCode
            self.reasonPhrase = reasonPhrase
            self.headers = headers
            self.body = body
        }

        /// `send_intermediate_predict_response` marks all but the last chunk of a streamed answer.
        public var isIntermediate: Bool { headers["ts_stream_next"] == "true" }
    }

    public var code: Int32
    public var message: String
    public var predictions: [Prediction]

    public init(code: Int32, message: String, predictions: [Prediction] = []) {
        self.code = code
        self.message = message
        self.predictions = predictions
    }
}

/// Where a decoder reads exact byte counts from: a socket on the worker's I/O thread, an array in tests.
public protocol WireSource {
    /// Exactly `count` bytes, or an error (end of stream, closed, interrupted).
    mutating func read(exactly count: Int) throws(WireError) -> [UInt8]
}

public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    public static let endOfStream = WireError("the worker closed its socket")
}

/// Reads worker responses, refusing negative or oversized lengths before allocating.
public struct WorkerResponseDecoder: Sendable {
    /// The largest body (and string) a response may carry (`max_response_size`).
    public var maxBodySize: Int
    /// The most predictions or headers one response may carry.
    public var maxCount: Int

    public init(maxBodySize: Int, maxCount: Int = 65_536) {
        self.maxBodySize = maxBodySize
        self.maxCount = maxCount
    }

    public func decode(from source: inout some WireSource) throws(WireError) -> WorkerResponse {
        let code = try int(&source)
        let message = try string(&source)
        var predictions: [WorkerResponse.Prediction] = []
        while true {
            let idLength = try int(&source)
            if idLength == -1 { break }
            guard predictions.count < maxCount else { throw WireError("more than \(maxCount) predictions in one response") }
            let requestID = try text(&source, length: idLength)
            let contentType = try string(&source)
            let status = try int(&source)
            let phrase = try string(&source)
            let headerCount = try int(&source)
            guard headerCount >= 0, headerCount <= maxCount else { throw WireError("bad header count \(headerCount)") }
            var headers: [String: String] = [:]
            for _ in 0..<headerCount {
                let key = try string(&source)
                headers[key] = try string(&source)
            }
            let bodyLength = try int(&source)
            let body = try bytes(&source, length: bodyLength)
            predictions.append(
                .init(requestID: requestID, contentType: contentType, statusCode: status, reasonPhrase: phrase,
                      headers: headers, body: body))
        }
        return WorkerResponse(code: code, message: message, predictions: predictions)
    }

    private func int(_ source: inout some WireSource) throws(WireError) -> Int32 {
        let raw = try source.read(exactly: 4)
        guard raw.count == 4 else { throw WireError.endOfStream }
        let bits = UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3])
        return Int32(bitPattern: bits)
    }

    private func bytes(_ source: inout some WireSource, length: Int32) throws(WireError) -> [UInt8] {
        guard length >= 0 else { throw WireError("negative length \(length)") }
        guard Int(length) <= maxBodySize else {
            throw WireError("a response field of \(length) bytes exceeds max_response_size (\(maxBodySize) bytes)")
        }
        return length == 0 ? [] : try source.read(exactly: Int(length))
    }

    private func text(_ source: inout some WireSource, length: Int32) throws(WireError) -> String {
        String(decoding: try bytes(&source, length: length), as: UTF8.self)
    }

    private func string(_ source: inout some WireSource) throws(WireError) -> String {
        let length = try int(&source)
        return try text(&source, length: length)
    }
}

/// A response held in memory (tests, fixtures).
public struct ArrayWireSource: WireSource {
    private let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { position == bytes.count }

    public mutating func read(exactly count: Int) throws(WireError) -> [UInt8] {
        guard count >= 0, bytes.count - position >= count else { throw WireError.endOfStream }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }
}
