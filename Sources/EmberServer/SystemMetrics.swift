import EmberCore
import Foundation

/// TorchServe's host gauges, read from /proc when `/metrics` is scraped.
enum SystemMetrics {
    static func record(into metrics: ServerMetrics) {
        let labels = ["Host", metrics.hostname]
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":")
            guard parts.count == 2, let kilobytes = Double(parts[1].split(separator: " ").first ?? "") else { continue }
            values[String(parts[0])] = kilobytes / 1024
        }
        metrics.registry.set(ServerMetrics.cpuUtilization, labels: labels, to: CPUSampler.shared.utilization())
        // TorchServe's collector reports the root file system (psutil.disk_usage("/")).
        var disk = statvfs()
        if statvfs("/", &disk) == 0, disk.f_blocks > 0 {
            let unit = Double(disk.f_frsize) / 1e9
            let total = Double(disk.f_blocks) * unit
            let free = Double(disk.f_bavail) * unit
            let used = Double(disk.f_blocks > disk.f_bfree ? disk.f_blocks - disk.f_bfree : 0) * unit
            metrics.registry.set(ServerMetrics.diskUsage, labels: labels, to: used)
            metrics.registry.set(ServerMetrics.diskAvailable, labels: labels, to: free)
            metrics.registry.set(ServerMetrics.diskUtilization, labels: labels, to: used / Swift.max(total, 1e-9) * 100)
        }
        guard let total = values["MemTotal"], let available = values["MemAvailable"], total > 0 else { return }
        metrics.registry.set(ServerMetrics.memoryAvailable, labels: labels, to: available)
        metrics.registry.set(ServerMetrics.memoryUsed, labels: labels, to: total - available)
        metrics.registry.set(ServerMetrics.memoryUtilization, labels: labels, to: (total - available) / total * 100)
    }
}
