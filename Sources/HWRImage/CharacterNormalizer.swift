import Foundation

/// Buffers the normalisers reuse from call to call, so that normalising into caller-owned memory
/// allocates nothing once they have grown to the image sizes in use. One per thread.
public struct NormalizerScratch {
    var luminance: [Float] = [], ink: [Float] = [], border: [Float] = [], fitted: [Float] = []

    /// Empty buffers.
    public init() {}
}

/// Sets `array` to `count` elements, reusing its storage when it is large enough.
@inline(__always)
func resize(_ array: inout [Float], _ count: Int) {
    if array.count != count {
        array.removeAll(keepingCapacity: true)
        array.append(contentsOf: repeatElement(0, count: count))
    }
}

/// Extracts the ink of an image as floats in [0, 1], light ink on dark (the MNIST convention),
/// whatever the source polarity, background level or transparency.
enum InkMap {
    /// Ink below this fraction of the strongest stroke counts as background when cropping.
    static let cropThreshold: Float = 0.25
    /// Images whose strongest ink differs from the background by less than this are empty.
    static let minimumContrast: Float = 24

    /// Fills `scratch.ink` with the ink map of `image` (using `scratch.luminance` and `scratch.border`).
    static func extract(_ image: GrayImage, scratch: inout NormalizerScratch) throws {
        let n = image.width * image.height
        resize(&scratch.luminance, n)
        resize(&scratch.ink, n)
        try scratch.luminance.withUnsafeMutableBufferPointer { lum in
            for i in 0..<n { lum[i] = Float(image.pixels[i]) }
            if let alpha = image.alpha {
                // Transparent background: composite over whichever of white or black contrasts with the ink.
                var sum: Float = 0, opaque = 0
                for i in 0..<n where alpha[i] > 127 { sum += lum[i]; opaque += 1 }
                guard opaque > 0 else { throw ImageError.empty("fully transparent") }
                let background: Float = sum / Float(opaque) < 128 ? 255 : 0
                for i in 0..<n {
                    let a = Float(alpha[i]) / 255
                    lum[i] = a * lum[i] + (1 - a) * background
                }
            }
        }
        let background = borderMedian(scratch.luminance, width: image.width, height: image.height, border: &scratch.border)
        let darkInk = background > 127
        var peak: Float = 0
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            scratch.luminance.withUnsafeBufferPointer { lum in
                for i in 0..<n {
                    let v = darkInk ? max(0, background - lum[i]) : max(0, lum[i] - background)
                    ink[i] = v; peak = max(peak, v)
                }
                guard peak >= minimumContrast else { return }
                let inv = 1 / peak
                for i in 0..<n { ink[i] = min(1, ink[i] * inv) }
            }
        }
        guard peak >= minimumContrast else { throw ImageError.empty("no ink stands out from the background") }
    }

    /// Median luminance of the one-pixel border: the background level.
    static func borderMedian(_ lum: [Float], width: Int, height: Int, border: inout [Float]) -> Float {
        border.removeAll(keepingCapacity: true)
        for x in 0..<width { border.append(lum[x]); border.append(lum[(height - 1) * width + x]) }
        for y in 0..<height { border.append(lum[y * width]); border.append(lum[y * width + width - 1]) }
        return select(&border, rank: border.count / 2)
    }

    /// The element of rank `rank` (0-based, ascending) of `values`, found in place by quickselect
    /// (which, unlike a full sort, needs no temporary storage). Reorders `values`.
    static func select(_ values: inout [Float], rank: Int) -> Float {
        values.withUnsafeMutableBufferPointer { v in
            var low = 0, high = v.count - 1
            while low < high {
                let pivot = v[(low + high) / 2]
                var i = low, j = high
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while v[j] > pivot { j -= 1 }
                    if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
                }
                if rank <= j { high = j } else if rank >= i { low = i } else { break }
            }
            return v[rank]
        }
    }

    /// Bounding box (x0, y0, x1, y1; exclusive ends) of ink at or above `threshold`, or nil.
    static func bounds(_ values: [Float], width: Int, height: Int, threshold: Float) -> (Int, Int, Int, Int)? {
        var x0 = width, y0 = height, x1 = -1, y1 = -1
        values.withUnsafeBufferPointer { v in
            for y in 0..<height {
                for x in 0..<width where v[y * width + x] >= threshold {
                    x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                }
            }
        }
        return x1 < 0 ? nil : (x0, y0, x1 + 1, y1 + 1)
    }
}

/// Turns any character image into the network input: crop to the ink, fit into a `box` x `box`
/// square keeping the aspect ratio, centre by mass in `size` x `size`, values in [0, 1].
/// The same code runs at training and at recognition time.
public struct CharacterNormalizer: Sendable {
    /// Side of the output in pixels (28).
    public let size: Int
    /// Side of the box the ink is fitted into (20).
    public let box: Int

    /// Creates a normaliser.
    public init(size: Int = 28, box: Int = 20) {
        precondition(size > 0 && box > 0 && box <= size, "invalid normaliser sizes")
        self.size = size; self.box = box
    }

    /// Normalises an image.
    /// - Returns: `size * size` floats, row-major.
    /// - Throws: `ImageError.empty` for an image without ink.
    public func normalize(_ image: GrayImage) throws -> [Float] {
        var scratch = NormalizerScratch()
        var out = [Float](repeating: 0, count: size * size)
        try out.withUnsafeMutableBufferPointer { try normalize(image, into: $0.baseAddress!, scratch: &scratch) }
        return out
    }

    /// Normalises an image into `out` (`size * size` floats, row-major), allocating nothing once
    /// `scratch` has grown to the image size.
    /// - Throws: `ImageError.empty` for an image without ink.
    public func normalize(_ image: GrayImage, into out: UnsafeMutablePointer<Float>, scratch: inout NormalizerScratch) throws {
        try InkMap.extract(image, scratch: &scratch)
        guard let (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: image.width, height: image.height,
                                                   threshold: InkMap.cropThreshold) else {
            throw ImageError.empty("no ink")
        }
        let cw = x1 - x0, ch = y1 - y0
        let scale = Float(box) / Float(max(cw, ch))
        let ow = max(1, min(box, Int((Float(cw) * scale).rounded()))), oh = max(1, min(box, Int((Float(ch) * scale).rounded())))
        resize(&scratch.fitted, ow * oh)
        scratch.fitted.withUnsafeMutableBufferPointer { fitted in
            Self.resample(scratch.ink, stride: image.width, x0: x0, y0: y0, w: cw, h: ch,
                          into: fitted.baseAddress!, outWidth: ow, outHeight: oh)
            // Centre of mass of the fitted glyph, placed at the centre of the output.
            var mass: Float = 0, mx: Float = 0, my: Float = 0
            for y in 0..<oh { for x in 0..<ow { let v = fitted[y * ow + x]; mass += v; mx += v * Float(x); my += v * Float(y) } }
            let cx = mass > 0 ? mx / mass : Float(ow - 1) / 2, cy = mass > 0 ? my / mass : Float(oh - 1) / 2
            let centre = Float(size - 1) / 2
            let ox = min(max(Int((centre - cx).rounded()), 0), size - ow)
            let oy = min(max(Int((centre - cy).rounded()), 0), size - oh)
            out.update(repeating: 0, count: size * size)
            for y in 0..<oh { (out + (y + oy) * size + ox).update(from: fitted.baseAddress! + y * ow, count: ow) }
        }
    }

    /// Resamples the `w` x `h` crop at (`x0`, `y0`) of an ink map `stride` pixels wide into `out`:
    /// area averaging when shrinking, bilinear when enlarging.
    static func resample(_ ink: [Float], stride: Int, x0: Int, y0: Int, w: Int, h: Int,
                         into out: UnsafeMutablePointer<Float>, outWidth: Int, outHeight: Int) {
        let sx = Float(w) / Float(outWidth), sy = Float(h) / Float(outHeight)
        ink.withUnsafeBufferPointer { src in
            if sx >= 1 && sy >= 1 {
                for oy in 0..<outHeight {
                    let fy0 = Float(oy) * sy, fy1 = fy0 + sy
                    for ox in 0..<outWidth {
                        let fx0 = Float(ox) * sx, fx1 = fx0 + sx
                        var sum: Float = 0
                        var y = Int(fy0)
                        while Float(y) < fy1 && y < h {
                            let wy = min(fy1, Float(y + 1)) - max(fy0, Float(y))
                            var x = Int(fx0)
                            while Float(x) < fx1 && x < w {
                                let wx = min(fx1, Float(x + 1)) - max(fx0, Float(x))
                                sum += wx * wy * src[(y0 + y) * stride + x0 + x]
                                x += 1
                            }
                            y += 1
                        }
                        out[oy * outWidth + ox] = sum / (sx * sy)
                    }
                }
            } else {
                for oy in 0..<outHeight {
                    let fy = min(max((Float(oy) + 0.5) * sy - 0.5, 0), Float(h - 1))
                    let iy = Int(fy), ty = fy - Float(iy), iy1 = min(iy + 1, h - 1)
                    for ox in 0..<outWidth {
                        let fx = min(max((Float(ox) + 0.5) * sx - 0.5, 0), Float(w - 1))
                        let ix = Int(fx), tx = fx - Float(ix), ix1 = min(ix + 1, w - 1)
                        let a = src[(y0 + iy) * stride + x0 + ix], b = src[(y0 + iy) * stride + x0 + ix1]
                        let c = src[(y0 + iy1) * stride + x0 + ix], d = src[(y0 + iy1) * stride + x0 + ix1]
                        out[oy * outWidth + ox] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
                    }
                }
            }
        }
    }
}

/// Turns a word or line image into the input of a line model: crop to the ink, scale so the ink is
/// `box` pixels high keeping the aspect ratio, centre it vertically in a band `height` pixels high,
/// with a margin of `height / 7` columns on each side. The same code runs at training and at
/// recognition time.
public struct LineNormalizer: Sendable {
    /// Height of the output (28).
    public let height: Int
    /// Height the ink is scaled to (20).
    public let box: Int
    /// Widest output accepted, in pixels; longer lines are an error.
    public let maximumWidth: Int

    /// Creates a normaliser.
    public init(height: Int = 28, box: Int = 20, maximumWidth: Int = 4096) {
        precondition(height > 0 && box > 0 && box <= height && maximumWidth > height, "invalid normaliser sizes")
        self.height = height; self.box = box; self.maximumWidth = maximumWidth
    }

    /// Normalises a line image.
    /// - Returns: the pixels (`height` rows of `width` floats) and the width.
    /// - Throws: `ImageError.empty` when there is no ink, `.invalidArgument` for images under 4 pixels
    ///   high, `.tooLarge` when the normalised line would exceed `maximumWidth`.
    public func normalize(_ image: GrayImage) throws -> (pixels: [Float], width: Int) {
        guard image.height >= 4 else { throw ImageError.invalidArgument("\(image.height) pixels high: too small for a line (at least 4)") }
        var scratch = NormalizerScratch()
        try InkMap.extract(image, scratch: &scratch)
        guard let (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: image.width, height: image.height,
                                                   threshold: InkMap.cropThreshold) else { throw ImageError.empty("no ink") }
        let cw = x1 - x0, ch = y1 - y0
        let scale = Float(box) / Float(ch)
        let inkWidth = max(1, Int((Float(cw) * scale).rounded()))
        let margin = height / 7
        let width = inkWidth + 2 * margin
        guard width <= maximumWidth else {
            throw ImageError.tooLarge("the line would be \(width) pixels wide once \(height) high (limit \(maximumWidth))")
        }
        var fitted = [Float](repeating: 0, count: inkWidth * box)
        fitted.withUnsafeMutableBufferPointer {
            CharacterNormalizer.resample(scratch.ink, stride: image.width, x0: x0, y0: y0, w: cw, h: ch,
                                         into: $0.baseAddress!, outWidth: inkWidth, outHeight: box)
        }
        var out = [Float](repeating: 0, count: height * width)
        let top = (height - box) / 2
        for y in 0..<box { for x in 0..<inkWidth { out[(y + top) * width + x + margin] = fitted[y * inkWidth + x] } }
        return (out, width)
    }
}
