import EmberCore
import Foundation
import Synchronization

/// The access log: one line per request, as TorchServe's `access_log.log`, written in the
/// background.
///
/// Requests only append to a buffer; a thread of its own writes the buffer out every
/// `flushInterval` with one `write`. Logging each line through swift-log's stream handler cost a
/// `stat("/etc/localtime")`, a `strftime` and a `write` per request, a tenth of the server's CPU at
/// 14,000 requests/s. The time stamp is formatted once per second. If the sink cannot keep up, the
/// buffer stops at `bufferLimit` bytes and the lines past it are counted and reported instead.
public final class AccessLog: Sendable {
    /// Where the lines go.
    public struct Sink: Sendable {
        let write: @Sendable ([UInt8]) -> Void

        public init(write: @escaping @Sendable ([UInt8]) -> Void) { self.write = write }

        /// Standard error, where the rest of the log goes.
        public static let standardError = Sink { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
        var second = -1
        var stamp: [UInt8] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let wake = NSCondition()
    /// Keeps flushes in order when `close()` and the writer thread flush at once.
    private let writing = NSLock()
    private let sink: Sink
    private let flushInterval: Duration
    private let bufferLimit: Int

    public init(sink: Sink = .standardError, flushInterval: Duration = .milliseconds(100), bufferLimit: Int = 4 << 20) {
        self.sink = sink
        self.flushInterval = flushInterval
        self.bufferLimit = bufferLimit
        let thread = Thread { [self] in flushLoop() }
        thread.name = "ember-access-log"
        thread.start()
    }

    /// Appends `"<method> <uri> HTTP/1.1" <status> <milliseconds>` for one request (`protocolName`
    /// "gRPC" for the gRPC listeners, whose status is the gRPC status code).
    public func record(
        requestID: String, method: String, uri: String, status: Int, milliseconds: Int64, protocolName: String = "HTTP/1.1"
    ) {
        let now = time(nil)
        state.withLock { state in
            guard !state.closed else { return }
            guard state.buffer.count < bufferLimit else {
                state.dropped += 1
                return
            }
            if state.second != now {
                state.second = now
                state.stamp = Self.timestamp(now)
            }
            // Appended piece by piece: no line String built per request.
            state.buffer += state.stamp
            state.buffer += Self.linePrefix
            state.buffer += requestID.utf8
            state.buffer += Self.quote
            state.buffer += method.utf8
            state.buffer.append(UInt8(ascii: " "))
            state.buffer += uri.utf8
            state.buffer.append(UInt8(ascii: " "))
            state.buffer += protocolName.utf8
            state.buffer += Self.closingQuote
            state.buffer += String(status).utf8
            state.buffer.append(UInt8(ascii: " "))
            state.buffer += String(milliseconds).utf8
            state.buffer.append(UInt8(ascii: "\n"))
        }
    }

    private static let linePrefix = Array(" info ember: log=access request.id=".utf8)
    private static let quote = Array(" \"".utf8)
    private static let closingQuote = Array("\" ".utf8)

    /// Writes out what is buffered now.
    public func flush() {
        writing.lock()
        defer { writing.unlock() }
        let (bytes, dropped) = state.withLock { state in
            defer {
                state.buffer.removeAll(keepingCapacity: true)
                state.dropped = 0
            }
            return (state.buffer, state.dropped)
        }
        if !bytes.isEmpty { sink.write(bytes) }
        if dropped > 0 {
            sink.write(Array("\(String(decoding: Self.timestamp(time(nil)), as: UTF8.self)) warning ember: log=access \(dropped) access log lines dropped (the log could not keep up)\n".utf8))
        }
    }

    /// Flushes and stops the writer thread; later lines are ignored.
    public func close() {
        state.withLock { $0.closed = true }
        wake.lock()
        wake.signal()
        wake.unlock()
        flush()
    }

    private func flushLoop() {
        while !state.withLock({ $0.closed }) {
            wake.lock()
            _ = wake.wait(until: Date().addingTimeInterval(flushInterval.seconds))
            wake.unlock()
            flush()
        }
    }

    /// `2026-11-21T21:40:55+0000`, local time, as swift-log's stream handler writes it.
    static func timestamp(_ seconds: Int) -> [UInt8] {
        var clock = seconds
        var parts = tm()
        localtime_r(&clock, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return buffer.prefix(count).map { UInt8(bitPattern: $0) }
    }
}
