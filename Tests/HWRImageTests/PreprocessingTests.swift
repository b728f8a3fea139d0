import Foundation
import HWRImage
import XCTest

/// Preprocessing on real images of every input kind (Tests/Fixtures/formats, cut from a tasnim "K").
final class PreprocessingTests: XCTestCase {
    let formats = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/formats").standardized.path
    let normalizer = CharacterNormalizer()

    func normalized(_ name: String) throws -> [Float] {
        try normalizer.normalize(try GrayImage(contentsOfFile: "\(formats)/\(name)"))
    }

    func meanAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.reduce(0, +) / Float(a.count)
    }

    func testOutputFollowsTheMNISTConvention() throws {
        let v = try normalized("K-grey-background.png")
        XCTAssertEqual(v.count, 28 * 28)
        XCTAssertGreaterThan(v.max()!, 0.8, "strokes keep their full strength")
        XCTAssertGreaterThanOrEqual(v.min()!, 0)
        // Ink fits in a 20x20 box, and its centre of mass is at the centre.
        var x0 = 28, x1 = -1, y0 = 28, y1 = -1, mass: Float = 0, mx: Float = 0, my: Float = 0
        for y in 0..<28 { for x in 0..<28 where v[y * 28 + x] > 0.01 {
            x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            mass += v[y * 28 + x]; mx += Float(x) * v[y * 28 + x]; my += Float(y) * v[y * 28 + x]
        } }
        XCTAssertLessThanOrEqual(max(x1 - x0 + 1, y1 - y0 + 1), 20)
        XCTAssertEqual(max(x1 - x0 + 1, y1 - y0 + 1), 20, "the longer side fills the box")
        XCTAssertEqual(mx / mass, 13.5, accuracy: 1)
        XCTAssertEqual(my / mass, 13.5, accuracy: 1)
        // Background is clean: the grey paper became 0.
        XCTAssertEqual(v[0], 0)
        XCTAssertGreaterThan(v.filter { $0 == 0 }.count, 28 * 28 / 2)
    }

    func testEveryInputKindGivesTheSameGlyph() throws {
        let reference = try normalized("K-grey-background.png")
        for name in ["K.jpg", "K.pgm", "K-inverted.png", "K-transparent.png", "K-large.png"] {
            let v = try normalized(name)
            XCTAssertLessThan(meanAbsoluteDifference(v, reference), 0.06, name)
        }
        // Raw RGBA with a stride wider than the row.
        let size = try String(contentsOfFile: "\(formats)/K.rgba.size", encoding: .utf8).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let rgba = try Data(contentsOf: URL(fileURLWithPath: "\(formats)/K.rgba"))
        let (w, h) = (size[0], size[1]), stride = 4 * w + 12
        var padded = [UInt8](repeating: 7, count: stride * h)
        for y in 0..<h { for x in 0..<(4 * w) { padded[y * stride + x] = rgba[y * 4 * w + x] } }
        let raw = try padded.withUnsafeBytes { try GrayImage(rgba8: $0, width: w, height: h, stride: stride) }
        XCTAssertLessThan(meanAbsoluteDifference(try normalizer.normalize(raw), reference), 0.06, "raw RGBA")
        // Raw grey with stride.
        let grey = try GrayImage(contentsOfFile: "\(formats)/K-grey-background.png")
        var greyPadded = [UInt8](repeating: 0, count: (grey.width + 5) * grey.height)
        for y in 0..<grey.height { for x in 0..<grey.width { greyPadded[y * (grey.width + 5) + x] = grey.pixels[y * grey.width + x] } }
        let rawGrey = try greyPadded.withUnsafeBytes { try GrayImage(gray8: $0, width: grey.width, height: grey.height, stride: grey.width + 5) }
        XCTAssertEqual(try normalizer.normalize(rawGrey), reference)
    }

    func testBadImagesGiveClearErrors() throws {
        func expect(_ expected: (ImageError) -> Bool, _ body: () throws -> Any, _ what: String) {
            XCTAssertThrowsError(try body(), what) { error in
                guard let e = error as? ImageError, expected(e) else { return XCTFail("\(what): unexpected \(error)") }
            }
        }
        let white = try GrayImage(width: 40, height: 30, pixels: [UInt8](repeating: 250, count: 1200))
        expect({ if case .empty = $0 { return true }; return false }, { try self.normalizer.normalize(white) }, "blank page")
        expect({ if case .empty = $0 { return true }; return false }, { try GrayImage(encoded: Data()) }, "no bytes")
        expect({ if case .empty = $0 { return true }; return false }, { try GrayImage(width: 0, height: 5, pixels: []) }, "zero width")
        expect({ if case .decodeFailed = $0 { return true }; return false }, { try GrayImage(encoded: Data("hello world".utf8)) }, "garbage")
        let png = try Data(contentsOf: URL(fileURLWithPath: "\(formats)/K-grey-background.png"))
        expect({ if case .decodeFailed = $0 { return true }; return false }, { try GrayImage(encoded: png.prefix(png.count / 2)) }, "truncated PNG")
        let jpg = try Data(contentsOf: URL(fileURLWithPath: "\(formats)/K.jpg"))
        expect({ if case .decodeFailed = $0 { return true }; return false }, { try GrayImage(encoded: jpg.prefix(200)) }, "truncated JPEG")
        // Cut inside its image data: libjpeg would fill the rest with grey (a new user's half-read note).
        expect({ if case .decodeFailed = $0 { return true }; return false }, { try GrayImage(encoded: jpg.prefix(jpg.count * 2 / 3)) },
               "JPEG cut inside its image data")
        expect({ if case .decodeFailed = $0 { return true }; return false }, { try GrayImage(encoded: Data("P5\n10 10\n255\n".utf8) + Data(count: 20)) }, "truncated PGM")
        expect({ if case .tooLarge = $0 { return true }; return false }, {
            try [UInt8](repeating: 0, count: 16).withUnsafeBytes { try GrayImage(gray8: $0, width: 5000, height: 5000, stride: 5000) }
        }, "huge")
        expect({ if case .tooLarge = $0 { return true }; return false }, { try GrayImage(encoded: Data("P5 100000 1 255 ".utf8)) }, "100000 wide PGM")
        expect({ if case .invalidArgument = $0 { return true }; return false }, {
            try [UInt8](repeating: 0, count: 100).withUnsafeBytes { try GrayImage(gray8: $0, width: 10, height: 10, stride: 8) }
        }, "short stride")
        expect({ if case .invalidArgument = $0 { return true }; return false }, {
            try [UInt8](repeating: 0, count: 99).withUnsafeBytes { try GrayImage(gray8: $0, width: 10, height: 10, stride: 10) }
        }, "short buffer")
    }

    func testTinyImagesAreRefusedAndExtremeAspectsStillNormalise() throws {
        // Under 8 pixels on a side: a clear error, whatever the mode.
        var dot = [UInt8](repeating: 255, count: 9)
        dot[4] = 0
        XCTAssertThrowsError(try normalizer.normalize(try GrayImage(width: 3, height: 3, pixels: dot))) {
            XCTAssertTrue("\($0)".contains("too small"), "\($0)")
        }
        XCTAssertThrowsError(try LineNormalizer().normalize(try GrayImage(width: 200, height: 7, pixels: [UInt8](repeating: 0, count: 1400))))
        // A 1-pixel-high stroke on a 300x8 strip: no crash, ink centred, as wide as the box.
        var line = [UInt8](repeating: 255, count: 300 * 8)
        for x in 10..<290 { line[4 * 300 + x] = 0 }
        let l = try normalizer.normalize(try GrayImage(width: 300, height: 8, pixels: line))
        let inkRows = (0..<28).filter { y in (0..<28).contains { l[y * 28 + $0] > 0.5 } }
        XCTAssertLessThanOrEqual(inkRows.count, 2, "a thin bar")
        XCTAssertTrue(inkRows.contains { (13...14).contains($0) }, "through the centre")
        XCTAssertGreaterThanOrEqual((0..<28).filter { l[inkRows[0] * 28 + $0] > 0.5 }.count, 19, "as wide as the box")
    }

    /// A plus sign, `stroke` pixels thick, in the middle of a `side` x `side` sheet of `paper`, inside
    /// a frame `frame` pixels wide of `frameLevel`, in `ink`.
    func plus(side: Int, stroke: Int, paper: UInt8, ink: UInt8, frame: Int, frameLevel: UInt8) throws -> GrayImage {
        var pixels = [UInt8](repeating: paper, count: side * side)
        for y in 0..<side { for x in 0..<side where min(x, y, side - 1 - x, side - 1 - y) < frame { pixels[y * side + x] = frameLevel } }
        let c = side / 2, arm = side / 4
        for y in (c - arm)..<(c + arm) { for x in (c - stroke / 2)..<(c + stroke - stroke / 2) { pixels[y * side + x] = ink; pixels[x * side + y] = ink } }
        return try GrayImage(width: side, height: side, pixels: pixels)
    }

    func testInkIsTheThinMinorityWhateverTheFrameOrPolarity() throws {
        // Dark ink on light paper inside a dark frame, light chalk on a dark board inside a light
        // wall, and both without a frame: the plus is the ink every time, centred and filling the box.
        let cases = [
            try plus(side: 120, stroke: 6, paper: 225, ink: 30, frame: 12, frameLevel: 20),
            try plus(side: 120, stroke: 6, paper: 40, ink: 230, frame: 12, frameLevel: 235),
            try plus(side: 120, stroke: 6, paper: 225, ink: 30, frame: 0, frameLevel: 0),
            try plus(side: 30, stroke: 3, paper: 30, ink: 220, frame: 0, frameLevel: 0),
        ]
        for image in cases {
            let v = try normalizer.normalize(image)
            XCTAssertGreaterThan(v[14 * 28 + 14], 0.5, "the centre of the plus is ink")
            XCTAssertEqual(v[4 * 28 + 4], 0, "the corner is paper")
            let inkColumns = (0..<28).filter { x in (0..<28).contains { v[$0 * 28 + x] > 0.5 } }
            XCTAssertGreaterThanOrEqual(inkColumns.count, 18, "the plus fills the box: the frame was not taken for the writing")
        }
    }

    func testAPNGOverThePixelLimitIsReadAtAReducedScale() throws {
        // 5000 x 4000 = 20 M pixels, over the 16.7 M limit: decoded at half size, averaged as read.
        let (w, h) = (5000, 4000)
        var pixels = [UInt8](repeating: 230, count: w * h)
        for y in 1000..<3000 { for x in 2400..<2600 { pixels[y * w + x] = 20 } }
        let decoded = try GrayImage(encoded: try encodePNG(pixels, width: w, height: h, channels: 1))
        XCTAssertEqual([decoded.width, decoded.height], [2500, 2000])
        XCTAssertEqual(decoded.pixels[1000 * 2500 + 1250], 20, "the bar")
        XCTAssertEqual(decoded.pixels[10 * 2500 + 10], 230, "the paper")
        XCTAssertNil(decoded.alpha)
        XCTAssertGreaterThan(try normalizer.normalize(decoded).max()!, 0.5)
    }

    func testShadowsAreFlattenedAndBlankPaperIsEmpty() throws {
        // A hard shadow across half the sheet: the glyph is read the same as on even paper.
        var plain = try plus(side: 160, stroke: 8, paper: 220, ink: 40, frame: 0, frameLevel: 0)
        let reference = try normalizer.normalize(plain)
        for y in 0..<160 { for x in 0..<160 where x + y / 3 > 90 { plain.pixels[y * 160 + x] = UInt8(Double(plain.pixels[y * 160 + x]) * 0.45) } }
        XCTAssertLessThan(meanAbsoluteDifference(try normalizer.normalize(plain), reference), 0.05)
        // Paper with grain and a few dust specks: nothing written.
        var random = SeededBytes(seed: 3)
        var blank = (0..<(400 * 300)).map { _ in UInt8(200 + random.next() % 20) }
        for (x, y) in [(40, 50), (300, 120), (210, 260)] { for dy in 0..<2 { for dx in 0..<3 { blank[(y + dy) * 400 + x + dx] = 60 } } }
        XCTAssertThrowsError(try normalizer.normalize(try GrayImage(width: 400, height: 300, pixels: blank))) {
            XCTAssertEqual($0 as? ImageError, .empty("nothing written: no pen stroke, only specks or noise"))
        }
    }

    func testTallLettersOfATightCropAreNotTakenForRuledLines() throws {
        // A word cropped to its height: stems that span it ("Costello": the two l's, the t) are
        // unevenly spaced, so they are kept; evenly spaced rules of the same darkness are erased.
        func line(bars: [Int]) throws -> GrayImage {
            let (w, h) = (360, 60)
            var pixels = [UInt8](repeating: 225, count: w * h)
            for x0 in bars { for y in 0..<h { for x in x0..<(x0 + 4) { pixels[y * w + x] = 30 } } }
            // Short writing between them (x-height strokes and bowls).
            for x0 in stride(from: 20, to: 340, by: 26) where !bars.contains(where: { abs($0 - x0) < 14 }) {
                for y in 25..<50 { for x in x0..<(x0 + 4) { pixels[y * w + x] = 30 } }
                for x in x0..<(x0 + 12) { for y in 25..<29 { pixels[y * w + x] = 30 } }
            }
            return try GrayImage(width: w, height: h, pixels: pixels)
        }
        // The normalised width tells which height the line was cropped to: about 160 pixels when
        // the bars are kept (cropped to the image's 60 rows), about 360 when only the writing's 25
        // rows are left.
        let normalizer = LineNormalizer(height: 32, box: 28)
        XCTAssertLessThan(try normalizer.normalize(try line(bars: [60, 100, 250])).width, 250, "three uneven stems are kept")
        XCTAssertGreaterThan(try normalizer.normalize(try line(bars: [60, 130, 200, 270])).width, 300, "four evenly spaced rules are erased")
    }
}

/// A small seeded generator for test images (xorshift64).
struct SeededBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(state % 256)
    }
}
