import Glibc

/// Buffers the normalisers reuse from call to call, so that normalising into caller-owned memory
/// allocates nothing once they have grown to the image sizes in use. One per thread.
public struct NormalizerScratch {
    var luminance: [Float] = [], ink: [Float] = [], border: [Float] = [], fitted: [Float] = []
    var grid: [Float] = [], filterA: [Float] = [], filterB: [Float] = [], runPrefix: [Float] = [], runSuffix: [Float] = []
    var labels: [Int32] = [], stack: [Int32] = [], components: [InkComponent] = []
    var columnCells: [Int32] = [], columnWeights: [Float] = []

    /// Empty buffers.
    public init() {}
}

/// Sets `array` to `count` elements, reusing its storage when it is large enough.
@inline(__always)
func resize<T: Numeric>(_ array: inout [T], _ count: Int) {
    if array.count != count {
        array.removeAll(keepingCapacity: true)
        array.append(contentsOf: repeatElement(0, count: count))
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

    /// Larger images are shrunk to this side (in pixels) before preprocessing: a character needs no
    /// more, and a phone photo's 12 megapixels would cost a second.
    public static let workingSide = 600

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
    /// - Parameter trace: when given, called with each preprocessing stage (see `PreprocessingStages`).
    public func normalize(_ image: GrayImage, into out: UnsafeMutablePointer<Float>, scratch: inout NormalizerScratch,
                          trace: ((String, [Float], Int) -> Void)? = nil) throws {
        let image = image.fitted(maximumWidth: Self.workingSide, maximumHeight: Self.workingSide)
        let strokeWidth = try InkMap.extract(image, scratch: &scratch, trace: trace)
        guard var (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: image.width, height: image.height,
                                                   threshold: InkMap.cropThreshold) else {
            throw ImageError.empty("no ink")
        }
        try Self.checkLayout(&scratch, width: image.width, x0: x0, y0: y0, x1: x1, y1: y1, singleCharacter: true)
        var scale = Float(box) / Float(max(x1 - x0, y1 - y0))
        let radius = StrokeWidth.thickeningRadius(strokeWidth: strokeWidth, scale: scale)
        if radius > 0 {
            StrokeWidth.dilate(&scratch, width: image.width, height: image.height, radius: radius)
            (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: image.width, height: image.height,
                                             threshold: InkMap.cropThreshold) ?? (x0, y0, x1, y1)
            scale = Float(box) / Float(max(x1 - x0, y1 - y0))
        }
        let cw = x1 - x0, ch = y1 - y0
        let ow = max(1, min(box, Int((Float(cw) * scale).rounded()))), oh = max(1, min(box, Int((Float(ch) * scale).rounded())))
        resize(&scratch.fitted, ow * oh)
        scratch.fitted.withUnsafeMutableBufferPointer { fitted in
            Self.resample(scratch.ink, stride: image.width, x0: x0, y0: y0, w: cw, h: ch,
                          into: fitted.baseAddress!, outWidth: ow, outHeight: oh)
            if radius > 0 { Self.restoreContrast(fitted.baseAddress!, count: ow * oh) }
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

    /// Refuses an image that holds several lines (or, when `singleCharacter`, a row of characters),
    /// which a character or line model would read as garbage: the ink's row profile splits into two
    /// or more bands of similar heights separated by clear gaps, each with a share of the ink (a line:
    /// gaps of 1/24 of the height, 5% each; a character: 1/6, 20%); or its column
    /// profile, on ink wider than it is high, into three or more bands with at least 8% each.
    /// - Throws: `ImageError.severalLines` or `.invalidArgument`, naming the mode to use instead.
    static func checkLayout(_ scratch: inout NormalizerScratch, width: Int, x0: Int, y0: Int, x1: Int, y1: Int,
                            singleCharacter: Bool) throws {
        /// Bands of the profile along `count` positions separated by at least `gap` empty ones, with at
        /// least `minimumShare` of the ink and at least 60% of the longest band's length (the dot of an "i" is not a line).
        func bands(count: Int, gap: Int, minimumShare: Float, at: (Int, Int) -> Int) -> Int {
            let across = count == y1 - y0 ? x1 - x0 : y1 - y0
            resize(&scratch.grid, count)
            var total: Float = 0
            for k in 0..<count {
                var sum: Float = 0
                for t in 0..<across { let v = scratch.ink[at(k, t)]; if v >= InkMap.cropThreshold { sum += v } }
                scratch.grid[k] = sum; total += sum
            }
            // Pass 1 finds the longest band; pass 2 counts the substantial ones.
            var longest = 0, found = 0
            for pass in 0..<2 {
                var mass: Float = 0, zeros = 0, start = -1, end = -1
                for k in 0...count {
                    let v = k < count ? scratch.grid[k] : 0
                    if v > 0 {
                        if start < 0 { start = k }
                        mass += v; zeros = 0; end = k
                        continue
                    }
                    zeros += 1
                    if (zeros == gap || k == count) && mass > 0 {
                        let length = end - start + 1
                        if pass == 0 { longest = max(longest, length) }
                        else if mass >= minimumShare * total && length * 10 >= 6 * longest { found += 1 }
                        mass = 0; start = -1
                    }
                }
            }
            return found
        }
        let height = y1 - y0
        // For a line image: gaps of a 24th of the height (between the lines of a note of six or more
        // they are a small part of its height) and bands with 5% of the ink each (a note of ten lines
        // has bands of 10%); for a character, gaps of a sixth and 20% (the two loops of an "8" drawn
        // apart are one character). Either way, bands of at least 60% of the tallest's height.
        let lines = singleCharacter
            ? bands(count: height, gap: max(2, height / 6), minimumShare: 0.2) { k, t in (y0 + k) * width + x0 + t }
            : bands(count: height, gap: max(2, height / 48), minimumShare: 0.05) { k, t in (y0 + k) * width + x0 + t }
        guard lines < 2 else {
            throw ImageError.severalLines("the image holds \(lines) lines of writing, not one \(singleCharacter ? "character" : "line"): read it as a page")
        }
        if singleCharacter && x1 - x0 > y1 - y0 {
            let characters = bands(count: x1 - x0, gap: max(2, height / 8), minimumShare: 0.08) { k, t in (y0 + t) * width + x0 + k }
            guard characters < 3 else {
                throw ImageError.invalidArgument("the image holds \(characters) characters side by side, not one: read it as a line")
            }
        }
    }

    /// Scales `values` so that the strongest is 1 (after thin strokes were thickened and averaged down).
    static func restoreContrast(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var top: Float = 0
        for i in 0..<count { top = max(top, values[i]) }
        guard top > 0 else { return }
        for i in 0..<count { values[i] = min(1, values[i] / top) }
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

    /// Larger line images are shrunk to fit this many pixels high (and `workingWidth` wide) before
    /// preprocessing: the line ends `height` pixels high anyway.
    public static let workingHeight = 192
    /// Widest image preprocessed at full resolution, in pixels.
    public static let workingWidth = 6144

    /// Creates a normaliser.
    public init(height: Int = 28, box: Int = 20, maximumWidth: Int = 4096) {
        precondition(height > 0 && box > 0 && box <= height && maximumWidth > height, "invalid normaliser sizes")
        self.height = height; self.box = box; self.maximumWidth = maximumWidth
    }

    /// Normalises a line image.
    /// - Returns: the pixels (`height` rows of `width` floats) and the width.
    /// - Throws: `ImageError.empty` when there is no ink, `.invalidArgument` for images under
    ///   `ImageLimits.minimumSide` on a side, `.tooLarge` when the normalised line would exceed `maximumWidth`.
    /// - Parameter trace: when given, called with each preprocessing stage (see `PreprocessingStages`).
    public func normalize(_ image: GrayImage, trace: ((String, [Float], Int) -> Void)? = nil) throws -> (pixels: [Float], width: Int) {
        let fitted = image.fitted(maximumWidth: Self.workingWidth, maximumHeight: Self.workingHeight)
        var scratch = NormalizerScratch()
        var stages: [(String, [Float], Int)] = []
        let strokeWidth = try InkMap.extract(fitted, scratch: &scratch, trace: trace.map { _ in { stages.append(($0, $1, $2)) } })
        // A line written small on a large image (less than a third of its height) lost its
        // resolution in the shrink: its rows and columns, with a margin of half the ink's height,
        // are cut from the full image and read again.
        if fitted.height < image.height,
           let (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: fitted.width, height: fitted.height, threshold: InkMap.cropThreshold),
           (y1 - y0) * 3 < fitted.height {
            let margin = (y1 - y0) / 2 + 1
            let sx = Double(image.width) / Double(fitted.width), sy = Double(image.height) / Double(fitted.height)
            let left = max(0, Int(Double(x0 - margin) * sx)), top = max(0, Int(Double(y0 - margin) * sy))
            let right = min(image.width, Int((Double(x1 + margin) * sx).rounded(.up)))
            let bottom = min(image.height, Int((Double(y1 + margin) * sy).rounded(.up)))
            if bottom - top < image.height {
                return try normalize(image.cropped(x: left, y: top, width: right - left, height: bottom - top), trace: trace)
            }
        }
        for (name, map, width) in stages { trace?(name, map, width) }
        if let degrees = Self.straighten(&scratch, width: fitted.width, height: fitted.height) {
            trace?("straightened (\((degrees * 10).rounded() / 10) degrees)", Array(scratch.ink.prefix(fitted.width * fitted.height)), fitted.width)
        }
        return try fit(&scratch, width: fitted.width, height: fitted.height, strokeWidth: strokeWidth)
    }

    /// Ink at least this many times as wide as high is a line of writing; shorter ink (a word) is
    /// too short to say how it is turned (`straighten`, `holdsLine`).
    public static let minimumLineAspect = 3

    /// Blank columns on each side of a normalised line's ink, in pixels.
    public var margin: Int { height / 7 }

    /// Whether a line this normaliser output, `width` pixels wide, holds a line of writing rather
    /// than a word (`minimumLineAspect`; its ink is `box` pixels high between two `margin`s).
    public func holdsLine(normalizedWidth width: Int) -> Bool {
        width - 2 * margin >= Self.minimumLineAspect * box
    }

    /// Whether a line this normaliser output, `width` pixels wide, holds ink at least 1.5 times as
    /// high as wide: a word or line turned a quarter, or one tall character.
    public func holdsColumn(normalizedWidth width: Int) -> Bool {
        3 * (width - 2 * margin) <= 2 * box
    }

    /// Whether a line this normaliser output, `width` pixels wide, holds ink at least 1.5 times as
    /// wide as high (`holdsColumn` turned a quarter).
    public func holdsRow(normalizedWidth width: Int) -> Bool {
        2 * (width - 2 * margin) >= 3 * box
    }

    /// Largest turn of a line corrected, in degrees.
    public static let maximumSkewDegrees = 10.0
    /// Smallest turn of a line corrected, in degrees: a straight line's estimate wavers below it.
    public static let minimumSkewDegrees = 2.5

    /// Turns back the ink of a line photographed turned a few degrees (`Skew`, searched in half
    /// degrees): its letters were shrunk into the model's height with the turn, and the ends cut
    /// (44% CER on Washington lines turned 3 degrees against 10.6% straight). Only a line
    /// (`minimumLineAspect`).
    /// - Returns: the angle corrected, or nil when the ink was left as it was.
    static func straighten(_ scratch: inout NormalizerScratch, width w: Int, height h: Int) -> Double? {
        let n = w * h
        guard let (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: w, height: h, threshold: InkMap.cropThreshold),
              x1 - x0 >= minimumLineAspect * (y1 - y0) else { return nil }
        let ink = Array(scratch.ink.prefix(n))
        let (points, bins) = Skew.profilePoints(ink, width: w, height: h, threshold: InkMap.cropThreshold)
        guard points.count >= 50 else { return nil }
        let degrees = Skew.bestProfile(points, bins: bins, range: maximumSkewDegrees, step: 0.5).degrees
        guard abs(degrees) >= minimumSkewDegrees else { return nil }
        scratch.ink.replaceSubrange(0..<n, with: Skew.rotate(ink, width: w, height: h, degrees: -degrees))
        return degrees
    }

    /// Normalises the ink map of a line that is already preprocessed (a line cut from a page's
    /// `PageInk`): the same as `normalize(_:)` from its crop to the ink on, without extracting the
    /// ink again.
    /// - Parameters:
    ///   - ink: `width * height` ink strengths in [0, 1], row-major, 0 where there is no ink.
    ///   - strokeWidth: the pen's width, in pixels of `ink`.
    /// - Throws: as `normalize(_:)`.
    public func normalize(ink: [Float], width: Int, height: Int, strokeWidth: Float) throws -> (pixels: [Float], width: Int) {
        guard width >= ImageLimits.minimumSide, height >= ImageLimits.minimumSide, ink.count == width * height else {
            throw ImageError.invalidArgument("\(width)x\(height) ink map of \(ink.count) values: too small to read or the wrong size")
        }
        var scratch = NormalizerScratch()
        // Relative to the line's strongest ink, as `InkMap.extract` leaves a line.
        let top = ink.max() ?? 0
        guard top > 0 else { throw ImageError.empty("no ink") }
        scratch.ink = ink.map { min(1, $0 / top) }
        return try fit(&scratch, width: width, height: height, strokeWidth: strokeWidth)
    }

    /// The crop, scaling and placing of `normalize(_:)`, from the ink map in `scratch.ink`.
    func fit(_ scratch: inout NormalizerScratch, width imageWidth: Int, height imageHeight: Int,
             strokeWidth: Float) throws -> (pixels: [Float], width: Int) {
        let image = (width: imageWidth, height: imageHeight)
        guard var (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: image.width, height: image.height,
                                                   threshold: InkMap.cropThreshold) else { throw ImageError.empty("no ink") }
        try CharacterNormalizer.checkLayout(&scratch, width: image.width, x0: x0, y0: y0, x1: x1, y1: y1, singleCharacter: false)
        var scale = Float(box) / Float(y1 - y0)
        let radius = StrokeWidth.thickeningRadius(strokeWidth: strokeWidth, scale: scale)
        if radius > 0 {
            StrokeWidth.dilate(&scratch, width: image.width, height: image.height, radius: radius)
            (x0, y0, x1, y1) = InkMap.bounds(scratch.ink, width: image.width, height: image.height,
                                             threshold: InkMap.cropThreshold) ?? (x0, y0, x1, y1)
            scale = Float(box) / Float(y1 - y0)
        }
        let cw = x1 - x0, ch = y1 - y0
        let inkWidth = max(1, Int((Float(cw) * scale).rounded()))
        let width = inkWidth + 2 * margin
        guard width <= maximumWidth else {
            throw ImageError.tooLarge("the line would be \(width) pixels wide once \(height) high (limit \(maximumWidth))")
        }
        var fitted = [Float](repeating: 0, count: inkWidth * box)
        fitted.withUnsafeMutableBufferPointer {
            CharacterNormalizer.resample(scratch.ink, stride: image.width, x0: x0, y0: y0, w: cw, h: ch,
                                         into: $0.baseAddress!, outWidth: inkWidth, outHeight: box)
            if radius > 0 { CharacterNormalizer.restoreContrast($0.baseAddress!, count: inkWidth * box) }
        }
        var out = [Float](repeating: 0, count: height * width)
        let top = (height - box) / 2
        for y in 0..<box { for x in 0..<inkWidth { out[(y + top) * width + x + margin] = fitted[y * inkWidth + x] } }
        return (out, width)
    }
}
