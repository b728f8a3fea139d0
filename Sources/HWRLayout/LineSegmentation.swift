import Glibc
import HWRImage

/// An axis-aligned rectangle, in pixels: `x`, `y` of its top-left corner, then its size.
public struct Box: Equatable, Sendable, Codable {
    /// Left and top edges.
    public var x: Int, y: Int
    /// Width and height.
    public var width: Int, height: Int

    /// A box.
    public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }
}

/// A text line found on a page, ready for the line recogniser.
public struct SegmentedLine: Sendable {
    /// The line's ink alone (its connected components), deskewed: strengths in [0, 1] (`width *
    /// height`, row-major; 0: paper), the page's ink map cut out, for
    /// `LineNormalizer.normalize(ink:width:height:strokeWidth:)`.
    public var ink: [Float]
    /// Size of `ink`, in pixels of the page's working resolution.
    public var width: Int, height: Int
    /// Where the line is in the original image (after EXIF orientation), in its pixels.
    public var box: Box
    /// The columns of `ink` that hold ink (the line's own components), left edge and width.
    public var inkX: Int, inkWidth: Int
    /// Height of the line's ink, in pixels.
    public var inkHeight: Int
    /// Maps a span of columns of `ink` (`x0..<x1`) to a box in the original image.
    let toOriginal: @Sendable (_ x0: Double, _ x1: Double) -> Box

    /// The box in the original image of the columns `x0..<x1` of `ink` (the line's full height).
    public func box(columns x0: Double, _ x1: Double) -> Box { toOriginal(x0, x1) }
}

/// The text lines of a page, top to bottom.
public struct PageLayout: Sendable {
    /// The page's skew, in degrees (positive: lines rise to the right); corrected before segmentation.
    public var skewDegrees: Double
    /// The lines, top to bottom.
    public var lines: [SegmentedLine]
}

/// Line segmentation of a preprocessed page: skew estimated and corrected by the projection-profile
/// method (the angle whose row profile of ink has the largest variance; Postl 1986, Baird 1987), the
/// connected components of the ink grouped into lines by the rows their cores (the middle half of
/// each component's height, so ascenders and descenders do not join lines) cover, bands that hold two
/// lines split at the deepest valley of that profile, and every component given to the line it
/// overlaps most (dots, accents and descenders that touch the next line included). Lines of any
/// length, indentation and alignment are found; a margin line and specks are removed before, by the
/// page preprocessing.
public enum LineSegmentation {
    /// A component whose strongest ink is under this share of the page's strongest is faint: a pen
    /// stroke's core reaches near the strongest ink, a light printed rule does not.
    static let faintRulePeak: Float = 0.5

    /// Largest skew corrected, in degrees.
    public static let maximumSkewDegrees = 6.0
    /// Step of the skew search, in degrees.
    static let skewStep = 0.25

    /// Finds the lines of a page.
    /// - Parameter originalSize: width and height of the image the page ink was computed from.
    public static func segment(_ page: PageInk, originalSize: (width: Int, height: Int)) -> PageLayout {
        let (w, h) = (page.width, page.height)
        let skew = estimateSkew(page)
        let ink = abs(skew) < skewStep / 2 ? page.ink : Skew.rotate(page.ink, width: w, height: h, degrees: -skew)
        let (labels, found) = connectedComponents(ink, width: w, height: h, threshold: PageInk.strokeThreshold)
        let writing = writingComponents(found, width: w, height: h)
        let components = writing.map { found[$0] }
        let bands = lineBands(components, height: h)
        // A band of dots, accents or commas alone (no mark in it a third of a character's height: the
        // dots over a line of i's written far above it) is not a line, and its marks are left out: read
        // as a line of their own they came back as "o"s, joined to the line below they move its crop.
        let typical = typicalHeight(components)
        let marksOnly = bands.map { band in !components.contains { 3 * ($0.y1 - $0.y0) >= typical && band.overlaps($0.core) } }
        var members = [[Int]](repeating: [], count: bands.count)
        for (k, c) in components.enumerated() {
            guard let line = bestBand(c, bands), !marksOnly[line] else { continue }
            members[line].append(writing[k])
        }
        members = members.map { withoutDrawing($0, found, typical: typical) }
        // Inverse mapping: deskewed map -> map -> original pixels.
        let angle = skew * .pi / 180, cx = Double(w) / 2, cy = Double(h) / 2
        let scale = page.scale
        let ox = Double(page.origin.x), oy = Double(page.origin.y)
        @Sendable func original(_ x: Double, _ y: Double) -> (Double, Double) {
            let dx = x - cx, dy = y - cy
            return ((ox + cx + dx * cos(angle) + dy * sin(angle)) * scale, (oy + cy - dx * sin(angle) + dy * cos(angle)) * scale)
        }
        @Sendable func box(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Box {
            let corners = [original(x0, y0), original(x1, y0), original(x0, y1), original(x1, y1)]
            let left = max(0, Int(corners.map(\.0).min()!.rounded(.down)))
            let top = max(0, Int(corners.map(\.1).min()!.rounded(.down)))
            let right = min(originalSize.width, Int(corners.map(\.0).max()!.rounded(.up)))
            let bottom = min(originalSize.height, Int(corners.map(\.1).max()!.rounded(.up)))
            return Box(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
        }

        var lines: [SegmentedLine] = []
        // Whether a label belongs to the line being cut (a table, not a set: it is read for every
        // pixel around the line).
        var own = [Bool](repeating: false, count: (labels.max() ?? 0) + 1)
        for ids in members where !ids.isEmpty {
            let x0 = ids.map { found[$0].x0 }.min()!, x1 = ids.map { found[$0].x1 }.max()!
            let y0 = ids.map { found[$0].y0 }.min()!, y1 = ids.map { found[$0].y1 }.max()!
            let mass = ids.reduce(0) { $0 + found[$1].count }
            // A line holds at least a short stroke's worth of ink.
            guard mass >= Int(max(4, 3 * page.strokeWidth * page.strokeWidth)), y1 - y0 >= 3 else { continue }
            for id in ids where id + 1 < own.count { own[id + 1] = true }
            defer { for id in ids where id + 1 < own.count { own[id + 1] = false } }
            let margin = max(2, (y1 - y0) / 4)
            let cw = x1 - x0 + 2 * margin, ch = y1 - y0 + 2 * margin
            var lineInk = [Float](repeating: 0, count: cw * ch)
            for y in max(0, y0 - margin)..<min(h, y1 + margin) {
                for x in max(0, x0 - margin)..<min(w, x1 + margin) {
                    // The line's own strokes, with their soft edges (pixels next to one of its components).
                    var mine = false
                    for dy in -1...1 where !mine {
                        for dx in -1...1 {
                            let yy = y + dy, xx = x + dx
                            if yy >= 0, yy < h, xx >= 0, xx < w, own[labels[yy * w + xx]] { mine = true; break }
                        }
                    }
                    guard mine else { continue }
                    lineInk[(y - y0 + margin) * cw + (x - x0 + margin)] = ink[y * w + x]
                }
            }
            let left = Double(x0 - margin), top = Double(y0), bottom = Double(y1)
            let lineBox = box(Double(x0), top, Double(x1), bottom)
            lines.append(SegmentedLine(ink: lineInk, width: cw, height: ch, box: lineBox, inkX: margin, inkWidth: x1 - x0, inkHeight: y1 - y0,
                                       toOriginal: { a, b in box(left + a, top, left + b, bottom) }))
        }
        lines.sort { $0.box.y < $1.box.y }
        return PageLayout(skewDegrees: skew, lines: lines)
    }

    /// The gaps between words: runs of ink-free columns (of `inkColumns`) between the first and last
    /// ink, at least `minimum` wide and, when the line's gaps fall into two groups, in the wider one.
    /// The groups: Otsu's threshold on the gap widths (Otsu 1979), kept when the wider group's mean
    /// is at least twice the narrower's; the gaps between the letters of a loosely written word are
    /// narrower than those between its words, however loosely the writer spaces (gap metrics, Seni
    /// and Cohen 1994).
    public static func wordGaps(_ inkColumns: [Bool], minimum: Int) -> [Range<Int>] {
        guard let first = inkColumns.firstIndex(of: true), let last = inkColumns.lastIndex(of: true) else { return [] }
        var gaps: [Range<Int>] = []
        var x = first
        while x <= last {
            guard !inkColumns[x] else { x += 1; continue }
            let start = x
            while x <= last && !inkColumns[x] { x += 1 }
            gaps.append(start..<x)
        }
        let widths = gaps.map(\.count).sorted()
        var threshold = minimum
        if widths.count >= 3 {
            // The split of the sorted widths with the largest between-group variance.
            let total = widths.reduce(0, +)
            var best = (variance: 0.0, at: 0), below = 0
            for k in 1..<widths.count {
                below += widths[k - 1]
                let n0 = Double(k), n1 = Double(widths.count - k)
                let m0 = Double(below) / n0, m1 = Double(total - below) / n1
                let variance = n0 * n1 * (m1 - m0) * (m1 - m0)
                if variance > best.variance, m1 >= 2 * m0 { best = (variance, k) }
            }
            if best.at > 0 { threshold = max(minimum, widths[best.at]) }
        }
        return gaps.filter { $0.count >= threshold }
    }

    /// A connected component of ink: bounding box (`x1`, `y1` exclusive), pixel count and strongest ink.
    struct Component {
        var x0: Int, y0: Int, x1: Int, y1: Int, count: Int
        var peak: Float = 0
        /// The middle half of its height: the rows that say which line it belongs to.
        var core: Range<Int> { let q = (y1 - y0) / 4; return (y0 + q)..<max(y0 + q + 1, y1 - q) }
    }

    /// 8-connected components of the pixels above `threshold`; labels are 1-based (0: no ink).
    static func connectedComponents(_ ink: [Float], width w: Int, height h: Int, threshold: Float) -> ([Int], [Component]) {
        var labels = [Int](repeating: 0, count: w * h)
        var components: [Component] = []
        var stack: [Int] = []
        for start in 0..<(w * h) where labels[start] == 0 && ink[start] > threshold {
            let id = components.count + 1
            var c = Component(x0: start % w, y0: start / w, x1: start % w + 1, y1: start / w + 1, count: 0)
            labels[start] = id
            stack.append(start)
            while let p = stack.popLast() {
                let x = p % w, y = p / w
                c.count += 1
                c.peak = max(c.peak, ink[p])
                c.x0 = min(c.x0, x); c.x1 = max(c.x1, x + 1); c.y0 = min(c.y0, y); c.y1 = max(c.y1, y + 1)
                for dy in -1...1 {
                    let yy = y + dy
                    guard yy >= 0, yy < h else { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        guard xx >= 0, xx < w else { continue }
                        let q = yy * w + xx
                        if labels[q] == 0 && ink[q] > threshold { labels[q] = id; stack.append(q) }
                    }
                }
            }
            components.append(c)
        }
        return (labels, components)
    }

    /// The components that can be writing (indices into `components`): not what the page
    /// preprocessing left of its surroundings. Dropped: solid blobs (a shadow's or a frame's remains:
    /// more than half of their box is ink, and they are larger than a character), long thin rules
    /// (a margin line or a ruled line: fifteen times longer than wide and longer than three characters),
    /// the pieces of a margin line that ruled-line removal cut apart (see `brokenRulePieces`), and
    /// pieces along the image's border (a frame's texture, the tip of a shadow's wedge: within the
    /// outer 3% and reaching within 1% of the border, or touching it and larger than two characters).
    static func writingComponents(_ components: [Component], width w: Int, height h: Int) -> [Int] {
        let typical = typicalHeight(components.filter { $0.x0 > 1 && $0.y0 > 1 && $0.x1 < w - 1 && $0.y1 < h - 1 })
        let band = max(2, min(w, h) * 3 / 100), near = max(1, min(w, h) / 100)
        let brokenRule = brokenRulePieces(components, typical: typical, height: h)
        return components.indices.filter { i in
            guard !brokenRule.contains(i) else { return false }
            let c = components[i], cw = c.x1 - c.x0, ch = c.y1 - c.y0
            let solid = c.count * 2 > cw * ch && min(cw, ch) > 2 * typical
            let rule = max(cw, ch) > 3 * typical && max(cw, ch) > 15 * max(1, min(cw, ch))
            let touches = c.x0 <= 1 || c.y0 <= 1 || c.x1 >= w - 1 || c.y1 >= h - 1
            let nearly = c.x0 <= near || c.y0 <= near || c.x1 >= w - near || c.y1 >= h - near
            let inBand = c.x1 <= band || c.y1 <= band || c.x0 >= w - band || c.y0 >= h - band
            let edge = (nearly && inBand) || (touches && max(cw, ch) > 2 * typical)
            return !solid && !rule && !edge
        }
    }

    /// Pieces of one vertical rule: thin vertical components, four times higher than wide, of which
    /// three or more lie in one column (their x ranges overlap, the page deskewed) and together span
    /// 40% of the page's height. Each piece is at least a character high (a margin line cut where
    /// ruled lines crossed it), or a quarter of one and faint (`faintRulePeak`: a thin rule turned a
    /// little with the paper is resampled into pixels that hold a share of it, and only the runs
    /// where it falls on one column of pixels stay above the stroke threshold). The faint crumbs
    /// of such a rule inside the column, however short, go with it.
    static func brokenRulePieces(_ components: [Component], typical: Int, height h: Int) -> Set<Int> {
        let thin = components.indices.filter { i in
            let c = components[i], cw = c.x1 - c.x0, ch = c.y1 - c.y0
            let tallEnough = ch >= typical || (c.peak < faintRulePeak && 4 * ch >= typical)
            return tallEnough && ch >= 4 * max(1, cw)
        }
        var pieces = Set<Int>()
        for i in thin where !pieces.contains(i) {
            let a = components[i]
            let column = thin.filter { j in components[j].x0 <= a.x1 + 1 && components[j].x1 + 1 >= a.x0 }
            guard column.count >= 3,
                  let top = column.map({ components[$0].y0 }).min(), let bottom = column.map({ components[$0].y1 }).max(),
                  (bottom - top) * 10 >= h * 4 else { continue }
            pieces.formUnion(column)
            // The rule's faint crumbs in the same column, however short.
            let left = column.map { components[$0].x0 }.min()!, right = column.map { components[$0].x1 }.max()!
            pieces.formUnion(components.indices.filter { j in
                let c = components[j]
                return c.peak < faintRulePeak && c.x0 >= left - 1 && c.x1 <= right + 1
            })
        }
        return pieces
    }

    /// A character's typical height: the median height of the components that are not specks
    /// (4 pixels or more), at least 3.
    static func typicalHeight(_ components: [Component]) -> Int {
        let heights = components.filter { $0.count >= 4 }.map { $0.y1 - $0.y0 }.sorted()
        return max(3, heights.isEmpty ? 3 : heights[heights.count / 2])
    }

    /// The row bands of the lines: runs of rows covered by components' cores (weighted by width),
    /// nearby runs joined, and bands holding two lines split at the deepest valley.
    static func lineBands(_ components: [Component], height h: Int) -> [Range<Int>] {
        guard !components.isEmpty else { return [] }
        let typical = typicalHeight(components)
        var profile = [Double](repeating: 0, count: h)
        for c in components where c.count >= 4 && c.y1 - c.y0 <= 4 * typical {
            for y in c.core { profile[y] += Double(c.x1 - c.x0) }
        }
        var bands: [Range<Int>] = []
        var y = 0
        while y < h {
            guard profile[y] > 0 else { y += 1; continue }
            let start = y
            while y < h && profile[y] > 0 { y += 1 }
            bands.append(start..<y)
        }
        // Join runs closer than a quarter of a character's height (a broken baseline).
        var joined: [Range<Int>] = []
        for band in bands {
            if let last = joined.last, band.lowerBound - last.upperBound < max(2, typical / 4) {
                joined[joined.count - 1] = last.lowerBound..<band.upperBound
            } else {
                joined.append(band)
            }
        }
        // No band when every component is a speck (under 4 pixels) or a giant (found by the fuzzer,
        // through auto mode's page check).
        guard !joined.isEmpty else { return [] }
        // Split bands much taller than the median band at their deepest interior valley (the lower
        // median: of two bands, one holding two lines joined by a descender, the other is the line).
        let median = joined.map(\.count).sorted()[(joined.count - 1) / 2]
        var result: [Range<Int>] = []
        var pending = joined
        while let band = pending.first {
            pending.removeFirst()
            guard band.count > 2 * max(median, typical), band.count >= 6 else { result.append(band); continue }
            let inner = (band.lowerBound + band.count / 4)..<(band.upperBound - band.count / 4)
            let valley = inner.min { profile[$0] < profile[$1] }!
            let peak = min(profile[band.lowerBound..<valley].max() ?? 0, profile[valley..<band.upperBound].max() ?? 0)
            if profile[valley] < 0.5 * peak {
                pending.insert(contentsOf: [band.lowerBound..<valley, valley..<band.upperBound], at: 0)
            } else {
                result.append(band)
            }
        }
        return result
    }

    /// A line's components (indices into `components`) without the drawings beside its writing.
    /// The components fall into groups split by gaps wider than twice their median height; a group
    /// over 1.5 times as tall as all the others together and over three times the page's `typical`
    /// character height is a drawing (a star or a flower drawn beside a line made the line's crop so
    /// tall that its writing was read as a few letters). A tall word beside short ones ("name:
    /// Jolly") stays under three character heights; a signature on a line of its own is one group.
    static func withoutDrawing(_ ids: [Int], _ components: [Component], typical: Int) -> [Int] {
        guard ids.count >= 2 else { return ids }
        let heights = ids.map { components[$0].y1 - components[$0].y0 }.sorted()
        let gap = 2 * heights[heights.count / 2]
        var groups: [[Int]] = []
        var right = Int.min
        for id in ids.sorted(by: { components[$0].x0 < components[$1].x0 }) {
            if groups.isEmpty || components[id].x0 > right + gap { groups.append([]) }
            groups[groups.count - 1].append(id)
            right = max(right, components[id].x1)
        }
        guard groups.count >= 2 else { return ids }
        func span(_ group: [Int]) -> Int { group.map { components[$0].y1 }.max()! - group.map { components[$0].y0 }.min()! }
        let drawings = groups.indices.filter { g in
            let rest = groups.indices.filter { $0 != g }.flatMap { groups[$0] }
            let height = span(groups[g])
            return 2 * height > 3 * span(rest) && height > 3 * typical
        }
        // Never all of it: the tallest of several drawings stays with the line.
        guard !drawings.isEmpty, drawings.count < groups.count else { return ids }
        return groups.indices.filter { !drawings.contains($0) }.flatMap { groups[$0] }
    }

    /// The band a component belongs to: the one its rows overlap most, else the nearest.
    static func bestBand(_ c: Component, _ bands: [Range<Int>]) -> Int? {
        guard !bands.isEmpty else { return nil }
        let rows = c.y0..<c.y1
        let overlaps = bands.map { $0.clamped(to: rows).count }
        if let best = overlaps.indices.max(by: { overlaps[$0] < overlaps[$1] }), overlaps[best] > 0 { return best }
        let center = (c.y0 + c.y1) / 2
        return bands.indices.min { abs((bands[$0].lowerBound + bands[$0].upperBound) / 2 - center) < abs((bands[$1].lowerBound + bands[$1].upperBound) / 2 - center) }
    }

    /// The skew of the page, in degrees: the angle in ±`maximumSkewDegrees` whose row profile of the
    /// ink (each ink pixel projected along that angle) has the largest sum of squares.
    public static func estimateSkew(_ page: PageInk) -> Double {
        let (points, bins) = Skew.profilePoints(page.ink, width: page.width, height: page.height, threshold: PageInk.strokeThreshold)
        guard points.count >= 20 else { return 0 }
        return Skew.bestProfile(points, bins: bins, range: maximumSkewDegrees, step: skewStep).degrees
    }

    /// Whether the page's lines run down the image rather than across it (a page turned a quarter
    /// with no EXIF tag): the column profile of its ink at its best angle has over `ratio` times the
    /// sum of squares of the row profile at its best angle. On 60 upright validation notes the row
    /// profile's was 1.4 to 30 times the column profile's (a note of one short word comes nearest):
    /// a page takes a ratio of 2; one word or line, a smaller one (`Recognizer.quarterTurnLineRatio`).
    public static func linesRunDown(_ page: PageInk, ratio: Double = 2) -> Bool {
        let (points, bins) = Skew.profilePoints(page.ink, width: page.width, height: page.height, threshold: PageInk.strokeThreshold)
        guard points.count >= 20 else { return false }
        // Whole degrees are fine enough to tell rows from columns, at a quarter of the skew search's cost.
        func score(_ p: [(Double, Double)]) -> Double { Skew.bestProfile(p, bins: bins, range: maximumSkewDegrees, step: 1).score }
        return score(points.map { ($0.1, $0.0) }) > ratio * score(points)
    }

    /// Least ratio between the ink below the lines' cores and the ink above them, or the reverse,
    /// that makes a page look upside down, or upright (`halfTurnEvidence`).
    static let halfTurnRatio: Float = 1.15

    /// What a page's ink says about whether it is upside down (`halfTurnEvidence`).
    public enum HalfTurnEvidence: Sendable {
        /// More ink above the lines' cores than below them.
        case upright
        /// About as much above as below: capitals and digits, or too little writing.
        case undecided
        /// More ink below the lines' cores than above them.
        case upsideDown
    }

    /// Whether the page's lines look upright or upside down (a page turned half a turn with no EXIF
    /// tag). Latin writing has more ink above its core (the band of rows holding at least half the
    /// ink of the line's fullest row: the x-height) than below it: ascenders, capitals and digits
    /// rise above it, only descenders hang below. Over the validation lines (Stanford, Washington,
    /// Hooker, fonts, composed) the ink above was 1.3 to 2.2 times the ink below; upside down the
    /// ratio inverts. Decided when one side holds over `halfTurnRatio` times the other's ink, over
    /// all the lines; lines of capitals or digits are about balanced.
    public static func halfTurnEvidence(_ layout: PageLayout) -> HalfTurnEvidence {
        var above: Float = 0, below: Float = 0
        for line in layout.lines {
            let (a, b) = inkAroundCore(line.ink, width: line.width, height: line.height)
            above += a; below += b
        }
        return evidence(above: above, below: below)
    }

    /// `halfTurnEvidence` of one line's ink map (`width * height` strengths, row-major, ink
    /// positive), such as a normalised line: a word or line read on its own.
    public static func halfTurnEvidence(line ink: [Float], width: Int, height: Int) -> HalfTurnEvidence {
        let (above, below) = inkAroundCore(ink, width: width, height: height)
        return evidence(above: above, below: below)
    }

    /// The decision of `halfTurnEvidence` from the ink above and below the lines' cores.
    static func evidence(above: Float, below: Float) -> HalfTurnEvidence {
        if below > halfTurnRatio * above { return .upsideDown }
        if above > halfTurnRatio * below { return .upright }
        return .undecided
    }

    /// The ink of a line's ink map above and below its core (the band of rows holding at least half
    /// the ink of its fullest row); (0, 0) for a map with no ink.
    static func inkAroundCore(_ ink: [Float], width: Int, height: Int) -> (above: Float, below: Float) {
        guard width > 0, height > 0, ink.count >= width * height else { return (0, 0) }
        var rows = [Float](repeating: 0, count: height)
        for y in 0..<height {
            for x in 0..<width { rows[y] += ink[y * width + x] }
        }
        guard let fullest = rows.indices.max(by: { rows[$0] < rows[$1] }), rows[fullest] > 0 else { return (0, 0) }
        var top = fullest, bottom = fullest
        while top > 0 && rows[top - 1] >= rows[fullest] / 2 { top -= 1 }
        while bottom < height - 1 && rows[bottom + 1] >= rows[fullest] / 2 { bottom += 1 }
        return (rows[..<top].reduce(0, +), rows[(bottom + 1)...].reduce(0, +))
    }
}
