import Core
import Foundation
import Search

/// Request counters and a latency histogram per route, in Prometheus text format.
///
/// ```swift
/// let metrics = Metrics()
/// metrics.record(route: "/healthz", method: "GET", status: 200, seconds: 0.002)
/// print(metrics.render(gauges: []))
/// ```
public final class Metrics: Sendable {
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct Key: Hashable { var route: String; var method: String; var status: Int }
    private struct Histogram { var counts = [Int](repeating: 0, count: Metrics.buckets.count); var sum = 0.0; var count = 0 }

    private struct State {
        var requests: [Key: Int] = [:]
        var latency: [String: Histogram] = [:]
    }
    private let state = Mutex(State())
    public let started = Date()

    public init() {}

    /// Methods counted under their own name; any other token a client sends is counted as `OTHER`
    /// (a label per distinct method would let a client grow the metrics without bound).
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    public func record(route: String, method: String, status: Int, seconds: Double) {
        let method = Self.knownMethods.contains(method) ? method : "OTHER"
        state.withLock { s in
            s.requests[Key(route: route, method: method, status: status), default: 0] += 1
            var h = s.latency[route] ?? Histogram()
            for (i, b) in Metrics.buckets.enumerated() where seconds <= b { h.counts[i] += 1 }
            h.sum += seconds
            h.count += 1
            s.latency[route] = h
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// The exposition text; `gauges` adds `name{labels} value` lines (rows per table etc.).
    public func render(gauges: [(name: String, help: String, samples: [(labels: String, value: Double)])],
                       counters: [(name: String, help: String, value: Double)] = []) -> String {
        let (requests, latency) = state.withLock { ($0.requests, $0.latency) }
        var out = "# HELP swejepa_http_requests_total HTTP requests by route, method and status.\n"
        out += "# TYPE swejepa_http_requests_total counter\n"
        for (k, v) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "swejepa_http_requests_total{route=\"\(Self.escape(k.route))\",method=\"\(k.method)\",status=\"\(k.status)\"} \(v)\n"
        }
        out += "# HELP swejepa_http_request_duration_seconds Request latency by route.\n"
        out += "# TYPE swejepa_http_request_duration_seconds histogram\n"
        for (route, h) in latency.sorted(by: { $0.key < $1.key }) {
            let r = Self.escape(route)
            for (i, b) in Metrics.buckets.enumerated() {
                out += "swejepa_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"\(b)\"} \(h.counts[i])\n"
            }
            out += "swejepa_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"+Inf\"} \(h.count)\n"
            out += "swejepa_http_request_duration_seconds_sum{route=\"\(r)\"} \(h.sum)\n"
            out += "swejepa_http_request_duration_seconds_count{route=\"\(r)\"} \(h.count)\n"
        }
        out += "# HELP swejepa_uptime_seconds Seconds since the server started.\n# TYPE swejepa_uptime_seconds gauge\n"
        out += "swejepa_uptime_seconds \(Date().timeIntervalSince(started))\n"
        let pools = [ThreadPool.compute, SearchExecutor.shared.pool]
        out += "# HELP swejepa_pool_busy_threads Jobs running now on each thread pool.\n# TYPE swejepa_pool_busy_threads gauge\n"
        for p in pools { out += "swejepa_pool_busy_threads{pool=\"\(Self.escape(p.name))\"} \(p.busy)\n" }
        out += "# HELP swejepa_pool_queued_jobs Jobs waiting for a thread on each thread pool.\n# TYPE swejepa_pool_queued_jobs gauge\n"
        for p in pools { out += "swejepa_pool_queued_jobs{pool=\"\(Self.escape(p.name))\"} \(p.queued)\n" }
        for g in gauges {
            out += "# HELP \(g.name) \(g.help)\n# TYPE \(g.name) gauge\n"
            for s in g.samples { out += "\(g.name)\(s.labels.isEmpty ? "" : "{\(s.labels)}") \(s.value)\n" }
        }
        for c in counters { out += "# HELP \(c.name) \(c.help)\n# TYPE \(c.name) counter\n\(c.name) \(c.value)\n" }
        return out
    }
}
