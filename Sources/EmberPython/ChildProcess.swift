#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEmberPosix
import Synchronization

/// A child process started with `posix_spawn` in a process group of its own, its stdout and stderr on
/// one pipe. Foundation's `Process` is not used: its `run` walks `/proc/self/fd` with a known
/// out-of-bounds read, and it cannot put the child in its own group.
///
/// Only the thread that owns it waits for it (``reap(grace:)``), and it remembers once it has reaped,
/// so a pid that may have been reused is never signalled.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The read end of the child's stdout and stderr.
    let output: Int32
    /// The wait status once reaped: the pid is then never signalled again (it may be reused).
    private let reaped = Mutex<Int32?>(nil)

    /// Starts `arguments[0]` (a path, or a name looked up on `PATH`) with `environment`.
    init(arguments: [String], environment: [String: String]) throws(WireError) {
        var pipeFDs: [Int32] = [-1, -1]
        guard cember_pipe_cloexec(&pipeFDs, 0) == 0 else { throw WireError("pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        // Nothing else of the server's (listening sockets, other workers' pipes) reaches the child.
        _ = cember_spawn_addclosefrom(&actions, 3)
        // Its own group, so that stopping it also stops whatever its handler started; default signal
        // dispositions and an empty mask, whatever the server set for itself (it ignores SIGPIPE).
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let status = posix_spawnp(&child, arguments.first ?? "", &actions, &attributes, argv, envp)
        close(pipeFDs[1])
        guard status == 0 else {
            close(pipeFDs[0])
            throw WireError("cannot start \(arguments.first ?? ""): \(String(cString: strerror(status)))")
        }
        pid = child
        output = pipeFDs[0]
    }

    /// The exit status if the child has exited (it is then reaped), without waiting.
    func exitStatus() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
            reaped = status
            return status
        }
    }

    /// Asks the group to terminate, waits up to `grace`, then kills it; always reaps the child.
    /// Returns a description of how it ended.
    func reap(grace: Duration) -> String {
        if let status = exitStatus() {
            // Whatever the handler started may still be running in the group the child led.
            kill(-pid, SIGKILL)
            return Self.describe(status)
        }
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if let status = exitStatus() {
                kill(-pid, SIGKILL)
                return Self.describe(status)
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        reaped.withLock { $0 = status }
        return Self.describe(status)
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exit code \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }
}
