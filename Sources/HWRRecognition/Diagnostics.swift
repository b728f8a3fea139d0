import Logging
import Synchronization

/// Where the engine's diagnostic messages go (never results or errors of a call: those are thrown).
/// Off by default, so a library host sees nothing on stdout or stderr; the hwr command routes them
/// to swift-log's bootstrapped handler, and a C host to its `hwr_set_log_callback`.
public enum Diagnostics {
    private static let current = Mutex(Logger(label: "hwr", factory: { _ in SwiftLogNoOpLogHandler() }))

    /// The logger engine code writes to.
    public static var logger: Logger { current.withLock { $0 } }

    /// Sends every later message to `logger` (for example `Logger(label: "hwr")` for swift-log's
    /// bootstrapped handler).
    public static func route(to logger: Logger) { current.withLock { $0 = logger } }
}
