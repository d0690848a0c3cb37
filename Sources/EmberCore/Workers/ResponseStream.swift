import Synchronization

/// An answer that arrives in pieces: the chunks a handler sends before its final one (TorchServe's
/// `send_intermediate_predict_response`), then the final body. Protocol-neutral: the HTTP listener
/// writes each chunk as one piece of a chunked response; a gRPC `StreamPredictions` can send each as
/// one message.
///
/// One producer (the worker's thread, through its pool) and one consumer (``next()``). Chunks the
/// consumer has not taken yet are buffered up to ``maxBufferedBytes``; a handler that outruns its
/// client by more than that fails the stream rather than growing the server's memory.
public final class ResponseStream: Sendable {
    /// The most bytes waiting for a slow consumer.
    public static let maxBufferedBytes = 64 << 20

    private struct State {
        var chunks: [[UInt8]] = []
        var bufferedBytes = 0
        /// Set once the producer is done: nil for a normal end, else the error the consumer gets.
        var end: ServerError??
        var waiter: CheckedContinuation<Void, Never>?
        /// The consumer went away: further chunks are dropped.
        var abandoned = false
    }

    private let state = Mutex(State())
    private let limit: Int

    public init(maxBufferedBytes: Int = ResponseStream.maxBufferedBytes) {
        self.limit = maxBufferedBytes
    }

    /// Adds one chunk. Returns false when the stream takes no more (ended, abandoned, or over its buffer
    /// bound, which ends it with an error).
    @discardableResult
    public func yield(_ chunk: [UInt8]) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.end == nil, !state.abandoned else { return (false, nil) }
            let (total, overflow) = state.bufferedBytes.addingReportingOverflow(chunk.count)
            if overflow || total > limit {
                state.chunks.removeAll()
                state.bufferedBytes = 0
                state.end = .some(
                    ServerError.responseTooLarge(size: overflow ? Int.max : total, limit: limit))
            } else {
                state.chunks.append(chunk)
                state.bufferedBytes = total
            }
            defer { state.waiter = nil }
            return (state.end == nil, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Ends the stream: normally (`error` nil) after the chunks buffered so far, or with `error`.
    public func finish(_ error: ServerError? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.end == nil else { return nil }
            state.end = .some(error)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The consumer is gone (its client disconnected): what is buffered and what comes is dropped.
    public func abandon() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.abandoned = true
            state.chunks.removeAll()
            state.bufferedBytes = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether the consumer went away.
    public var isAbandoned: Bool { state.withLock { $0.abandoned } }

    /// The next chunk, nil at the normal end; throws the error the stream ended with. One consumer.
    public func next() async throws(ServerError) -> [UInt8]? {
        while true {
            enum Step {
                case chunk([UInt8])
                case end(ServerError?)
                case wait
            }
            let step = state.withLock { state -> Step in
                if !state.chunks.isEmpty {
                    let chunk = state.chunks.removeFirst()
                    state.bufferedBytes -= chunk.count
                    return .chunk(chunk)
                }
                if state.abandoned { return .end(nil) }
                if let end = state.end { return .end(end) }
                return .wait
            }
            switch step {
            case .chunk(let chunk): return chunk
            case .end(let error?): throw error
            case .end(nil): return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state -> Bool in
                        if !state.chunks.isEmpty || state.end != nil || state.abandoned { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    /// Every chunk joined, for a caller that cannot stream (at most `limit` bytes in all).
    public func collect(limit: Int) async throws(ServerError) -> [UInt8] {
        var joined: [UInt8] = []
        while let chunk = try await next() {
            guard joined.count + chunk.count <= limit else {
                abandon()
                throw ServerError.responseTooLarge(size: joined.count + chunk.count, limit: limit)
            }
            joined += chunk
        }
        return joined
    }
}

extension ResponseStream: Equatable {
    public static func == (lhs: ResponseStream, rhs: ResponseStream) -> Bool { lhs === rhs }
}
