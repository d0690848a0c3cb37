#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where this server's worker sockets live: one directory per server process,
/// `<tmp>/ember-<pid>.sockets/` (mode 0700), each worker's socket `sock.<id>` in it.
///
/// A server killed with SIGKILL cannot unlink its sockets; its directory is left behind, named after
/// a pid that no longer runs. The first Python backend of the next server removes every such
/// directory of this user (and the single `.ember.<pid>.sock.<id>` files older versions left in the
/// temporary directory itself). An abstract-namespace socket would leave nothing, but
/// `ts.model_service_worker` takes the socket name from its command line, which cannot carry the
/// leading NUL byte, and calls `os.remove` on it before binding.
enum WorkerSocketDirectory {
    static let prefix = "ember-"
    static let suffix = ".sockets"

    /// This process's directory, made (and the stale ones removed) on first use.
    static let current: Result<String, WireError> = prepare(root: NSTemporaryDirectory(), pid: getpid())

    /// The socket path of worker `id`, or why there is none.
    static func socketPath(worker id: Int) -> Result<String, WireError> {
        // `ts.model_service_worker` wants a name ending in `.<number>` (it adds its local rank to it).
        current.map { ($0 as NSString).appendingPathComponent("sock.\(id)") }
    }

    static func directoryName(pid: Int32) -> String { "\(prefix)\(pid)\(suffix)" }

    /// Removes stale directories under `root`, then makes (or takes over) the one for `pid`.
    static func prepare(root: String, pid: Int32) -> Result<String, WireError> {
        removeStale(in: root, except: pid)
        let path = (root as NSString).appendingPathComponent(directoryName(pid: pid))
        if mkdir(path, 0o700) != 0 {
            guard errno == EEXIST else { return .failure(WireError("mkdir \(path): \(String(cString: strerror(errno)))")) }
            // Left by an earlier process with our pid (pids are reused), or made by this one: use it
            // only if it is a real directory of ours that nobody else can write.
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else {
                return .failure(WireError("\(path) exists and is not this user's directory"))
            }
            chmod(path, 0o700)
        }
        return .success(path)
    }

    /// Deletes this user's socket directories (and legacy socket files) under `root` whose pid no
    /// longer runs. Returns the paths removed.
    @discardableResult
    static func removeStale(in root: String, except current: Int32) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var removed: [String] = []
        for entry in entries {
            guard let pid = ownerPID(of: entry), pid != current, !isRunning(pid) else { continue }
            let path = (root as NSString).appendingPathComponent(entry)
            var info = stat()
            guard lstat(path, &info) == 0, info.st_uid == getuid() else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                guard (try? FileManager.default.removeItem(atPath: path)) != nil else { continue }
            } else {
                guard unlink(path) == 0 else { continue }
            }
            removed.append(path)
        }
        return removed
    }

    /// The server pid an entry's name carries: `ember-<pid>.sockets` or the legacy `.ember.<pid>.sock.<id>`.
    static func ownerPID(of entry: String) -> Int32? {
        if entry.hasPrefix(prefix), entry.hasSuffix(suffix) {
            return Int32(entry.dropFirst(prefix.count).dropLast(suffix.count))
        }
        let legacy = entry.split(separator: ".", omittingEmptySubsequences: false)
        if legacy.count == 5, legacy[0].isEmpty, legacy[1] == "ember", legacy[3] == "sock", Int(legacy[4]) != nil {
            return Int32(legacy[2])
        }
        return nil
    }

    /// Whether a process with this pid exists (EPERM: it does, another user's).
    static func isRunning(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
