import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Request ids: random (version 4) UUIDs in lowercase, as TorchServe's. The randomness comes from the
/// system's generator (`arc4random_buf`, that is `getrandom`) 4 KiB at a time: Foundation's `UUID()` opens `/dev/urandom` on
/// every call, and two `getrandom` calls per request showed in the per-request profile.
public enum RequestID {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let pool = Mutex(RandomPool())

    private struct RandomPool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        var next = 512

        mutating func take() -> (UInt64, UInt64) {
            if next + 2 > words.count {
                // One getrandom call for 256 ids (glibc's arc4random_buf).
                words.withUnsafeMutableBytes { bytes in
                    if let base = bytes.baseAddress { arc4random_buf(base, bytes.count) }
                }
                next = 0
            }
            defer { next += 2 }
            return (words[next], words[next + 1])
        }
    }

    public static func next() -> String {
        var (high, low) = pool.withLock { $0.take() }
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC000 << 48)) | (0x8000 << 48)  // RFC 4122 variant
        var bytes = [UInt8]()
        bytes.reserveCapacity(36)
        for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if index == 8 || index == 12 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(hexDigits[Int((high >> UInt64(shift)) & 0xF)])
        }
        for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if index == 0 || index == 4 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(hexDigits[Int((low >> UInt64(shift)) & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
