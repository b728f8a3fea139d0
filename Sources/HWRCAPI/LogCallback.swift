import CHwr
import Logging

/// A swift-log handler that hands the engine's diagnostics to a C host's hwr_log_callback, as
/// "message key=value ...".
struct CallbackLogHandler: LogHandler {
    /// The C function and its user pointer (the host guarantees the pointer's lifetime).
    struct Sink: @unchecked Sendable {
        let callback: hwr_log_callback
        let user: UnsafeMutableRawPointer?
    }

    /// HWR_LOG_* levels as swift-log levels, one to one.
    static let levels: [Int32: Logger.Level] = [HWR_LOG_DEBUG: .debug, HWR_LOG_INFO: .info, HWR_LOG_WARNING: .warning, HWR_LOG_ERROR: .error]

    let sink: Sink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = ([event.message.description] + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        let code: Int32
        switch event.level {
        case .trace, .debug: code = HWR_LOG_DEBUG
        case .info, .notice: code = HWR_LOG_INFO
        case .warning: code = HWR_LOG_WARNING
        case .error, .critical: code = HWR_LOG_ERROR
        }
        text.withCString { sink.callback(code, $0, sink.user) }
    }
}
