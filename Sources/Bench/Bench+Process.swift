import Foundation

/// What the bench sections report about this process and the machine, read from /proc.
enum BenchProcess {
    /// VmRSS and VmHWM (peak) of this process in MiB, from /proc/self/status (0 where unreadable).
    ///
    /// ```swift
    /// let before = BenchProcess.memory().rss
    /// ```
    static func memory() -> (rss: Double, hwm: Double) {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double {
            for line in s.split(separator: "\n") where line.hasPrefix(name) {
                let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
                return (kb ?? 0) / 1024
            }
            return 0
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    /// The load average over the last minute, as /proc/loadavg shows it ("?" where unreadable).
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
    }
}
