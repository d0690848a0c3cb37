import Foundation

/// A plain TCP client for what URLSession cannot do: leave mid-request, keep writing a body the
/// server has already answered.
enum RawSocket {
    static func connect(port: Int) -> Int32? { IdleConnectionsTests.connect(port: port) }

    /// Writes everything, or stops at the first error (false): MSG_NOSIGNAL, so a reset is an error
    /// here instead of a SIGPIPE that would end the test process.
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Reads until the peer closes, `timeout` passes, or a whole response (head and Content-Length
    /// body) has arrived.
    static func readResponse(_ fd: Int32, timeout: TimeInterval) -> String {
        var timeval = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
            let text = String(decoding: received, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text[headEnd.upperBound...].utf8.count >= length { return text }
            }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
