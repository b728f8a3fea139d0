import FoundationEssentials
import Glibc

/// The encoded formats hwr decodes, recognised by their first bytes.
enum EncodedFormat {
    case png, jpeg, pgm

    /// The format whose signature `bytes` starts with, or nil (also when too few bytes are given to
    /// tell: PNG needs 4).
    init?(signature bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8]) {
            self = .jpeg
        } else if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "2") {
            self = .pgm
        } else {
            return nil
        }
    }
}

/// Reading image files of every kind a path can name, bounded in size and time.
public enum ImageFile {
    /// How long a pipe or device may stay silent before the read gives up, in milliseconds.
    public static let streamTimeoutMilliseconds: Int32 = 10_000

    /// The bytes of the file at `path`: a regular file, or anything else that can be read (a
    /// character or block device, a named pipe) read as a stream until its end. `/dev/null` is
    /// empty; a stream that does not start like a PNG, JPEG or PGM (`/dev/zero`, `/dev/urandom`)
    /// is refused after its first bytes; nothing larger than `ImageLimits.maximumFileBytes` is read.
    /// - Throws: `ImageError.unreadable` (missing, a directory, no permission, a pipe silent for
    ///   `streamTimeoutMilliseconds`), `.tooLarge` (over the size limit), `.decodeFailed` (a stream
    ///   of another format).
    public static func bytes(atPath path: String) throws -> Data {
        // O_NONBLOCK: opening a pipe with no writer must not block; reads wait in poll() instead.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw ImageError.unreadable("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImageError.unreadable("\(path): \(String(cString: strerror(errno)))") }
        let limit = ImageLimits.maximumFileBytes
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            throw ImageError.unreadable("\(path): is a directory")
        case S_IFREG where Int(info.st_size) > limit:
            throw ImageError.tooLarge("\(path): \(info.st_size) bytes, more than the limit of \(limit)")
        default:
            break
        }
        let isStream = info.st_mode & S_IFMT != S_IFREG
        var bytes: [UInt8] = []
        bytes.reserveCapacity(isStream ? 1 << 16 : Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var checked = false
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                guard errno == EAGAIN || errno == EWOULDBLOCK else {
                    throw ImageError.unreadable("\(path): \(String(cString: strerror(errno)))")
                }
                var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&waiting, 1, streamTimeoutMilliseconds) > 0 else {
                    throw ImageError.unreadable("\(path): no data for \(streamTimeoutMilliseconds / 1000) s")
                }
                continue
            }
            bytes += chunk[0..<n]
            guard bytes.count <= limit else {
                throw ImageError.tooLarge("\(path): more than the limit of \(limit) bytes")
            }
            if isStream, !checked, bytes.count >= 4 {
                guard EncodedFormat(signature: bytes) != nil else {
                    throw ImageError.decodeFailed("\(path): unknown format (expected PNG, JPEG or PGM)")
                }
                checked = true
            }
        }
        return Data(bytes)
    }
}
