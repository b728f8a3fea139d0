import Foundation
import HWRProto
import Prometheus

/// Serving counters and recent latencies, shared by the worker's threads.
public final class Stats: @unchecked Sendable {
    private let lock = NSLock()
    private let started = Date()
    private var requests: UInt64 = 0, errors: UInt64 = 0, overloaded: UInt64 = 0
    private var byStatus: [Hwr_V1_StatusCode: UInt64] = [:]
    /// The most recent latencies (seconds), a ring of `window` entries.
    private var latencies: [Double] = []
    private var next = 0
    private let window = 10_000

    /// Empty statistics.
    public init() {}

    /// Records one answered request.
    public func record(status: Hwr_V1_StatusCode, seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        if status != .ok { errors += 1 }
        if status == .overloaded { overloaded += 1 }
        byStatus[status, default: 0] += 1
        if latencies.count < window { latencies.append(seconds) } else { latencies[next] = seconds }
        next = (next + 1) % window
    }

    /// Counters and latency percentiles (over the last 10,000 requests).
    public func snapshot() -> Hwr_V1_Stats {
        lock.lock()
        let sorted = latencies.sorted()
        var s = Hwr_V1_Stats()
        s.requests = requests; s.errors = errors; s.overloaded = overloaded
        lock.unlock()
        func q(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] * 1000 }
        s.latencyP50Ms = q(0.5); s.latencyP90Ms = q(0.9); s.latencyP99Ms = q(0.99)
        s.uptimeS = Date().timeIntervalSince(started)
        return s
    }

    /// The statistics in the Prometheus text exposition format (through swift-prometheus):
    /// `hwr_requests_total`, `hwr_replies_total{status}`, `hwr_request_latency_seconds{quantile}`
    /// over the last 10,000 requests, and `hwr_uptime_seconds`.
    public func prometheus() -> String {
        let s = snapshot()
        lock.lock()
        let statuses = byStatus
        lock.unlock()
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: Self.requestsName).increment(by: Int64(s.requests))
        for (status, n) in statuses.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            registry.makeCounter(descriptor: Self.repliesName, labels: [("status", "\(status)")]).increment(by: Int64(n))
        }
        for (quantile, ms) in [("0.5", s.latencyP50Ms), ("0.9", s.latencyP90Ms), ("0.99", s.latencyP99Ms)] {
            registry.makeGauge(descriptor: Self.latencyName, labels: [("quantile", quantile)]).set(ms / 1000)
        }
        registry.makeGauge(descriptor: Self.uptimeName).set(s.uptimeS)
        return registry.emitToString()
    }

    static let requestsName = MetricNameDescriptor(namespace: "hwr", metricName: "requests", unitName: "total", helpText: "Requests answered.")
    static let repliesName = MetricNameDescriptor(namespace: "hwr", metricName: "replies", unitName: "total", helpText: "Replies by status.")
    static let latencyName = MetricNameDescriptor(namespace: "hwr", metricName: "request_latency", unitName: "seconds",
                                                  helpText: "Server-side latency over the last 10000 requests.")
    static let uptimeName = MetricNameDescriptor(namespace: "hwr", metricName: "uptime", unitName: "seconds", helpText: "Seconds since the worker started.")
}
