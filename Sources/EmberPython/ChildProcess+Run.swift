#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension ChildProcess {
    /// How a program run to completion ended.
    struct Outcome: Sendable {
        var status: String
        var timedOut: Bool
        /// The tail of its stdout and stderr (at most `outputLimit` bytes), trimmed.
        var output: String

        var succeeded: Bool { !timedOut && status == "exit code 0" }
    }

    /// Runs a program to completion, keeping the tail of its output; killed (with its group) past
    /// `timeout`. Blocking: call it on a thread of its own (the registry's loader thread).
    static func run(
        arguments: [String], environment: [String: String], timeout: Duration, outputLimit: Int = 8192
    ) throws(WireError) -> Outcome {
        let child = try ChildProcess(arguments: arguments, environment: environment)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero {
                timedOut = true
                break
            }
            var descriptor = pollfd(fd: child.output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: Int(left / .milliseconds(1)) + 1))
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { continue }
            let count = read(child.output, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            output = Array((output + buffer[0..<count]).suffix(outputLimit))
        }
        close(child.output)
        let status = child.reap(grace: .milliseconds(500))
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Outcome(status: status, timedOut: timedOut, output: text)
    }
}
