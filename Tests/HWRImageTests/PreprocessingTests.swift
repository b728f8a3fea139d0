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

    func testTinyAndExtremeAspectImagesStillNormalise() throws {
        // A single dark pixel on white, and a 1-pixel-high stroke: no crash, ink centred.
        var dot = [UInt8](repeating: 255, count: 9)
        dot[4] = 0
        let v = try normalizer.normalize(try GrayImage(width: 3, height: 3, pixels: dot))
        XCTAssertGreaterThan(v.max()!, 0.5)
        var line = [UInt8](repeating: 255, count: 300 * 3)
        for x in 10..<290 { line[300 + x] = 0 }
        let l = try normalizer.normalize(try GrayImage(width: 300, height: 3, pixels: line))
        let inkRows = (0..<28).filter { y in (0..<28).contains { l[y * 28 + $0] > 0.5 } }
        XCTAssertEqual(inkRows.count, 1, "a one-pixel bar")
        XCTAssertTrue([13, 14].contains(inkRows.first ?? -1), "through the centre")
        XCTAssertEqual((0..<28).filter { l[inkRows[0] * 28 + $0] > 0.5 }.count, 20, "as wide as the box")
    }

    func testBackgroundIsTheBorderMedianWhateverTheBorderOrder() throws {
        // A 9x9 image whose border (corners counted twice, as the sides list them) holds 18 dark
        // values (60-94) and 18 light ones (8 from the 250 corners, 10 in 160-214) in a scrambled
        // order: the median (rank 18) is the darkest light value, so the paper is light and the dark
        // centre is ink. Rank 17 would be a dark value and turn the polarity over.
        let side = 9
        var pixels = [UInt8](repeating: 200, count: side * side)
        for corner in [0, side - 1, (side - 1) * side, side * side - 1] { pixels[corner] = 250 }
        var edges: [Int] = []
        for i in 1..<(side - 1) { edges += [i, (side - 1) * side + i, i * side, i * side + side - 1] }
        XCTAssertEqual(edges.count, 28)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let dark: [UInt8] = (0..<18).map { UInt8(60 + 2 * $0) }
            let light: [UInt8] = (0..<10).map { UInt8(160 + 6 * $0) }
            for (position, value) in zip(edges, (dark + light).shuffled(using: &random)) { pixels[position] = value }
            for y in 3..<6 { for x in 3..<6 { pixels[y * side + x] = 0 } }
            let v = try normalizer.normalize(try GrayImage(width: side, height: side, pixels: pixels))
            XCTAssertGreaterThan(v[14 * 28 + 14], 0.5, "the dark centre is ink")
        }
    }
}
