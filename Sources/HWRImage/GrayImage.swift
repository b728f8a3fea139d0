import CImageCodecs
import FoundationEssentials
import Glibc

/// An 8-bit grey image with optional alpha, row-major, no padding.
public struct GrayImage: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Luminance, `width * height` bytes.
    public var pixels: [UInt8]
    /// Opacity, `width * height` bytes, or nil when the image is opaque.
    public var alpha: [UInt8]?

    /// Wraps pixels.
    /// - Throws: `ImageError` if the sizes are inconsistent, zero, or over the limits.
    public init(width: Int, height: Int, pixels: [UInt8], alpha: [UInt8]? = nil) throws {
        try Self.checkSize(width: width, height: height)
        guard pixels.count == width * height, alpha.map({ $0.count == pixels.count }) ?? true else {
            throw ImageError.invalidArgument("\(pixels.count) pixels for \(width)x\(height)")
        }
        self.width = width; self.height = height; self.pixels = pixels
        self.alpha = alpha.flatMap { a in a.allSatisfy { $0 == 255 } ? nil : a }
    }

    /// The image shrunk by area averaging so that it is at most `maximumWidth` x `maximumHeight`,
    /// keeping its aspect ratio (alpha is averaged too, and the colour weighted by it), but never under
    /// `ImageLimits.minimumSide` on its short side; itself when it already fits. Preprocessing works at the resolution the models need, not the camera's.
    public func fitted(maximumWidth: Int, maximumHeight: Int) -> GrayImage {
        // Never below `ImageLimits.minimumSide` on the short side (a long strip stays readable).
        let scale = min(max(Double(width) / Double(maximumWidth), Double(height) / Double(maximumHeight)),
                        Double(min(width, height)) / Double(ImageLimits.minimumSide))
        guard scale > 1 else { return self }
        let ow = max(1, Int((Double(width) / scale).rounded())), oh = max(1, Int((Double(height) / scale).rounded()))
        var grey = [UInt8](repeating: 0, count: ow * oh), opacity = alpha.map { _ in [UInt8](repeating: 0, count: ow * oh) }
        for oy in 0..<oh {
            let y0 = oy * height / oh, y1 = max(y0 + 1, (oy + 1) * height / oh)
            for ox in 0..<ow {
                let x0 = ox * width / ow, x1 = max(x0 + 1, (ox + 1) * width / ow)
                var sum = 0, weight = 0, alphaSum = 0
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let a = alpha.map { Int($0[y * width + x]) } ?? 255
                        sum += Int(pixels[y * width + x]) * a; weight += a; alphaSum += a
                    }
                }
                let count = (y1 - y0) * (x1 - x0)
                grey[oy * ow + ox] = UInt8(weight > 0 ? (sum + weight / 2) / weight : 0)
                opacity?[oy * ow + ox] = UInt8((alphaSum + count / 2) / count)
            }
        }
        // Fewer pixels than `self`, so the size checks hold.
        return (try? GrayImage(width: ow, height: oh, pixels: grey, alpha: opacity)) ?? self
    }

    /// Validates dimensions against `ImageLimits` and a pixel limit.
    /// - Parameter maximumPixels: at most `ImageLimits.maximumPixels` (an engine may lower it).
    /// - Throws: `ImageError.empty` for a zero side, `.tooLarge` past a limit.
    public static func checkSize(width: Int, height: Int, maximumPixels: Int = ImageLimits.maximumPixels) throws {
        guard width >= 0, height >= 0 else { throw ImageError.invalidArgument("negative size \(width)x\(height)") }
        guard width > 0, height > 0 else { throw ImageError.empty("\(width)x\(height) pixels") }
        let limit = min(maximumPixels, ImageLimits.maximumPixels)
        guard width <= ImageLimits.maximumSide, height <= ImageLimits.maximumSide,
              width.multipliedReportingOverflow(by: height).partialValue <= limit,
              !width.multipliedReportingOverflow(by: height).overflow else {
            throw ImageError.tooLarge("\(width)x\(height) exceeds the limit of \(limit) pixels " +
                                      "and \(ImageLimits.maximumSide) per side")
        }
    }

    /// Copies a raw 8-bit grey buffer.
    /// - Parameters:
    ///   - data: at least `stride * (height - 1) + width` bytes
    ///   - stride: bytes from one row to the next (>= width)
    /// - Throws: `ImageError.invalidArgument` if the buffer is too small or the stride too short.
    ///   - maximumPixels: the pixel limit (`ImageLimits.maximumPixels` or lower)
    public init(gray8 data: UnsafeRawBufferPointer, width: Int, height: Int, stride: Int,
                maximumPixels: Int = ImageLimits.maximumPixels) throws {
        try Self.checkSize(width: width, height: height, maximumPixels: maximumPixels)
        guard stride >= width, data.count >= stride * (height - 1) + width else {
            throw ImageError.invalidArgument("buffer of \(data.count) bytes, stride \(stride) too small for \(width)x\(height)")
        }
        var pixels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { pixels[y * width + x] = data[y * stride + x] } }
        try self.init(width: width, height: height, pixels: pixels)
    }

    /// Converts a raw RGBA buffer (8 bits per channel) to luminance and alpha.
    /// - Parameters:
    ///   - stride: bytes from one row to the next (>= 4 * width)
    ///   - maximumPixels: the pixel limit (`ImageLimits.maximumPixels` or lower)
    /// - Throws: `ImageError.invalidArgument` if the buffer is too small or the stride too short.
    public init(rgba8 data: UnsafeRawBufferPointer, width: Int, height: Int, stride: Int,
                maximumPixels: Int = ImageLimits.maximumPixels) throws {
        try Self.checkSize(width: width, height: height, maximumPixels: maximumPixels)
        guard stride >= 4 * width, data.count >= stride * (height - 1) + 4 * width else {
            throw ImageError.invalidArgument("buffer of \(data.count) bytes, stride \(stride) too small for \(width)x\(height) RGBA")
        }
        var pixels = [UInt8](repeating: 0, count: width * height)
        var alpha = pixels
        for y in 0..<height {
            for x in 0..<width {
                let o = y * stride + 4 * x
                let l = (299 * Int(data[o]) + 587 * Int(data[o + 1]) + 114 * Int(data[o + 2]) + 500) / 1000
                pixels[y * width + x] = UInt8(l)
                alpha[y * width + x] = data[o + 3]
            }
        }
        try self.init(width: width, height: height, pixels: pixels, alpha: alpha)
    }

    /// Decodes PNG, JPEG or PGM (P2/P5) bytes, recognised by their signature. PNG and JPEG images
    /// over `maximumPixels` are decoded at a reduced scale that fits (PNG: 1/2 to 1/16 by averaging
    /// rows as they are read; JPEG: 1/2 to 1/8 by DCT scaling); PGM images over it are refused.
    /// - Parameter maximumPixels: the pixel limit (`ImageLimits.maximumPixels` or lower).
    /// - Throws: `ImageError.empty`, `.tooLarge`, `.decodeFailed` or `.outOfMemory`.
    public init(encoded data: Data, maximumPixels: Int = ImageLimits.maximumPixels) throws {
        guard !data.isEmpty else { throw ImageError.empty("0 bytes") }
        let bytes = [UInt8](data)
        let limit = min(max(1, maximumPixels), ImageLimits.maximumPixels)
        switch EncodedFormat(signature: bytes) {
        case .png?: self = try Self.decodeWithShim(bytes, png: true, maximumPixels: limit)
        case .jpeg?: self = try Self.decodeWithShim(bytes, png: false, maximumPixels: limit)
        case .pgm?: self = try PGM.decode(bytes, maximumPixels: limit)
        case nil: throw ImageError.decodeFailed("unknown format (expected PNG, JPEG or PGM)")
        }
    }

    /// Reads and decodes an image file (see `ImageFile.bytes(atPath:)`), as `init(encoded:maximumPixels:)`
    /// decodes bytes: an empty file (`/dev/null` too) is `.empty`.
    /// - Throws: `ImageError.unreadable` if the file cannot be read, `.tooLarge` over
    ///   `ImageLimits.maximumFileBytes`, or any decoding error.
    public init(contentsOfFile path: String, maximumPixels: Int = ImageLimits.maximumPixels) throws {
        try self.init(encoded: try ImageFile.bytes(atPath: path), maximumPixels: maximumPixels)
    }

    private static func decodeWithShim(_ bytes: [UInt8], png: Bool, maximumPixels: Int) throws -> GrayImage {
        var out: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, orientation: Int32 = 1
        var err = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { b in
            png ? ic_decode_png(b.baseAddress, b.count, UInt64(maximumPixels), &out, &w, &h, &err, err.count)
                : ic_decode_jpeg(b.baseAddress, b.count, UInt64(maximumPixels), &out, &w, &h, &orientation,
                                 &err, err.count)
        }
        let message = String(cString: err)
        switch Int(status) {
        case Int(IC_OK): break
        case Int(IC_ERR_TOO_LARGE): throw ImageError.tooLarge(message)
        case Int(IC_ERR_NO_MEMORY): throw ImageError.outOfMemory("\(png ? "PNG" : "JPEG"): \(message)")
        default: throw ImageError.decodeFailed("\(png ? "PNG" : "JPEG"): \(message)")
        }
        defer { ic_free(out) }
        let width = Int(w), height = Int(h), n = width * height
        try checkSize(width: width, height: height, maximumPixels: maximumPixels)
        guard let out else { throw ImageError.decodeFailed("decoder returned no pixels") }
        if png {
            var pixels = [UInt8](repeating: 0, count: n), alpha = pixels
            for i in 0..<n { pixels[i] = out[2 * i]; alpha[i] = out[2 * i + 1] }
            return try GrayImage(width: width, height: height, pixels: pixels, alpha: alpha)
        }
        return try GrayImage(width: width, height: height, pixels: Array(UnsafeBufferPointer(start: out, count: n)))
            .oriented(exif: Int(orientation))
    }

    /// The image as it is meant to be viewed, given its EXIF Orientation tag (1-8, TIFF 6.0 /
    /// EXIF 2.32 tag 0x0112): 6 is rotated 90 degrees clockwise, 3 by 180, 8 by 270; 2, 4, 5 and 7
    /// are mirrored. Other values leave it unchanged.
    /// - Throws: never for a valid image (the pixel count is unchanged); declared for safety.
    public func oriented(exif orientation: Int) throws -> GrayImage {
        guard (2...8).contains(orientation) else { return self }
        let swaps = orientation >= 5
        let (ow, oh) = swaps ? (height, width) : (width, height)
        func remap(_ plane: [UInt8]) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: plane.count)
            for y in 0..<oh {
                for x in 0..<ow {
                    // Source pixel (sx, sy) shown at (x, y).
                    let (sx, sy): (Int, Int)
                    switch orientation {
                    case 2: (sx, sy) = (width - 1 - x, y)
                    case 3: (sx, sy) = (width - 1 - x, height - 1 - y)
                    case 4: (sx, sy) = (x, height - 1 - y)
                    case 5: (sx, sy) = (y, x)
                    case 6: (sx, sy) = (y, height - 1 - x)
                    case 7: (sx, sy) = (width - 1 - y, height - 1 - x)
                    default: (sx, sy) = (width - 1 - y, x)
                    }
                    out[y * ow + x] = plane[sy * width + sx]
                }
            }
            return out
        }
        // Same pixel count, so the size checks of `init` hold.
        return try GrayImage(width: ow, height: oh, pixels: remap(pixels), alpha: alpha.map(remap))
    }

    /// Encodes the luminance as a PNG.
    public func pngData() throws -> Data { try encodePNG(pixels, width: width, height: height, channels: 1) }
}

/// Encodes 8-bit grey (channels 1) or RGB (channels 3) pixels as PNG.
/// - Throws: `ImageError.invalidArgument` on inconsistent sizes or encoder failure.
public func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> Data {
    guard channels == 1 || channels == 3, pixels.count == width * height * channels else {
        throw ImageError.invalidArgument("cannot encode \(pixels.count) bytes as \(width)x\(height)x\(channels)")
    }
    var out: UnsafeMutablePointer<UInt8>?
    var size = 0
    var err = [CChar](repeating: 0, count: 256)
    let status = pixels.withUnsafeBufferPointer {
        ic_encode_png($0.baseAddress, Int32(width), Int32(height), Int32(channels), &out, &size, &err, err.count)
    }
    guard status == IC_OK, let out else { throw ImageError.invalidArgument("PNG encoder: \(String(cString: err))") }
    defer { ic_free(out) }
    return Data(bytes: out, count: size)
}

/// Netpbm greymap reader (binary P5 and plain P2, 8 or 16 bits).
enum PGM {
    static func decode(_ bytes: [UInt8], maximumPixels: Int) throws -> GrayImage {
        var i = 2
        func token() throws -> Int {
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "#") { while i < bytes.count && bytes[i] != 10 { i += 1 } }
                else if bytes[i] == 32 || (9...13).contains(bytes[i]) { i += 1 } else { break }
            }
            var v = 0, digits = 0
            while i < bytes.count, (48...57).contains(bytes[i]) {
                v = v * 10 + Int(bytes[i] - 48); digits += 1; i += 1
                guard v < 1 << 31 else { throw ImageError.decodeFailed("PGM: number too large") }
            }
            guard digits > 0 else { throw ImageError.decodeFailed("PGM: malformed header") }
            return v
        }
        let binary = bytes[1] == UInt8(ascii: "5")
        let width = try token(), height = try token(), maxValue = try token()
        guard maxValue > 0, maxValue < 65536 else { throw ImageError.decodeFailed("PGM: bad maximum value \(maxValue)") }
        try GrayImage.checkSize(width: width, height: height, maximumPixels: maximumPixels)
        let n = width * height
        var pixels = [UInt8](repeating: 0, count: n)
        let scale = { (v: Int) in UInt8(min(255, (v * 255 + maxValue / 2) / maxValue)) }
        if binary {
            i += 1 // single whitespace after maxval
            let wide = maxValue > 255
            guard bytes.count - i >= n * (wide ? 2 : 1) else { throw ImageError.decodeFailed("PGM: truncated pixel data") }
            for k in 0..<n {
                pixels[k] = scale(wide ? Int(bytes[i + 2 * k]) << 8 | Int(bytes[i + 2 * k + 1]) : Int(bytes[i + k]))
            }
        } else {
            for k in 0..<n {
                let v = try token()
                guard v <= maxValue else { throw ImageError.decodeFailed("PGM: value above maximum") }
                pixels[k] = scale(v)
            }
        }
        return try GrayImage(width: width, height: height, pixels: pixels)
    }
}
