import Foundation

/// A one-line progress bar on stderr (or, when quiet, nothing until the epoch summary).
public final class ProgressBar {
    /// Whether to suppress the live bar.
    public let quiet: Bool
    private var lastDraw = Date.distantPast

    /// Creates a bar.
    public init(quiet: Bool) { self.quiet = quiet }

    /// Redraws the bar (at most four times a second).
    public func update(epoch: Int, done: Int, total: Int, loss: Double, accuracy: Double, imagesPerSecond: Double) {
        guard !quiet, Date().timeIntervalSince(lastDraw) > 0.25 || done == total else { return }
        lastDraw = Date()
        let width = 30, filled = total == 0 ? 0 : width * done / total
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "\repoch %2d [%@] %3d%%  loss %.4f  acc %.2f%%  %.0f img/s ", epoch, bar,
                          total == 0 ? 0 : 100 * done / total, loss, accuracy * 100, imagesPerSecond)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    /// Ends the bar line and prints a summary line (always, also when quiet).
    public func log(_ message: String) {
        let prefix = quiet ? "" : "\r\u{1B}[K"
        FileHandle.standardError.write((prefix + message + "\n").data(using: .utf8)!)
    }
}
