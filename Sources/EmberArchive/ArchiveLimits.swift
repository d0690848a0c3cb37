/// Bounds applied while extracting an archive, so that a hostile archive cannot fill the disk.
public struct ArchiveLimits: Sendable, Equatable {
    /// The most bytes all entries together may expand to. Counted while writing, not trusted from headers.
    public var maxUncompressedBytes: UInt64
    /// The most entries (files, directories, links) an archive may hold.
    public var maxEntryCount: Int

    public init(maxUncompressedBytes: UInt64, maxEntryCount: Int) {
        self.maxUncompressedBytes = maxUncompressedBytes
        self.maxEntryCount = maxEntryCount
    }

    /// 64 GiB and 100 000 entries: large language models are big, but not bigger than this.
    public static let `default` = ArchiveLimits(maxUncompressedBytes: 64 << 30, maxEntryCount: 100_000)
}
