import Glibc

/// The ink map of a whole page (a note, a form field, a sheet): the same staged preprocessing as a
/// character or a line (composite, polarity, illumination flattening, ruled-line, frame and speck
/// removal), at a working resolution, for layout analysis.
public struct PageInk: Sendable {
    /// Width and height of the map, in pixels of the working resolution.
    public let width: Int, height: Int
    /// Ink strength in [0, 1], row-major (`width * height`).
    public let ink: [Float]
    /// Estimated pen width, in pixels of the map.
    public let strokeWidth: Float
    /// Original pixels per map pixel (1 when the page was not shrunk).
    public let scale: Double
    /// Ink above this strength counts as a stroke when binarising.
    public static let strokeThreshold: Float = InkMap.cropThreshold

    /// Largest side of the working resolution: a page is shrunk to fit it before preprocessing
    /// (about 100 dpi for an A4 sheet; a line of writing stays 20 pixels or more high).
    public static let workingSide = 2400

    /// Preprocesses a page, its costliest stage split over `threads` threads.
    /// - Parameter trace: when given, called after each stage as in `InkMap.extract`, for
    ///   `hwr preprocess --stages --page`.
    /// - Throws: `ImageError.empty` when nothing is written on it, `.invalidArgument` when it is under
    ///   `ImageLimits.minimumSide` on a side.
    public init(_ image: GrayImage, threads: Int = 1, trace: ((String, [Float], Int) -> Void)? = nil) throws {
        let fitted = image.fitted(maximumWidth: Self.workingSide, maximumHeight: Self.workingSide)
        let paper = Self.paperRegion(fitted)
        let sheet = paper == (0, 0, fitted.width, fitted.height) ? fitted : try fitted.cropped(x: paper.x, y: paper.y, width: paper.width, height: paper.height)
        var scratch = NormalizerScratch()
        strokeWidth = try InkMap.extract(sheet, scratch: &scratch, threads: threads, page: true, trace: trace)
        width = sheet.width; height = sheet.height
        ink = Array(scratch.ink.prefix(width * height))
        scale = Double(image.width) / Double(fitted.width)
        origin = (paper.x, paper.y)
    }

    /// Where the map's pixel (0, 0) is in the working-resolution image: the paper's corner when a
    /// dark surround (a table, a scanner lid) was cut away, else (0, 0).
    public let origin: (x: Int, y: Int)

    /// The sheet of paper in a photo with a dark surround: the longest runs of rows and of columns
    /// whose mean luminance is nearer the paper's than the surround's, inset by 1%, when the
    /// surround is clearly darker than the paper (by 60 grey levels or more), near black (its rows
    /// or columns average under 80) or mid-grey (under 160: a desk) and then on rows and columns
    /// alike, covers at least 4% of the image and holds no writing (a shadow on the paper does);
    /// the whole image otherwise (a dark-ink page, or paper to the edges). Without the crop, a white
    /// sheet on a mid-grey desk was taken for light ink (the sheet) on dark paper (the desk).
    static func paperRegion(_ image: GrayImage) -> (x: Int, y: Int, width: Int, height: Int) {
        let (w, h) = (image.width, image.height)
        let whole = (0, 0, w, h)
        guard w >= 64, h >= 64 else { return whole }
        /// The mean luminance of each row (`rows`) over the columns `across`, or of each column over
        /// the rows `across`.
        func means(rows: Bool, across: Range<Int>) -> [Double] {
            var mean = [Double](repeating: 0, count: rows ? h : w)
            for y in rows ? 0..<h : across {
                for x in rows ? across : 0..<w { mean[rows ? y : x] += Double(image.pixels[y * w + x]) }
            }
            return mean.map { $0 / Double(across.count) }
        }
        /// The longest run of values above the midpoint of the lowest fiftieth (a border of 1% on
        /// each side counts) and the highest tenth, and whether the surround is near black.
        func brightRun(_ v: [Double]) -> (run: Range<Int>, nearBlack: Bool)? {
            let sorted = v.sorted()
            let dark = sorted[sorted.count / 50], bright = sorted[sorted.count * 9 / 10]
            guard bright - dark >= 60, dark < 160 else { return nil }
            let mid = (dark + bright) / 2
            var best = 0..<0, start = -1
            for i in 0...v.count {
                if i < v.count && v[i] > mid { if start < 0 { start = i } } else if start >= 0 {
                    if i - start > best.count { best = start..<i }
                    start = -1
                }
            }
            return (best, dark < 80)
        }
        /// Whether the rows (or columns) outside `kept`, more than 2% of the image away from it, hold
        /// writing in the span `across` of the other axis: pixels 40 grey levels or more under their
        /// row's (column's) median, on 0.2% of those pixels or more. Paper in a shadow does; a table
        /// or a scanner lid does not.
        func writtenOutside(_ kept: Range<Int>, across: Range<Int>, rows: Bool) -> Bool {
            let count = rows ? h : w, margin = max(2, count / 50)
            var dark = 0, seen = 0
            var line = [Float](repeating: 0, count: across.count), sorted = line
            for k in 0..<count where k < kept.lowerBound - margin || k >= kept.upperBound + margin {
                for (i, t) in across.enumerated() { line[i] = Float(rows ? image.pixels[k * w + t] : image.pixels[t * w + k]) }
                sorted = line
                let median = InkMap.select(&sorted, rank: line.count / 2)
                for v in line where v <= median - 40 { dark += 1 }
                seen += line.count
            }
            return seen > 0 && dark * 500 >= seen
        }
        var rowRun = brightRun(means(rows: true, across: 0..<w)), columnRun = brightRun(means(rows: false, across: 0..<h))
        // A small sheet in the middle of a desk changes the means along its long side too little:
        // they are taken again over the sheet's span found on the other axis.
        if let c = columnRun, rowRun == nil { rowRun = brightRun(means(rows: true, across: c.run)) }
        if let r = rowRun, columnRun == nil { columnRun = brightRun(means(rows: false, across: r.run)) }
        var rows = rowRun?.run ?? 0..<h, columns = columnRun?.run ?? 0..<w
        let (keptRows, keptColumns) = (rows, columns)
        if rows != 0..<h, writtenOutside(keptRows, across: keptColumns, rows: true) { rows = 0..<h }
        if columns != 0..<w, writtenOutside(keptColumns, across: keptRows, rows: false) { columns = 0..<w }
        guard rows.count * columns.count < w * h * 96 / 100, rows.count >= h / 5, columns.count >= w / 5 else { return whole }
        // A mid-grey surround (a desk, a wooden table) counts only around the sheet, on rows and
        // columns alike: on one side alone it can be a soft shadow across the paper, whose edge
        // (writing included) the crop would cut into.
        let midGrey = rowRun.map { !$0.nearBlack } ?? false || columnRun.map { !$0.nearBlack } ?? false
        guard !midGrey || (rows != 0..<h && columns != 0..<w) else { return whole }
        let insetX = max(1, w / 100), insetY = max(1, h / 100)
        let x0 = min(w - 1, columns.lowerBound + insetX), y0 = min(h - 1, rows.lowerBound + insetY)
        let x1 = max(x0 + 16, columns.upperBound - insetX), y1 = max(y0 + 16, rows.upperBound - insetY)
        return (x0, y0, min(w, x1) - x0, min(h, y1) - y0)
    }
}

extension GrayImage {
    /// The rectangle at (`x`, `y`) of `width` x `height` pixels.
    /// - Throws: `ImageError.invalidArgument` when it is not inside the image.
    public func cropped(x: Int, y: Int, width cw: Int, height ch: Int) throws -> GrayImage {
        guard x >= 0, y >= 0, cw > 0, ch > 0, x + cw <= width, y + ch <= height else {
            throw ImageError.invalidArgument("crop \(cw)x\(ch) at (\(x), \(y)) is outside the \(width)x\(height) image")
        }
        var grey = [UInt8](repeating: 0, count: cw * ch)
        var opacity: [UInt8]? = alpha.map { _ in [UInt8](repeating: 0, count: cw * ch) }
        for row in 0..<ch {
            for col in 0..<cw {
                grey[row * cw + col] = pixels[(y + row) * width + x + col]
                if let a = alpha { opacity![row * cw + col] = a[(y + row) * width + x + col] }
            }
        }
        return try GrayImage(width: cw, height: ch, pixels: grey, alpha: opacity)
    }
}
