#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import HTTPTypes

/// The `Date` field (RFC 9110's IMF-fixdate), made at most once a second per connection.
struct HTTPDateCache {
    private var second = time_t(-1)
    private var field = HTTPField(name: .date, value: "")

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    mutating func current() -> HTTPField {
        let now = time(nil)
        if now != second {
            second = now
            field = HTTPField(name: .date, value: Self.format(now))
        }
        return field
    }

    static func format(_ seconds: time_t) -> String {
        var clock = seconds
        var parts = tm()
        guard gmtime_r(&clock, &parts) != nil else { return "" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = days[Int(parts.tm_wday) % 7]
        let month = months[Int(parts.tm_mon) % 12]
        return "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
