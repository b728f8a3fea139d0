import Dispatch
import Glibc

/// One connected component of stroke pixels, as the cleaning stage measures it.
struct InkComponent {
    /// Pixels in the component.
    var area: Int32
    /// Pixels with a 4-neighbour outside the component (its boundary).
    var boundary: Int32
    /// Bounding box (inclusive).
    var x0: Int32, y0: Int32, x1: Int32, y1: Int32
    /// Pixels on the image's outermost ring.
    var onBorder: Int32

    /// Mean stroke width in pixels: twice the area over the boundary (a stroke of width w and
    /// length L has area wL and about 2L boundary pixels).
    var strokeWidth: Float { max(1, 2 * Float(area) / Float(max(1, boundary))) }
    /// Longer side of the bounding box.
    var extent: Int32 { max(x1 - x0, y1 - y0) + 1 }
    /// Whether the component is writing rather than a dot or a speck: at least 5 pixels across, and
    /// long compared with its width (by its extent, or by its length, half its boundary, for loops
    /// such as a small "0"), or at least 1/64 of `imageSide` (the shorter side of the image) across.
    func isStroke(imageSide: Int) -> Bool {
        extent >= 5 && (isElongated || Int(extent) * 64 >= imageSide)
    }
    /// Whether the component is long compared with its width, by its extent or by its length (half
    /// its boundary, for loops such as a small "0"): pen strokes are; paper, glare and shadows are not.
    var isElongated: Bool {
        let width = strokeWidth
        return Float(extent) >= 3 * width || Float(boundary) / 2 >= 5 * width
    }
}

/// Extracts the ink of an image as floats in [0, 1], light ink on dark (the MNIST convention),
/// whatever the source polarity, paper, lighting or transparency. Stages, in order:
/// 1. **composite**: transparent pixels take the colour of the card the ink is on when the opaque
///    pixels hold ink on a card, else the colour that contrasts with opaque strokes (alpha-only glyphs);
/// 2. **polarity**: the ink is the thin minority: flattened as dark ink and as light ink (stage 3),
///    the right polarity has ink standing out on fewer pixels; on a page, first the one whose
///    top-hat keeps its area as the structuring element grows; on a word or line, first the only
///    one with ink standing out when flattened with blocks as high as the image;
/// 3. **flatten**: a local paper level (a percentile of each block, smoothed over 3x3 blocks and
///    bilinearly interpolated) is subtracted, then a noise floor (three standard deviations of the
///    paper's grain); on images at least `minimumSideForFlattening` pixels a side, a second pass
///    replaces it by a morphological top-hat about twice the pen's width, which follows hard shadow
///    edges, vignetting and frames exactly;
/// 4. **binarise and clean**: stroke pixels (at least `minimumContrast` grey levels and
///    `strokeFraction` of the strongest ink) form 8-connected components; ruled or grid lines that
///    span the image, frames that run along the border around the writing, and specks smaller than
///    the pen are erased;
/// 5. **blank check**: an image with no stroke-like component left is empty.
/// The same code runs at training and at recognition time. Allocation-free once `NormalizerScratch`
/// has grown to the image size.
enum InkMap {
    /// Ink below this fraction of the strongest stroke counts as background when cropping.
    static let cropThreshold: Float = 0.25
    /// Ink must differ from the paper by at least this many grey levels.
    static let minimumContrast: Float = 24
    /// Stroke pixels reach at least this fraction of the strongest ink.
    static let strokeFraction: Float = 0.35
    /// Images whose shorter side is below this use one paper level instead of a local estimate.
    static let minimumSideForFlattening = 48
    /// Paper levels are taken in square blocks of 1/`pageBlocksPerSide` of the shorter side (on a
    /// page, several lines of writing each).
    static let pageBlocksPerSide = 8
    /// A non-page image at least this many times as wide as high is a word or a line: its polarity is
    /// also tried with blocks as high as the image (`polarity`).
    static let lineAspect = 2
    /// A ruled or grid line spans at least this fraction of the image's width (or height).
    static let ruledLineSpan: Float = 0.85
    /// A frame covers at least this fraction of the image's outer ring.
    static let frameBorderShare: Float = 0.15

    /// Fills `scratch.ink` with the ink map of `image`.
    /// - Returns: the estimated stroke width of the writing, in pixels of `image`.
    /// - Throws: `ImageError.empty` when no pen stroke stands out (blank paper, noise, specks),
    ///   `.invalidArgument` for an image under `ImageLimits.minimumSide` on a side.
    /// - Parameter trace: when given, called after each stage with its name, a map of the image (grey
    ///   levels 0-255, or ink in [0, 1] for the ink stages) and the map's width; for `hwr preprocess`.
    /// - Parameter threads: threads the costliest stages (the flattening and the top-hat) are split over.
    /// - Parameter page: the image is a page: the pen's width is the median over its strokes when it
    ///   has 5 or more (the remains of a hard shadow's edge can be the largest "stroke" there, and a
    ///   top-hat as wide as they are would take the shadow for ink).
    static func extract(_ image: GrayImage, scratch: inout NormalizerScratch, threads: Int = 1, page: Bool = false,
                        trace: ((String, [Float], Int) -> Void)? = nil) throws -> Float {
        let (w, h) = (image.width, image.height), n = w * h
        guard w >= ImageLimits.minimumSide, h >= ImageLimits.minimumSide else {
            throw ImageError.invalidArgument("\(w)x\(h) pixels: too small to read (at least \(ImageLimits.minimumSide) on each side)")
        }
        resize(&scratch.luminance, n)
        resize(&scratch.ink, n)
        try composite(image, scratch: &scratch)
        trace?("composited", scratch.luminance, w)
        let darkInk = polarity(&scratch, width: w, height: h, threads: threads, page: page)
        if min(w, h) >= minimumSideForFlattening {
            // Second pass: a morphological closing about twice the pen's width follows the paper
            // exactly across hard shadow edges, vignetting and frames, which the block levels blur.
            // At least 1/16 of the shorter side: grainy pencil strokes look thinner than they are.
            let pen = penWidth(&scratch, width: w, height: h, page: page)
            let radius = max(2, min(min(w, h) / 4, max(min(w, h) / 16, Int((1.5 * pen).rounded()) + 2)))
            topHat(&scratch, width: w, height: h, darkInk: darkInk, radius: radius, threads: threads)
        }
        trace?(darkInk ? "flattened (dark ink)" : "flattened (light ink)", scratch.ink.map { min(1, $0 / 128) }, w)
        // Ink strength in grey levels, then relative to the strongest.
        var peak: Float = 0
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            for i in 0..<n { peak = max(peak, ink[i]) }
        }
        guard peak >= minimumContrast else { throw ImageError.empty("no ink stands out from the paper") }
        let strokeLevel = max(minimumContrast, strokeFraction * peak)
        let strokeWidth = try clean(&scratch, width: w, height: h, strokeLevel: strokeLevel, peak: peak)
        trace?("cleaned (stroke \((strokeWidth * 10).rounded() / 10) px)", scratch.ink.map { min(1, $0 / peak) }, w)
        // Normalise by the strongest remaining ink.
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            var top: Float = 0
            for i in 0..<n { top = max(top, ink[i]) }
            let inv = top > 0 ? 1 / top : 0
            for i in 0..<n { ink[i] = min(1, ink[i] * inv) }
        }
        return strokeWidth
    }

    /// Stage 1: luminance, with transparent pixels composited over the right background.
    static func composite(_ image: GrayImage, scratch: inout NormalizerScratch) throws {
        let n = image.width * image.height
        scratch.luminance.withUnsafeMutableBufferPointer { lum in
            for i in 0..<n { lum[i] = Float(image.pixels[i]) }
        }
        guard let alpha = image.alpha, alpha.contains(where: { $0 < 255 }) else { return }
        scratch.border.removeAll(keepingCapacity: true)
        for i in 0..<n where alpha[i] > 127 { scratch.border.append(scratch.luminance[i]) }
        guard !scratch.border.isEmpty else { throw ImageError.empty("fully transparent") }
        let opaque = scratch.border.count
        let median = select(&scratch.border, rank: opaque / 2)
        var far = 0
        for v in scratch.border where abs(v - median) > 48 { far += 1 }
        // Ink on an opaque card (a tenth of the image or more, in two colours): the card's colour fills
        // the transparent margin. Opaque strokes alone (alpha-only glyphs, canvas exports, whose
        // anti-aliased edges vary in colour too): the contrasting colour.
        let card = far >= max(4, opaque / 200) && opaque * 10 >= n
        let background: Float = card ? median : (median < 128 ? 255 : 0)
        scratch.luminance.withUnsafeMutableBufferPointer { lum in
            for i in 0..<n {
                let a = Float(alpha[i]) / 255
                lum[i] = a * lum[i] + (1 - a) * background
            }
        }
    }

    /// Stage 2: whether the ink is darker than the paper, leaving that hypothesis's block-level ink map
    /// in `scratch.ink`. Flattened both ways and compared (`Score.lightWins`). On a `page` the
    /// majority does not decide, the top-hats decide first when one polarity's keeps its area
    /// (`topHatAreaChange` under `steadyStrokes`): the block levels cannot follow a hard shadow's edge
    /// (both hypotheses take a band of it for ink), and JPEG noise on a page of small writing makes
    /// the dark ink look less thin than the paper between its strokes.
    ///
    /// A word or line image (`lineAspect`) is flattened again with blocks as high as itself. Blocks of
    /// an eighth of its height can be no wider than a thick pen's stroke: ink fills them, the paper
    /// between the strokes stands out as light ink, and the polarity comes out inverted. Blocks that
    /// hold whole letters leave the wrong polarity nothing but the paper's grain: when one hypothesis
    /// finds no ink with them, the other is the ink. When both find some (a hard shadow, whose edge
    /// blocks that large cannot follow), the small blocks decide. With `hwr-text 2.3.0`, held-out
    /// font lines read at 4.1% CER instead of 9.0%, Washington's lines at 10.3% instead of 12.9%.
    static func polarity(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, threads: Int = 1,
                         page: Bool = false) -> Bool {
        let n = w * h
        /// The strongest ink of `scratch.ink`, when it stands out of the paper (`minimumContrast`).
        func standingOut(_ scratch: inout NormalizerScratch) -> Float? {
            var peak: Float = 0
            for v in scratch.ink { peak = max(peak, v) }
            return peak >= minimumContrast ? peak : nil
        }
        /// How the hypothesis flattened into `scratch.ink` looks.
        func score(_ scratch: inout NormalizerScratch) -> Score {
            guard let peak = standingOut(&scratch) else { return Score(thin: -1, share: .infinity) }
            label(&scratch, width: w, height: h, strokeLevel: max(minimumContrast, strokeFraction * peak))
            // Dots and specks (under a quarter of the largest component) do not count against thinness.
            var total: Int32 = 0, largest: Int32 = 0, thin: Int32 = 0, counted: Int32 = 0
            for c in scratch.components { total += c.area; largest = max(largest, c.area) }
            for c in scratch.components where c.isElongated || c.area * 4 >= largest {
                counted += c.area
                if c.isElongated { thin += c.area }
            }
            return Score(thin: Float(thin) / Float(max(1, counted)), share: Float(total) / Float(n))
        }
        /// Flattens as dark ink (its map left in `scratch.filterB`) and as light ink (in `scratch.ink`).
        func flattenBothWays<T>(blocksPerSide: Int, _ judge: (inout NormalizerScratch) -> T) -> (dark: T, light: T) {
            flatten(&scratch, width: w, height: h, darkInk: true, threads: threads, blocksPerSide: blocksPerSide)
            let dark = judge(&scratch)
            resize(&scratch.filterB, n)
            swap(&scratch.ink, &scratch.filterB)
            flatten(&scratch, width: w, height: h, darkInk: false, threads: threads, blocksPerSide: blocksPerSide)
            return (dark, judge(&scratch))
        }
        let (dark, light) = flattenBothWays(blocksPerSide: pageBlocksPerSide, score)
        if page, (light.share > 0.5) == (dark.share > 0.5), min(w, h) >= minimumSideForFlattening {
            let lightMap = scratch.ink, darkMap = scratch.filterB
            let change = topHatAreaChange(&scratch, width: w, height: h, threads: threads)
            if min(change.dark, change.light) < steadyStrokes {
                let steadierIsLight = change.light < change.dark
                scratch.ink = steadierIsLight ? lightMap : darkMap
                scratch.filterB = steadierIsLight ? darkMap : lightMap
                return !steadierIsLight
            }
            scratch.ink = lightMap; scratch.filterB = darkMap
        }
        var lightWins = Score.lightWins(dark: dark, light: light)
        if !page, w >= lineAspect * h, min(w, h) >= minimumSideForFlattening {
            let blockMaps = (light: scratch.ink, dark: scratch.filterB)
            let (lineDark, lineLight) = flattenBothWays(blocksPerSide: 1) { standingOut(&$0) != nil }
            let onlyLightStandsOut = !lineDark && lineLight, onlyDarkStandsOut = lineDark && !lineLight
            if lightWins ? onlyDarkStandsOut : onlyLightStandsOut {
                lightWins = onlyLightStandsOut
            } else {
                scratch.ink = blockMaps.light; scratch.filterB = blockMaps.dark
            }
        }
        if !lightWins { swap(&scratch.ink, &scratch.filterB) }
        return !lightWins
    }

    /// How one polarity hypothesis looks once flattened (`polarity`).
    struct Score {
        /// Share of its stroke pixels in elongated components (-1 when nothing stands out).
        var thin: Float
        /// Share of the image's pixels that are strokes (infinity when nothing stands out).
        var share: Float

        /// The decision between two hypotheses flattened with the same blocks: one that makes most
        /// pixels ink loses (the paper is the majority); otherwise the thinner strokes win; when both
        /// look alike, the one with ink on fewer pixels; dark ink when they tie.
        static func lightWins(dark: Score, light: Score) -> Bool {
            if (light.share > 0.5) != (dark.share > 0.5) { return dark.share > 0.5 }
            if abs(light.thin - dark.thin) > 0.1 { return light.thin > dark.thin }
            return light.share < dark.share
        }
    }

    /// Largest change (|log| of the ratio) of a polarity's top-hat area from the small square to the
    /// large one (`topHatAreaChange`) that still counts as pen strokes, which fit in both squares.
    static let steadyStrokes: Float = 0.15

    /// How much each polarity's top-hat area changes as the structuring element grows: |log| of the
    /// ratio of the shares of pixels standing out in the top-hat (`topHat`) with a square of 1/16 and
    /// of 1/48 of the shorter side, at the small square's stroke level. Pen strokes narrower than both
    /// squares keep their area in the right polarity, while the wrong one's (the paper between
    /// strokes, narrower than one square and not the other) changes: a two-point pattern spectrum
    /// (Maragos, "Pattern spectrum and multiscale shape representation", IEEE PAMI 1989). A pen
    /// wider than the small square (a large character) makes both change. Leaves `scratch.ink`
    /// overwritten.
    static func topHatAreaChange(_ scratch: inout NormalizerScratch, width w: Int, height h: Int,
                                 threads: Int) -> (dark: Float, light: Float) {
        let side = min(w, h), n = Float(w * h)
        func change(darkInk: Bool) -> Float {
            var level: Float = 0, shares: [Float] = []
            for radius in [max(3, side / 48), max(3, side / 16)] {
                topHat(&scratch, width: w, height: h, darkInk: darkInk, radius: radius, threads: threads)
                if level == 0 {
                    var peak: Float = 0
                    for v in scratch.ink { peak = max(peak, v) }
                    level = max(minimumContrast, strokeFraction * peak)
                }
                var count = 0
                for v in scratch.ink where v >= level { count += 1 }
                shares.append(max(Float(count), 1) / n)
            }
            return abs(log(shares[1] / shares[0]))
        }
        return (change(darkInk: true), change(darkInk: false))
    }

    /// The pen's width in pixels, from the block-level ink map: the thinnest stroke-like component
    /// among those at least a quarter the area of the largest (shadow residue is wider than the pen);
    /// on a `page` with 5 or more, the median of the stroke-like components' widths (one vote each:
    /// the letters outvote a shadow's remains, however large).
    static func penWidth(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, page: Bool = false) -> Float {
        var peak: Float = 0
        for v in scratch.ink { peak = max(peak, v) }
        guard peak >= minimumContrast else { return 1 }
        let level = max(minimumContrast, strokeFraction * peak)
        eraseRuledLines(&scratch, width: w, height: h, strokeLevel: level, peak: peak)
        label(&scratch, width: w, height: h, strokeLevel: level)
        let side = min(w, h)
        if page {
            scratch.border.removeAll(keepingCapacity: true)
            for c in scratch.components where c.isStroke(imageSide: side) { scratch.border.append(c.strokeWidth) }
            if scratch.border.count >= 5 { return select(&scratch.border, rank: scratch.border.count / 2) }
        }
        var largest: Int32 = 0
        for c in scratch.components where c.isStroke(imageSide: side) { largest = max(largest, c.area) }
        var pen = Float.infinity
        for c in scratch.components where c.isStroke(imageSide: side) && c.area * 4 >= largest { pen = min(pen, c.strokeWidth) }
        return pen.isFinite ? pen : 1
    }

    /// `scratch.ink` = the black (or white, for light ink) top-hat of the luminance: its morphological
    /// closing (opening) with a square of `radius` minus itself, less a noise floor of twice the
    /// median (most pixels are paper, where the top-hat is the grain). Serra, "Image Analysis and
    /// Mathematical Morphology" (1982); separable running extremes after van Herk (1992) and Gil and
    /// Werman (1993).
    /// Split over `threads` threads (column strips and transpose tiles).
    static func topHat(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, darkInk: Bool, radius: Int,
                       threads: Int = 1) {
        let n = w * h
        // Work on the image padded by `radius` on every side with its edge values repeated, so that
        // the closing is not cut short at the border (a shadow edge reaching the border stays exact).
        let pw = w + 2 * radius, ph = h + 2 * radius
        resize(&scratch.filterA, pw * ph)
        resize(&scratch.filterB, pw * ph)
        let workers = max(1, threads), perWorker = max(pw, ph) * extremeStrip
        resize(&scratch.runPrefix, perWorker * workers)
        resize(&scratch.runSuffix, perWorker * workers)
        // Closing = dilation then erosion (for light ink: erosion then dilation), each by columns and
        // rows, on the padded luminance in B; the result in B.
        scratch.luminance.withUnsafeBufferPointer { lum in
            scratch.filterA.withUnsafeMutableBufferPointer { a in
                scratch.filterB.withUnsafeMutableBufferPointer { b in
                    scratch.runPrefix.withUnsafeMutableBufferPointer { g in
                        scratch.runSuffix.withUnsafeMutableBufferPointer { hh in
                            let (a, b, g, hh) = (a.baseAddress!, b.baseAddress!, g.baseAddress!, hh.baseAddress!)
                            for y in 0..<ph {
                                let row = lum.baseAddress! + min(max(y - radius, 0), h - 1) * w, padded = b + y * pw
                                for x in 0..<radius { padded[x] = row[0]; padded[radius + w + x] = row[w - 1] }
                                (padded + radius).update(from: row, count: w)
                            }
                            // The running extremes run down columns, `extremeStrip` columns at a
                            // time (every inner loop over adjacent floats); the rows are columns of
                            // the transposed image. B -> (columns) A -> B transposed -> (rows) A, then
                            // (rows) B -> A transposed back -> (columns) B.
                            func columns(_ from: UnsafeMutablePointer<Float>, _ to: UnsafeMutablePointer<Float>, width: Int, height: Int, maximum: Bool) {
                                let strips = (width + extremeStrip - 1) / extremeStrip
                                inParallel(strips, threads: workers) { strip, worker in
                                    let x = strip * extremeStrip
                                    runningExtreme(from + x, to + x, step: width, lanes: min(extremeStrip, width - x), length: height,
                                                   radius: radius, maximum: maximum, prefix: g + worker * perWorker, suffix: hh + worker * perWorker)
                                }
                            }
                            func transposed(_ from: UnsafeMutablePointer<Float>, _ to: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
                                let bands = (rows + transposeTile - 1) / transposeTile
                                inParallel(bands, threads: workers) { band, _ in
                                    transpose(from, to, rows: rows, columns: columns, band: band * transposeTile..<min(rows, (band + 1) * transposeTile))
                                }
                            }
                            columns(b, a, width: pw, height: ph, maximum: darkInk)
                            transposed(a, b, rows: ph, columns: pw)
                            columns(b, a, width: ph, height: pw, maximum: darkInk)
                            columns(a, b, width: ph, height: pw, maximum: !darkInk)
                            transposed(b, a, rows: pw, columns: ph)
                            columns(a, b, width: pw, height: ph, maximum: !darkInk)
                        }
                    }
                }
            }
        }
        // The background of pixel (x, y) is B at (x + radius, y + radius).
        scratch.border.removeAll(keepingCapacity: true)
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            scratch.luminance.withUnsafeBufferPointer { lum in
                scratch.filterB.withUnsafeBufferPointer { closed in
                    for y in 0..<h {
                        let paper = closed.baseAddress! + (y + radius) * pw + radius, i0 = y * w
                        if darkInk {
                            for x in 0..<w { ink[i0 + x] = max(0, darkInkContrast(paper: paper[x], luminance: lum[i0 + x])) }
                        } else {
                            for x in 0..<w { ink[i0 + x] = max(0, lum[i0 + x] - paper[x]) }
                        }
                    }
                }
            }
        }
        for i in stride(from: 0, to: n, by: max(1, n / 8192)) { scratch.border.append(scratch.ink[i]) }
        let floor = 2 * select(&scratch.border, rank: scratch.border.count / 2)
        guard floor > 0 else { return }
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            for i in 0..<n { ink[i] = max(0, ink[i] - floor) }
        }
    }

    /// Columns handled together by `runningExtreme` in the column passes of `topHat`.
    static let extremeStrip = 64

    /// Side of the square tiles `transpose` copies at a time (they stay in cache).
    static let transposeTile = 32

    /// `output` (`columns` x `rows`) = `input` (`rows` x `columns`) transposed, for the rows `band`.
    static func transpose(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                          band: Range<Int>) {
        for x0 in stride(from: 0, to: columns, by: transposeTile) {
            for y in band {
                for x in x0..<min(columns, x0 + transposeTile) { output[x * rows + y] = input[y * columns + x] }
            }
        }
    }

    /// Runs `body(item, worker)` for every item in 0..<`count` on up to `threads` threads, worker
    /// `w` taking the items w, w + threads, ... (the items cost alike).
    static func inParallel(_ count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let workers = min(threads, count)
        guard workers > 1 else { for i in 0..<count { body(i, 0) }; return }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: count, by: workers) { body(i, worker) }
        }
    }

    /// Maximum (or minimum) over the window [i - radius, i + radius], clipped to the line, for every
    /// i of `lanes` lines of `length` values side by side: value i of lane j is `input[i * step + j]`
    /// (and the same in `output`). O(length) whatever the radius: van Herk (1992) / Gil-Werman (1993),
    /// blocks of 2 radius + 1 with their prefix and suffix extremes, so that a whole window is one
    /// suffix and one prefix. `prefix` and `suffix` hold `length * lanes` floats of scratch.
    static func runningExtreme(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, step: Int, lanes: Int,
                               length: Int, radius: Int, maximum: Bool, prefix g: UnsafeMutablePointer<Float>,
                               suffix hh: UnsafeMutablePointer<Float>) {
        let block = 2 * radius + 1
        // One copy of the loops per extreme: no per-value branch on `maximum`.
        @inline(__always) func run(_ pick: (Float, Float) -> Float) {
            @inline(__always) func combine(_ to: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) {
                for j in 0..<lanes { to[j] = pick(x[j], y[j]) }
            }
            var blockStart = 0
            while blockStart < length {
                let blockEnd = min(length, blockStart + block) - 1
                (g + blockStart * lanes).update(from: input + blockStart * step, count: lanes)
                if blockStart < blockEnd {
                    for i in (blockStart + 1)...blockEnd { combine(g + i * lanes, g + (i - 1) * lanes, input + i * step) }
                }
                (hh + blockEnd * lanes).update(from: input + blockEnd * step, count: lanes)
                var i = blockEnd - 1
                while i >= blockStart { combine(hh + i * lanes, hh + (i + 1) * lanes, input + i * step); i -= 1 }
                blockStart += block
            }
            // A whole window: the suffix of its first block and the prefix of its second (one block
            // when it starts a block). Windows cut by the start lie in the first block: its prefix.
            for i in 0..<length {
                let lo = i - radius, hi = i + radius
                if hi >= length { continue }
                if lo < 0 {
                    (output + i * step).update(from: g + hi * lanes, count: lanes)
                } else {
                    combine(output + i * step, hh + lo * lanes, g + hi * lanes)
                }
            }
            // Windows cut by the end: the extreme of the tail [lo, length - 1], grown backwards in `g`'s
            // first row (the prefixes are no longer needed).
            let tail = g, stop = max(0, length - 2 * radius)
            tail.update(from: input + (length - 1) * step, count: lanes)
            var lo = length - 1
            while true {
                if lo + radius < length { (output + (lo + radius) * step).update(from: tail, count: lanes) }
                if lo == stop { break }
                lo -= 1
                combine(tail, tail, input + lo * step)
            }
            // Windows cut at both ends (a line under 2 radius long): the whole line, now in `tail`.
            if stop == 0 {
                for i in stride(from: max(0, length - radius), to: min(radius, length), by: 1) { (output + i * step).update(from: tail, count: lanes) }
            }
        }
        if maximum { run { max($0, $1) } } else { run { min($0, $1) } }
    }

    /// Stage 3: `scratch.ink` = how far each pixel is from the local paper level towards the ink, in
    /// grey levels. The pixels are split over `threads` threads by rows.
    static func flatten(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, darkInk: Bool, threads: Int = 1,
                        blocksPerSide: Int) {
        let side = min(w, h) < minimumSideForFlattening ? max(w, h) : max(16, min(w, h) / blocksPerSide)
        let gw = (w + side - 1) / side, gh = (h + side - 1) / side
        resize(&scratch.grid, gw * gh)
        resize(&scratch.filterA, gw * gh)
        // Block paper levels: the 75th percentile (25th for light ink) of each block, subsampled to
        // about 1024 pixels a block, so that a block stays paper while ink covers under 75% of it.
        for by in 0..<gh {
            for bx in 0..<gw {
                scratch.border.removeAll(keepingCapacity: true)
                let x0 = bx * side, x1 = min(w, x0 + side), y0 = by * side, y1 = min(h, y0 + side)
                let step = max(1, Int(Double((x1 - x0) * (y1 - y0)).squareRoot() / 32))
                for y in stride(from: y0, to: y1, by: step) {
                    for x in stride(from: x0, to: x1, by: step) { scratch.border.append(scratch.luminance[y * w + x]) }
                }
                let count = scratch.border.count
                scratch.grid[by * gw + bx] = select(&scratch.border, rank: darkInk ? count * 3 / 4 : count / 4)
            }
        }
        // Blocks that thick ink fills read far darker (lighter) than a neighbour: they take the
        // neighbourhood's paper level. Shadows change gradually from block to block and stay.
        var low: Float = 255, high: Float = 0
        for v in scratch.grid { low = min(low, v); high = max(high, v) }
        let jump = max(minimumContrast, 0.3 * (high - low))
        for _ in 0..<2 {
            for by in 0..<gh {
                for bx in 0..<gw {
                    let v = scratch.grid[by * gw + bx]
                    var paper = v
                    for dy in -1...1 { for dx in -1...1 {
                        let x = bx + dx, y = by + dy
                        guard x >= 0, y >= 0, x < gw, y < gh else { continue }
                        paper = darkInk ? max(paper, scratch.grid[y * gw + x]) : min(paper, scratch.grid[y * gw + x])
                    } }
                    scratch.filterA[by * gw + bx] = abs(paper - v) > jump ? paper : v
                }
            }
            swap(&scratch.grid, &scratch.filterA)
        }
        // Smooth the levels over 3x3 blocks.
        for by in 0..<gh {
            for bx in 0..<gw {
                var sum: Float = 0, count: Float = 0
                for dy in -1...1 { for dx in -1...1 {
                    let x = bx + dx, y = by + dy
                    guard x >= 0, y >= 0, x < gw, y < gh else { continue }
                    sum += scratch.grid[y * gw + x]; count += 1
                } }
                scratch.filterA[by * gw + bx] = sum / count
            }
        }
        // Ink = distance from the interpolated paper level towards the ink side; the paper's noise,
        // measured on the other side (where ink never is), sets a floor of three standard deviations
        // (the median of a half-normal deviation is 0.674 sigma).
        scratch.border.removeAll(keepingCapacity: true)
        let step = max(1, (w * h) / 8192)
        // Each column's two grid cells and weight, computed once instead of for every row.
        resize(&scratch.columnCells, 2 * w)
        resize(&scratch.columnWeights, w)
        for x in 0..<w {
            let gx = min(max((Float(x) + 0.5) / Float(side) - 0.5, 0), Float(gw - 1))
            let ix = Int(gx)
            scratch.columnCells[2 * x] = Int32(ix); scratch.columnCells[2 * x + 1] = Int32(min(ix + 1, gw - 1))
            scratch.columnWeights[x] = gx - Float(ix)
        }
        // The signed distance first (rows in parallel), then the noise sampled from it, then the floor.
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            scratch.luminance.withUnsafeBufferPointer { lum in
                scratch.filterA.withUnsafeBufferPointer { grid in
                    scratch.columnCells.withUnsafeBufferPointer { cells in
                        scratch.columnWeights.withUnsafeBufferPointer { weights in
                            let bands = (h + flattenBand - 1) / flattenBand
                            inParallel(bands, threads: threads) { band, _ in
                                for y in (band * flattenBand)..<min(h, (band + 1) * flattenBand) {
                                    let gy = min(max((Float(y) + 0.5) / Float(side) - 0.5, 0), Float(gh - 1))
                                    let iy = Int(gy), ty = gy - Float(iy), iy1 = min(iy + 1, gh - 1)
                                    let top = grid.baseAddress! + iy * gw, bottom = grid.baseAddress! + iy1 * gw
                                    let lumRow = lum.baseAddress! + y * w, inkRow = ink.baseAddress! + y * w
                                    for x in 0..<w {
                                        let ix = Int(cells[2 * x]), ix1 = Int(cells[2 * x + 1]), tx = weights[x]
                                        let paper = (top[ix] * (1 - tx) + top[ix1] * tx) * (1 - ty)
                                            + (bottom[ix] * (1 - tx) + bottom[ix1] * tx) * ty
                                        inkRow[x] = darkInk ? paper - lumRow[x] : lumRow[x] - paper
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for i in stride(from: 0, to: w * h, by: step) where ink[i] < 0 { scratch.border.append(-ink[i]) }
            let floor = scratch.border.isEmpty ? 0 : 3 * select(&scratch.border, rank: scratch.border.count / 2) / 0.674
            for i in 0..<(w * h) { ink[i] = max(0, ink[i] - floor) }
        }
    }

    /// Rows per unit of work when `flatten` is split over threads.
    static let flattenBand = 32

    /// How much darker than its paper a pixel is, in grey levels of white paper: light falls on ink
    /// and paper alike, so the ratio to the local paper level, not the difference, is the same in a
    /// shadow as in full light (used once the polarity is known: it would exaggerate the grain of
    /// dark paper when the polarity is still being tried).
    @inline(__always)
    static func darkInkContrast(paper: Float, luminance: Float) -> Float {
        (paper - luminance) * 255 / max(paper, 48)
    }

    /// Stage 4: erases ruled lines, frames and specks from `scratch.ink`.
    /// - Returns: the stroke width of the writing (area-weighted over stroke-like components).
    /// - Throws: `ImageError.empty` when no stroke-like component is left.
    static func clean(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, strokeLevel: Float,
                      peak: Float) throws -> Float {
        eraseRuledLines(&scratch, width: w, height: h, strokeLevel: strokeLevel, peak: peak)
        label(&scratch, width: w, height: h, strokeLevel: strokeLevel)
        var strokeArea: Float = 0, widthSum: Float = 0, strokes = 0
        let side = min(w, h)
        for c in scratch.components where c.isStroke(imageSide: side) {
            strokeArea += Float(c.area); widthSum += Float(c.area) * c.strokeWidth; strokes += 1
        }
        guard strokes > 0 else { throw ImageError.empty("nothing written: no pen stroke, only specks or noise") }
        let strokeWidth = widthSum / strokeArea
        let ring = Float(2 * (w + h) - 4)
        let count = scratch.components.count
        // Decide per component: a frame (runs along the border, with other writing inside) or a speck.
        var keptStrokes = 0
        for k in 0..<count {
            let c = scratch.components[k]
            let frame = c.onBorder > 0 && Float(c.onBorder) >= frameBorderShare * ring && strokes > 1
            let stroke = c.isStroke(imageSide: side)
            let speck = !stroke && Float(c.area) < 0.5 * strokeWidth * strokeWidth
            if frame || speck { scratch.components[k].area = -1 } else if stroke { keptStrokes += 1 }
        }
        guard keptStrokes > 0 else { throw ImageError.empty("nothing written: no pen stroke inside the frame") }
        // Erase the removed components' pixels with the faint ink around them (their anti-aliasing),
        // and ink that belongs to no component: on images large enough to be flattened, all of it
        // (faint grid lines, paper texture); on small crops, only what is strong enough to move the crop.
        let isolated = min(w, h) >= minimumSideForFlattening ? 0 : cropThreshold * strokeLevel / strokeFraction
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            scratch.labels.withUnsafeBufferPointer { labels in
                scratch.components.withUnsafeBufferPointer { components in
                    for i in 0..<(w * h) {
                        let l = Int(labels[i])
                        if l > 0 ? components[l - 1].area < 0 : ink[i] > isolated { ink[i] = 0 }
                    }
                }
            }
        }
        return strokeWidth
    }

    /// Largest ratio of the widest to the narrowest spacing of three or more ruled lines
    /// (`eraseRuledLines`) that still counts as evenly spaced.
    static let evenSpacing: Float = 1.35

    /// Erases ruled and grid lines: bands of rows (or columns) along which ink runs across at least
    /// `ruledLineSpan` of the image, when they are lighter than the writing (under 60% of the
    /// strongest ink) or when there are at least three of them, evenly spaced (ruled paper). A glyph's own bars
    /// (the top of a tightly cropped "T" or "Z") are as dark as the rest of it and are kept. Pixels
    /// where a stroke crosses the line (ink just beyond the band on both sides) are kept.
    static func eraseRuledLines(_ scratch: inout NormalizerScratch, width w: Int, height h: Int,
                                strokeLevel: Float, peak: Float) {
        guard w >= minimumSideForFlattening, h >= minimumSideForFlattening else { return }
        let level = strokeLevel / 2
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            /// Rows (`horizontal`) or columns crossed by a line, and their mean ink.
            func lines(horizontal: Bool) -> [(index: Int, strength: Float)] {
                let (count, length) = horizontal ? (h, w) : (w, h)
                var found: [(Int, Float)] = []
                for k in 0..<count {
                    var best = 0, run = 0
                    var sum: Float = 0
                    for t in 0..<length {
                        let v = ink[horizontal ? k * w + t : t * w + k]
                        sum += v
                        if v >= level { run += 1; best = max(best, run) } else { run = 0 }
                    }
                    if Float(best) >= ruledLineSpan * Float(length) { found.append((k, sum / Float(length))) }
                }
                return found
            }
            for horizontal in [true, false] {
                let rows = lines(horizontal: horizontal)
                guard !rows.isEmpty else { continue }
                let (count, length) = horizontal ? (h, w) : (w, h)
                let gap = 3
                // Bands of adjacent rows: the first and last row of the band each row belongs to (rows
                // are in order).
                var bandStart = [Int](repeating: 0, count: rows.count), bandEnd = bandStart
                for i in rows.indices { bandStart[i] = i > 0 && rows[i].index == rows[i - 1].index + 1 ? bandStart[i - 1] : rows[i].index }
                for i in rows.indices.reversed() {
                    bandEnd[i] = i + 1 < rows.count && rows[i + 1].index == rows[i].index + 1 ? bandEnd[i + 1] : rows[i].index
                }
                // Three bands or more are ruled paper when evenly spaced, as rules and grids are; the
                // stems of a tightly cropped word ("hello": h, l, l) that span its height are not.
                let centres = rows.indices.filter { rows[$0].index == bandEnd[$0] }.map { Float(bandStart[$0] + bandEnd[$0]) / 2 }
                let spacings = zip(centres.dropFirst(), centres).map { $0 - $1 }
                let ruledPaper = centres.count >= 3 && spacings.max()! <= evenSpacing * spacings.min()!
                for (i, (k, strength)) in rows.enumerated() where ruledPaper || strength < 0.6 * peak {
                    // Beyond the band on both sides: a stroke crossing the line.
                    let before = bandStart[i] - gap, after = bandEnd[i] + gap
                    for t in 0..<length {
                        func at(_ kk: Int) -> Bool {
                            kk >= 0 && kk < count && ink[horizontal ? kk * w + t : t * w + kk] >= strokeLevel
                        }
                        if !(at(before) && at(after)) { ink[horizontal ? k * w + t : t * w + k] = 0 }
                    }
                }
            }
        }
    }

    /// Labels the 8-connected components of stroke pixels (`scratch.labels`: 0 for background, k for
    /// `scratch.components[k - 1]`); the faint ink around a component takes its label too.
    static func label(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, strokeLevel: Float) {
        let n = w * h
        resize(&scratch.labels, n)
        scratch.components.removeAll(keepingCapacity: true)
        scratch.stack.removeAll(keepingCapacity: true)
        let faint = cropThreshold * strokeLevel
        // Taken out of the scratch (no copy: its storage moves) while the ink and labels are borrowed.
        var components: [InkComponent] = [], stack: [Int32] = []
        swap(&components, &scratch.components); swap(&stack, &scratch.stack)
        scratch.ink.withUnsafeBufferPointer { inkBuffer in
            scratch.labels.withUnsafeMutableBufferPointer { labelBuffer in
                let ink = inkBuffer.baseAddress!, labels = labelBuffer.baseAddress!
                labels.update(repeating: 0, count: n)
                for start in 0..<n where labels[start] == 0 && ink[start] >= strokeLevel {
                    let id = Int32(components.count + 1)
                    var c = InkComponent(area: 0, boundary: 0, x0: Int32(w), y0: Int32(h), x1: -1, y1: -1, onBorder: 0)
                    labels[start] = id
                    stack.append(Int32(start))
                    while let top = stack.popLast() {
                        let i = Int(top), x = i % w, y = i / w
                        c.area += 1
                        c.x0 = min(c.x0, Int32(x)); c.x1 = max(c.x1, Int32(x)); c.y0 = min(c.y0, Int32(y)); c.y1 = max(c.y1, Int32(y))
                        if x == 0 || y == 0 || x == w - 1 || y == h - 1 { c.onBorder += 1 }
                        var edge = false
                        for dy in -1...1 {
                            for dx in -1...1 where dx != 0 || dy != 0 {
                                let xx = x + dx, yy = y + dy
                                guard xx >= 0, yy >= 0, xx < w, yy < h else { if dx == 0 || dy == 0 { edge = true }; continue }
                                let j = yy * w + xx
                                let v = ink[j]
                                if v < strokeLevel {
                                    if dx == 0 || dy == 0 { edge = true }
                                    // Faint neighbours (anti-aliasing) belong to the component without growing it.
                                    if v >= faint && labels[j] == 0 { labels[j] = id }
                                } else if labels[j] == 0 {
                                    labels[j] = id
                                    stack.append(Int32(j))
                                }
                            }
                        }
                        if edge { c.boundary += 1 }
                    }
                    components.append(c)
                }
            }
        }
        swap(&components, &scratch.components); swap(&stack, &scratch.stack)
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

/// Thickens thin strokes before an image is scaled down, so that a fine pen on a large canvas reads
/// like the pens the models were trained on.
enum StrokeWidth {
    /// Thinnest stroke, in output pixels, that the models see; thinner writing is thickened.
    static let minimumOutput: Float = 1.6

    /// Dilates `scratch.ink` (a `width` x `height` map) with a square of radius `radius` (a separable
    /// running maximum). Uses `scratch.filterA`.
    static func dilate(_ scratch: inout NormalizerScratch, width w: Int, height h: Int, radius r: Int) {
        guard r > 0 else { return }
        resize(&scratch.filterA, w * h)
        scratch.ink.withUnsafeMutableBufferPointer { ink in
            scratch.filterA.withUnsafeMutableBufferPointer { tmp in
                for y in 0..<h {
                    for x in 0..<w {
                        var v: Float = 0
                        for xx in max(0, x - r)...min(w - 1, x + r) { v = max(v, ink[y * w + xx]) }
                        tmp[y * w + x] = v
                    }
                }
                for y in 0..<h {
                    for x in 0..<w {
                        var v: Float = 0
                        for yy in max(0, y - r)...min(h - 1, y + r) { v = max(v, tmp[yy * w + x]) }
                        ink[y * w + x] = v
                    }
                }
            }
        }
    }

    /// The dilation radius, in input pixels, that brings a stroke `strokeWidth` pixels wide to at
    /// least `minimumOutput` pixels once scaled by `scale` (0 when it is wide enough).
    static func thickeningRadius(strokeWidth: Float, scale: Float) -> Int {
        guard strokeWidth * scale < minimumOutput, scale > 0 else { return 0 }
        return min(64, Int(((minimumOutput / scale - strokeWidth) / 2).rounded(.up)))
    }
}
