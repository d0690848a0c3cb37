import Foundation
import Testing

@testable import EmberPython

/// The per-server socket directory: what a server killed with SIGKILL leaves is removed by the next.
@Suite struct WorkerSocketDirectoryTests {
    /// The pid of a process that ran and was reaped: no process has it now (pids are not reused
    /// within the few milliseconds the test takes).
    private func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// A Unix socket bound at `path` and left behind, as a killed server leaves its workers'.
    private func leaveSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
    }

    @Test func theNextServerRemovesWhatADeadServerLeftAndKeepsLiveOnes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-sockdir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dead = try deadPID()
        let live = getpid()
        let deadDirectory = (root as NSString).appendingPathComponent(WorkerSocketDirectory.directoryName(pid: dead))
        let liveDirectory = (root as NSString).appendingPathComponent(WorkerSocketDirectory.directoryName(pid: live))
        for directory in [deadDirectory, liveDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try leaveSocket(at: (directory as NSString).appendingPathComponent("w9000.sock"))
        }
        let legacy = (root as NSString).appendingPathComponent(".ember.\(dead).sock.9001")
        try leaveSocket(at: legacy)
        let unrelated = (root as NSString).appendingPathComponent("ember-notapid.sockets")
        try FileManager.default.createDirectory(atPath: unrelated, withIntermediateDirectories: false)

        // A new server (pid `dead + 1` stands for it; the live directory is another running server's).
        let newPID = try deadPID()
        let made = try WorkerSocketDirectory.prepare(root: root, pid: newPID).get()

        let left = Set(try FileManager.default.contentsOfDirectory(atPath: root))
        #expect(!left.contains(WorkerSocketDirectory.directoryName(pid: dead)))
        #expect(!left.contains(".ember.\(dead).sock.9001"))
        #expect(left.contains(WorkerSocketDirectory.directoryName(pid: live)), "a running server's sockets stay")
        #expect(FileManager.default.fileExists(atPath: (liveDirectory as NSString).appendingPathComponent("w9000.sock")))
        #expect(left.contains("ember-notapid.sockets"))
        #expect(made == (root as NSString).appendingPathComponent(WorkerSocketDirectory.directoryName(pid: newPID)))
        let attributes = try FileManager.default.attributesOfItem(atPath: made)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func aPathThatIsNotADirectoryIsRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-sockdir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pid = getpid()
        let path = (root as NSString).appendingPathComponent(WorkerSocketDirectory.directoryName(pid: pid))
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/")
        #expect(throws: WireError.self) { try WorkerSocketDirectory.prepare(root: root, pid: pid).get() }
    }

    @Test func theServersOwnWorkersUseItsDirectory() throws {
        let path = try WorkerSocketDirectory.socketPath(worker: 9123).get()
        #expect(path.hasSuffix("/ember-\(getpid()).sockets/sock.9123"))
        #expect(path.utf8.count < 108, "fits sun_path")
    }
}
