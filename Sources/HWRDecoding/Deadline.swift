import Dispatch

/// A point on the monotonic clock after which a request's work stops. Decoders check it at every
/// step; the request path checks it between images, lines and pages.
public struct Deadline: Sendable, Equatable {
    /// Monotonic time of the deadline, in nanoseconds (`UInt64.max`: never).
    let uptimeNanoseconds: UInt64
    /// The time the request was given, in milliseconds (for the message).
    public let milliseconds: Int

    /// No deadline.
    public static let never = Deadline(uptimeNanoseconds: .max, milliseconds: 0)

    private init(uptimeNanoseconds: UInt64, milliseconds: Int) {
        self.uptimeNanoseconds = uptimeNanoseconds
        self.milliseconds = milliseconds
    }

    /// The deadline `milliseconds` from now; 0 or less is `never` (ranges are the request's to
    /// check: `RecognitionLimits.deadlineMilliseconds`).
    public init(milliseconds: Int) {
        guard milliseconds > 0 else { self = .never; return }
        let now = DispatchTime.now().uptimeNanoseconds
        let (span, overflow) = UInt64(milliseconds).multipliedReportingOverflow(by: 1_000_000)
        let (end, late) = now.addingReportingOverflow(span)
        self.init(uptimeNanoseconds: overflow || late ? .max : end, milliseconds: milliseconds)
    }

    /// Whether the deadline has passed.
    public var hasPassed: Bool {
        uptimeNanoseconds != .max && DispatchTime.now().uptimeNanoseconds >= uptimeNanoseconds
    }

    /// - Throws: `DeadlineExceeded` once the deadline has passed.
    public func check() throws {
        if hasPassed { throw DeadlineExceeded(milliseconds: milliseconds) }
    }
}

/// A request's deadline passed before its work was done.
public struct DeadlineExceeded: Error, Equatable, CustomStringConvertible {
    /// The time the request was given, in milliseconds.
    public let milliseconds: Int
    /// The error of a deadline of `milliseconds`.
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    /// A readable message.
    public var description: String { "the request's deadline of \(milliseconds) ms passed before it was done" }
}
