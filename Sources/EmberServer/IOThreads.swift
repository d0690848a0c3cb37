import NIOPosix
import Synchronization

/// The I/O threads every listener's connections are served on (`number_of_netty_threads`).
///
/// 0 is NIO's shared group, one thread per core, as TorchServe's 0 is Netty's default. A count of
/// threads is one group for the life of the process, like NIO's own: servers started again in the
/// same process (the tests) reuse it instead of leaving threads behind.
enum IOThreads {
    private static let groups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    static func group(threads: Int) -> MultiThreadedEventLoopGroup {
        guard threads > 0 else { return .singleton }
        return groups.withLock { groups in
            if let group = groups[threads] { return group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            groups[threads] = group
            return group
        }
    }
}
