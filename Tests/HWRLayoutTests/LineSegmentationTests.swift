import Foundation
import HWRImage
import HWRLayout
import XCTest

/// Line segmentation on synthetic pages whose lines are known: bars of "writing" (dashes of ink of
/// character size, with gaps) of different lengths and indentations, turned by a known angle.
final class LineSegmentationTests: XCTestCase {
    /// A page `width` x `height` with `rows` lines of dashes starting at `indent` and `length` pixels
    /// long, each `glyph` high, turned by `degrees` about the centre; the lines' top edges.
    func page(width: Int = 900, height: Int = 700, glyph: Int = 30, pitch: Int = 70,
              lines: [(indent: Int, length: Int)], degrees: Double) throws -> (GrayImage, [Int]) {
        var flat = [UInt8](repeating: 255, count: width * height)
        var tops: [Int] = []
        for (k, line) in lines.enumerated() {
            let top = 60 + k * pitch
            tops.append(top)
            for x in line.indent..<min(width - 10, line.indent + line.length) where (x / 12) % 3 != 2 {
                // A descender every fourth dash reaches towards the next line.
                let bottom = top + ((x / 12) % 4 == 0 ? glyph + glyph / 2 : glyph)
                for y in top..<min(height, bottom) where (x % 12) < 4 || y == top || y == bottom - 1 { flat[y * width + x] = 20 }
            }
        }
        // Turn by `degrees` (positive: the lines rise to the right), nearest neighbour, white outside.
        let a = degrees * .pi / 180, cx = Double(width) / 2, cy = Double(height) / 2
        var turned = [UInt8](repeating: 255, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let sx = Int((cx + dx * cos(a) - dy * sin(a)).rounded()), sy = Int((cy + dx * sin(a) + dy * cos(a)).rounded())
                if sx >= 0, sx < width, sy >= 0, sy < height { turned[y * width + x] = flat[sy * width + sx] }
            }
        }
        return (try GrayImage(width: width, height: height, pixels: turned), tops)
    }

    /// Page preprocessing split over threads (top-hat strips and tiles, flattening bands) gives the
    /// ink map of one thread, to the bit: on a pencil photo in uneven light, a note in a shadow, a note
    /// on grid paper and the benchmark's 1600x1200 note.
    func testPagePreprocessingIsTheSameOnOneThreadAndOnThree() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
        for file in ["Tests/Fixtures/inputs/15-photo-uneven-light-pencil.jpg", "Tests/Fixtures/notes/note-003.jpg", "Tests/Fixtures/notes/note-002.jpg",
                     "Benchmarks/fixtures/note-6-lines-1600x1200.jpg"] {
            let image = try GrayImage(contentsOfFile: "\(root)/\(file)")
            let one = try PageInk(image, threads: 1), three = try PageInk(image, threads: 3)
            XCTAssertEqual(one.ink, three.ink, file)
            XCTAssertEqual(one.strokeWidth, three.strokeWidth, file)
        }
    }

    /// Ink columns: runs of `ink` columns separated by the given gaps.
    func columns(ink: Int, gaps: [Int]) -> [Bool] {
        gaps.reduce([Bool](repeating: true, count: ink)) { $0 + [Bool](repeating: false, count: $1) + [Bool](repeating: true, count: ink) }
    }

    func testWordGapsAreTheWiderGroupOfALinesGaps() {
        // Loosely spaced capitals (letter gaps of 5-7 columns, over the minimum of 4) in three words.
        let line = columns(ink: 10, gaps: [5, 7, 6, 24, 5, 6, 28, 7, 5])
        XCTAssertEqual(LineSegmentation.wordGaps(line, minimum: 4).map(\.count), [24, 28])
        // Gaps all alike: every gap over the minimum separates words ("A B C D").
        XCTAssertEqual(LineSegmentation.wordGaps(columns(ink: 10, gaps: [12, 13, 12]), minimum: 4).map(\.count), [12, 13, 12])
        // Narrow breaks in joined writing never do, even when they form a group of their own.
        XCTAssertEqual(LineSegmentation.wordGaps(columns(ink: 10, gaps: [1, 1, 2, 1, 3]), minimum: 4), [])
        XCTAssertEqual(LineSegmentation.wordGaps([false, false], minimum: 4), [])
    }

    func testSkewIsEstimatedWithinHalfADegree() throws {
        // Pages of 0.6, 1.8 and 4.3 megapixels: the two larger ones are sampled every 2nd and 3rd
        // pixel, which once held them at 0 degrees whatever their skew.
        for (width, height) in [(900, 700), (1800, 1000), (2400, 1800)] {
            for degrees in [-4.0, -1.5, 0, 2, 3.5] {
                let (image, _) = try page(width: width, height: height,
                                          lines: [(50, 700), (50, 650), (120, 500), (50, 700), (300, 450)], degrees: degrees)
                let estimate = LineSegmentation.estimateSkew(try PageInk(image))
                XCTAssertEqual(estimate, degrees, accuracy: 0.5, "\(width)x\(height) page turned by \(degrees) degrees")
            }
        }
    }

    func testLinesOfEveryLengthIndentAndAlignmentAreFoundOnceEach() throws {
        // Long, indented, short right-aligned, one word, long; descenders reach towards the next line.
        let lines = [(40, 800), (150, 600), (600, 250), (40, 90), (40, 780)]
        for degrees in [0.0, 3.0, -2.5] {
            let (image, tops) = try page(lines: lines, degrees: degrees)
            let layout = LineSegmentation.segment(try PageInk(image), originalSize: (image.width, image.height))
            XCTAssertEqual(layout.lines.count, lines.count, "\(degrees) degrees")
            guard layout.lines.count == lines.count else { continue }
            for (k, line) in layout.lines.enumerated() {
                // The box holds the line's middle, and each line's box starts at its indentation.
                let middleY = Double(tops[k] + 15) + (Double(lines[k].0 + lines[k].1 / 2) - 450) * -sin(degrees * .pi / 180)
                XCTAssertTrue(Double(line.box.y) <= middleY && middleY <= Double(line.box.y + line.box.height),
                              "line \(k) at \(degrees) degrees: box \(line.box), middle \(middleY)")
                XCTAssertEqual(Double(line.box.x), Double(lines[k].0), accuracy: 25, "line \(k) indentation at \(degrees) degrees")
            }
        }
    }

    func testDotsWrittenFarAboveALineDoNotMakeALine() throws {
        // Small rings (6 pixels, a fifth of the 30-pixel letters) 20 pixels over each line, as a hand
        // that dots its i's high writes them: a band of dots alone was read as a line of "o"s.
        var (image, tops) = try page(lines: [(40, 800), (40, 700)], degrees: 0)
        for top in tops {
            for cx in stride(from: 60, to: 700, by: 90) {
                for y in (top - 26)..<(top - 20) { for x in cx..<(cx + 6) where y == top - 26 || y == top - 21 || x == cx || x == cx + 5 {
                    image.pixels[y * image.width + x] = 20
                } }
            }
        }
        let layout = LineSegmentation.segment(try PageInk(image), originalSize: (image.width, image.height))
        XCTAssertEqual(layout.lines.count, 2)
    }

    func testSpecksDoNotMakeLines() throws {
        var (image, _) = try page(lines: [(40, 800), (40, 700)], degrees: 0)
        for (x, y) in [(30, 20), (850, 400), (500, 650), (200, 500)] { image.pixels[y * image.width + x] = 0 }
        let layout = LineSegmentation.segment(try PageInk(image), originalSize: (image.width, image.height))
        XCTAssertEqual(layout.lines.count, 2)
    }

    func testOneLinesHalfTurnEvidenceReadsItsInkAboveAndBelowItsCore() {
        // A line 20 rows high: a core of rows 8-13 full of ink, ascenders (rows 2-7) in every third
        // column, descenders (rows 14-17) in every eighth (fewer than half the columns: outside the
        // core). Turned half a turn, the reverse.
        let width = 40, height = 20
        var ink = [Float](repeating: 0, count: width * height)
        for x in 0..<width {
            for y in 8...13 { ink[y * width + x] = 1 }
            if x % 3 == 0 { for y in 2...7 { ink[y * width + x] = 1 } }
            if x % 8 == 0 { for y in 14...17 { ink[y * width + x] = 1 } }
        }
        XCTAssertEqual(LineSegmentation.halfTurnEvidence(line: ink, width: width, height: height), .upright)
        XCTAssertEqual(LineSegmentation.halfTurnEvidence(line: Array(ink.reversed()), width: width, height: height), .upsideDown)
        // As much below as above (capitals, digits, or long descenders), or no ink: no evidence.
        var balanced = ink
        for x in 0..<width { for y in 14...19 { balanced[y * width + x] = x % 3 == 1 ? 1 : 0 } }
        XCTAssertEqual(LineSegmentation.halfTurnEvidence(line: balanced, width: width, height: height), .undecided)
        XCTAssertEqual(LineSegmentation.halfTurnEvidence(line: [Float](repeating: 0, count: width * height), width: width, height: height),
                       .undecided)
    }
}
