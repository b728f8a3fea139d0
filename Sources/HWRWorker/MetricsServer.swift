import FlyingFox
import FlyingSocks
import Foundation
import Logging

/// Serves `Stats.prometheus()` at `http://127.0.0.1:PORT/metrics` through FlyingFox, which handles
/// connections concurrently: a client that connects and sends nothing delays no one else.
final class MetricsServer: @unchecked Sendable {
    private let server: HTTPServer
    private let task: Task<Void, any Error>

    /// Listens on 127.0.0.1:port and returns once listening.
    /// - Throws: the socket error when the port cannot be bound.
    init(port: UInt16, stats: Stats, logger: Logger) throws {
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: port), timeout: 5, logger: HTTPLog(logger: logger),
                                handler: ClosureHTTPHandler { request in
                                    guard request.path == "/metrics" else { return HTTPResponse(statusCode: .notFound) }
                                    return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                                                        body: Data(stats.prometheus().utf8))
                                })
        let started = Outcome()
        task = Task {
            do { try await server.run() } catch { started.set(error); throw error }
        }
        Task {
            do { try await server.waitUntilListening(timeout: 10); started.set(nil) } catch { started.set(error) }
        }
        if let error = started.wait() { task.cancel(); throw error }
        self.server = server
    }

    /// Closes the listening socket and every connection.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        Task { [server] in await server.stop(); done.signal() }
        done.wait()
        task.cancel()
    }

    /// The first outcome of starting: nil once listening, or the error.
    private final class Outcome: @unchecked Sendable {
        private let condition = NSCondition()
        private var outcome: (any Error)??

        func set(_ error: (any Error)?) {
            condition.lock(); if outcome == nil { outcome = .some(error) }; condition.broadcast(); condition.unlock()
        }

        func wait() -> (any Error)? {
            condition.lock(); defer { condition.unlock() }
            while outcome == nil { condition.wait() }
            return outcome!
        }
    }
}

/// FlyingFox's diagnostics, into the worker's logger (connections at trace level).
struct HTTPLog: FlyingSocks.Logging {
    let logger: Logger
    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("metrics: \(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.trace("metrics: \(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("metrics: \(warning())") }
    func logError(_ error: @autoclosure () -> String) { logger.debug("metrics: \(error())") }
    func logCritical(_ critical: @autoclosure () -> String) { logger.error("metrics: \(critical())") }
}
