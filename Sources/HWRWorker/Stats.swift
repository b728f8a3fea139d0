import Foundation
import HWRProto

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

    /// The statistics in the Prometheus text exposition format.
    public func prometheus() -> String {
        let s = snapshot()
        lock.lock()
        let statuses = byStatus
        lock.unlock()
        var out = """
        # HELP hwr_requests_total Requests answered.
        # TYPE hwr_requests_total counter
        hwr_requests_total \(s.requests)
        # HELP hwr_replies_total Replies by status.
        # TYPE hwr_replies_total counter

        """
        for (status, n) in statuses.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out += "hwr_replies_total{status=\"\(status)\"} \(n)\n"
        }
        out += """
        # HELP hwr_request_latency_seconds Server-side latency over the last 10000 requests.
        # TYPE hwr_request_latency_seconds summary
        hwr_request_latency_seconds{quantile="0.5"} \(s.latencyP50Ms / 1000)
        hwr_request_latency_seconds{quantile="0.9"} \(s.latencyP90Ms / 1000)
        hwr_request_latency_seconds{quantile="0.99"} \(s.latencyP99Ms / 1000)
        # HELP hwr_uptime_seconds Seconds since the worker started.
        # TYPE hwr_uptime_seconds gauge
        hwr_uptime_seconds \(s.uptimeS)

        """
        return out
    }
}

/// Serves `Stats.prometheus()` over plain HTTP on 127.0.0.1 (any path), one connection at a time.
final class MetricsServer: @unchecked Sendable {
    private let descriptor: Int32

    /// Listens on 127.0.0.1:port.
    /// - Throws: `ZMQError`-style errors carrying errno when the port cannot be bound.
    init(port: UInt16, stats: Stats) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw POSIXError(.init(rawValue: e) ?? .EIO)
        }
        descriptor = fd
        let thread = Thread { [fd] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { if errno == EINTR { continue } else { return } }
                var buffer = [UInt8](repeating: 0, count: 2048)
                _ = read(client, &buffer, buffer.count)
                let body = Array(stats.prometheus().utf8)
                let head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                let response = Array(head.utf8) + body
                _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }
        thread.name = "hwr-metrics"
        thread.start()
    }

    deinit { close(descriptor) }
}
