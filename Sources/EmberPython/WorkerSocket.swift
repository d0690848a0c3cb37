#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEmberPosix

/// Why a blocking socket call came back without its bytes.
enum SocketInterruption: Error {
    /// The worker was asked to stop (its wake pipe was written).
    case stopRequested
    case timedOut
    case closed(String)
}

/// A wake-up pipe: `stop` and `run` write a byte so a thread blocked in `poll` returns at once.
final class WakePipe: @unchecked Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() throws(WireError) {
        var fds: [Int32] = [-1, -1]
        guard cember_pipe_cloexec(&fds, O_NONBLOCK) == 0 else { throw WireError("pipe: \(String(cString: strerror(errno)))") }
        readFD = fds[0]
        writeFD = fds[1]
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}

/// The frontend end of a worker's Unix socket. Blocking, used only by the worker's own I/O thread;
/// every wait also watches the wake pipe, so a stop interrupts it.
struct WorkerSocket {
    let fd: Int32
    let wake: WakePipe
    /// Checked on each wake-up: whether the waiter should give up.
    let shouldStop: @Sendable () -> Bool

    /// Connects to `path`, retrying while the worker has not bound it yet, until `deadline`.
    static func connect(
        path: String, deadline: ContinuousClock.Instant, wake: WakePipe, shouldStop: @escaping @Sendable () -> Bool,
        childExited: () -> String?
    ) throws(SocketInterruption) -> WorkerSocket {
        while true {
            if shouldStop() { throw .stopRequested }
            if let status = childExited() { throw .closed("the worker process ended before it listened (\(status))") }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .closed("socket: \(String(cString: strerror(errno)))") }
            if connectUnix(fd, path) == 0 { return WorkerSocket(fd: fd, wake: wake, shouldStop: shouldStop) }
            Glibc.close(fd)
            guard ContinuousClock.now < deadline else { throw .timedOut }
            usleep(20_000)
        }
    }

    private static func connectUnix(_ fd: Int32, _ path: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return -1 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// Waits until the socket is readable (or closed), the wake pipe is written, or `deadline`.
    /// Returns true when the socket is readable.
    func waitReadable(until deadline: ContinuousClock.Instant?) throws(SocketInterruption) -> Bool {
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)]
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { throw .timedOut }
                timeout = Int32(clamping: max(1, Int((left / .milliseconds(1)).rounded(.up))))
            }
            let ready = poll(&fds, 2, timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .closed("poll: \(String(cString: strerror(errno)))")
            }
            if fds[1].revents != 0 {
                wake.drain()
                if shouldStop() { throw .stopRequested }
                // A batch arrived: the caller decides.
                if fds[0].revents == 0 { return false }
            }
            if fds[0].revents != 0 { return true }
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(SocketInterruption) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .closed("write to the worker: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    func close() { _ = Glibc.close(fd) }
}

/// Reads a response from the socket, each wait bounded by `deadline` and interrupted by a stop.
struct SocketWireSource: WireSource {
    let socket: WorkerSocket
    let deadline: ContinuousClock.Instant?
    /// Set when the read failed for another reason than the stream (stop, timeout).
    var interruption: SocketInterruption?

    mutating func read(exactly count: Int) throws(WireError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            switch Result(catching: { () throws(SocketInterruption) -> Bool in try socket.waitReadable(until: deadline) }) {
            case .success(true): break
            case .success(false): continue
            case .failure(let error):
                interruption = error
                throw WireError("interrupted: \(error)")
            }
            let got = buffer.withUnsafeMutableBytes { raw in
                recv(socket.fd, raw.baseAddress.map { $0 + filled }, count - filled, 0)
            }
            if got == 0 { throw WireError.endOfStream }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw WireError("read from the worker: \(String(cString: strerror(errno)))")
            }
            filled += got
        }
        return buffer
    }
}
