import CZMQ
import Foundation

/// A ZeroMQ error: the call that failed and zmq_strerror of errno.
public struct ZMQError: Error, CustomStringConvertible {
    /// What was being done.
    public let operation: String
    /// errno after the failing call.
    public let code: Int32
    /// A readable message.
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }

    /// Captures errno after a failed zmq call.
    init(_ operation: String) { self.operation = operation; code = zmq_errno() }
}

/// Turns a zmq return code into a thrown error.
@discardableResult
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    guard rc >= 0 else { throw ZMQError(operation()) }
    return rc
}

/// A ZeroMQ context (thread-safe).
public final class Context: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    /// Creates a context.
    public init() { raw = zmq_ctx_new() }

    /// Terminates the context (blocks until every socket is closed).
    deinit { zmq_ctx_term(raw) }
}

/// A ZeroMQ socket. Not thread-safe: use it from one thread at a time.
public final class Socket {
    let raw: UnsafeMutableRawPointer
    /// Kept alive as long as the socket.
    let context: Context

    /// Creates a socket of a ZMQ_* type.
    /// - Throws: `ZMQError`.
    public init(_ context: Context, type: Int32) throws {
        guard let s = zmq_socket(context.raw, type) else { throw ZMQError("zmq_socket") }
        raw = s
        self.context = context
        try setOption(ZMQ_LINGER, Int32(0))
    }

    deinit { zmq_close(raw) }

    /// Sets an integer option.
    public func setOption(_ option: Int32, _ value: Int32) throws {
        var v = value
        try check(zmq_setsockopt(raw, option, &v, MemoryLayout<Int32>.size), "zmq_setsockopt \(option)")
    }

    /// Sets a 64-bit integer option.
    public func setOption(_ option: Int32, _ value: Int64) throws {
        var v = value
        try check(zmq_setsockopt(raw, option, &v, MemoryLayout<Int64>.size), "zmq_setsockopt \(option)")
    }

    /// Sets a bytes option (keys, identities).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws {
        _ = try bytes.withUnsafeBytes { try check(zmq_setsockopt(raw, option, $0.baseAddress, $0.count), "zmq_setsockopt \(option)") }
    }

    /// Binds to an endpoint.
    public func bind(_ endpoint: String) throws { try check(zmq_bind(raw, endpoint), "bind \(endpoint)") }

    /// Connects to an endpoint.
    public func connect(_ endpoint: String) throws { try check(zmq_connect(raw, endpoint), "connect \(endpoint)") }

    /// Receives one multipart message; nil when interrupted (EINTR) or when nothing is waiting and
    /// `dontWait` is set.
    /// - Throws: `ZMQError` on other failures.
    public func receive(dontWait: Bool = false) throws -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        return try receive(dontWait: dontWait) { bytes, _ in frames.append(Array(bytes)) } ? frames : nil
    }

    /// Receives one multipart message frame by frame without copying it: `visit` gets each frame's
    /// bytes (valid only during the call) and whether more frames follow. False when interrupted
    /// (EINTR) or when nothing is waiting and `dontWait` is set.
    /// - Throws: `ZMQError` on other failures.
    public func receive(dontWait: Bool, _ visit: (UnsafeRawBufferPointer, _ more: Bool) -> Void) throws -> Bool {
        var first = true
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            if zmq_msg_recv(&message, raw, dontWait && first ? ZMQ_DONTWAIT : 0) < 0 {
                let e = zmq_errno()
                if first && (e == EINTR || e == EAGAIN) { return false }
                throw ZMQError("zmq_msg_recv")
            }
            first = false
            let more = zmq_msg_more(&message) != 0
            visit(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: zmq_msg_size(&message)), more)
            if !more { return true }
        }
    }

    /// Waits until a message can be received, at most `milliseconds`; true when one can.
    public func waitForInput(milliseconds: Int) -> Bool {
        var item = zmq_pollitem_t(socket: raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        return zmq_poll(&item, 1, milliseconds) == 1
    }

    /// Sends a multipart message.
    /// - Throws: `ZMQError` (for example EHOSTUNREACH when a ROUTER peer has gone).
    public func send(_ frames: [[UInt8]]) throws {
        for (i, frame) in frames.enumerated() {
            let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            _ = try frame.withUnsafeBytes { try check(zmq_send(raw, $0.baseAddress, $0.count, flags), "zmq_send") }
        }
    }
}

/// CURVE key pairs, Z85-encoded (40 characters each).
public enum Curve {
    /// A new key pair.
    /// - Throws: `ZMQError` when libzmq was built without CURVE.
    public static func keyPair() throws -> (publicKey: String, secretKey: String) {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_keypair(&publicKey, &secretKey), "zmq_curve_keypair")
        return (String(cString: publicKey), String(cString: secretKey))
    }

    /// Writes a new key pair: the secret key to `path`, created with mode 0600 before a byte is
    /// written (never readable by others, not even for a moment), and the public key to `path.pub`.
    /// - Returns: the key pair.
    /// - Throws: `ZMQError` without CURVE; `WorkerConfigError` when `path` exists or cannot be written.
    public static func writeKeyPair(to path: String) throws -> (publicKey: String, secretKey: String) {
        let pair = try keyPair()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw WorkerConfigError("cannot create \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array((pair.secretKey + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw WorkerConfigError("cannot write \(path)") }
        try (pair.publicKey + "\n").write(toFile: path + ".pub", atomically: true, encoding: .utf8)
        return pair
    }

    /// The public key of a secret key.
    public static func publicKey(ofSecret secret: String) throws -> String {
        var publicKey = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_public(&publicKey, secret), "zmq_curve_public")
        return String(cString: publicKey)
    }

    /// Decodes a Z85 key to its 32 bytes, or nil if malformed.
    public static func decode(_ z85: String) -> [UInt8]? {
        guard z85.utf8.count == 40 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&out, z85) == nil ? nil : out
    }
}
