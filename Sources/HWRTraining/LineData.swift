import Foundation
import HWRImage
import HWRModel

/// One normalised line with its transcription.
public struct LineSample: Sendable {
    /// `height * width` floats, row-major (the line normaliser's output).
    public var pixels: [Float]
    /// Width in pixels.
    public var width: Int
    /// The classes of the transcription.
    public var label: [Int32]
    /// The transcription.
    public var text: String
    /// Where it comes from ("synthetic", "ocr-words").
    public var source: String

    /// A sample.
    public init(pixels: [Float], width: Int, label: [Int32], text: String, source: String) {
        self.pixels = pixels; self.width = width; self.label = label; self.text = text; self.source = source
    }
}

/// Loads the real handwritten words of the Taskar/Kassel OCR set: 16x8 letter images that rebuild
/// words by `word_id` and `position` (the first letter of each word was dropped by the set's authors).
public struct OCRWords {
    /// A word as letter images and text.
    public struct Word: Sendable {
        /// The 16 x (8 * letters) image, ink 255 on 0.
        public var image: GrayImage
        /// Lower-case transcription.
        public var text: String
        /// Cross-validation fold, 0-7.
        public var fold: Int
    }

    /// All words of the set.
    public let words: [Word]

    /// Reads `letters-images-idx3-ubyte.gz` and `letters.csv` from a folder.
    /// - Throws: `DataError`.
    public init(folder: String) throws {
        let images = try IDXFile(path: "\(folder)/letters-images-idx3-ubyte.gz")
        guard images.dimensions.count == 3 else { throw DataError.badData("letters images: dimensions \(images.dimensions)") }
        let (n, h, w) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        var byWord: [Int: [(position: Int, index: Int, label: Character, fold: Int)]] = [:]
        let table = "\(folder)/letters.csv"
        for f in try CSVManifest.rows(table, requiring: ["index", "label", "word_id", "position", "fold"]) {
            guard let index = f["index"].flatMap(Int.init), index < n, let word = f["word_id"].flatMap(Int.init),
                  let position = f["position"].flatMap(Int.init), let fold = f["fold"].flatMap(Int.init),
                  let label = f["label"]?.first else { throw DataError.badData("\(table): bad row \(f)") }
            byWord[word, default: []].append((position, index, label, fold))
        }
        var words: [Word] = []
        for key in byWord.keys.sorted() {
            let letters = byWord[key]!.sorted { $0.position < $1.position }
            let width = w * letters.count
            var pixels = [UInt8](repeating: 0, count: h * width)
            for (j, letter) in letters.enumerated() {
                for y in 0..<h { for x in 0..<w {
                    pixels[y * width + j * w + x] = images.bytes[letter.index * h * w + y * w + x] > 0 ? 255 : 0
                } }
            }
            words.append(Word(image: try GrayImage(width: width, height: h, pixels: pixels),
                              text: String(letters.map(\.label)), fold: letters[0].fold))
        }
        self.words = words
    }
}

/// Composes synthetic lines from real character images: 1 to 12 characters (digits only, letters
/// only, mixed, or real words), random spacing including touching and overlapping characters,
/// baseline and size jitter, per-character distortions (training only), random polarity and background
/// level; then the line normaliser, exactly as at recognition time.
public struct LineComposer {
    /// The character images to draw from (normalised 28x28 glyphs).
    public let glyphs: CharacterDataset
    /// Real words to compose now and then (upper-cased).
    public let words: [String]
    /// The normaliser every composed line goes through.
    public let normalizer: LineNormalizer
    /// Whether each glyph is distorted (rotation, shear, elastic, stroke width) before composing:
    /// on for training, off for validation lines, which keep the writers' glyphs as they are.
    public let distortsGlyphs: Bool
    private let byClass: [[Int]]
    private let augmenter = Augmenter()

    /// Creates a composer.
    public init(glyphs: CharacterDataset, words: [String], normalizer: LineNormalizer = LineNormalizer(),
                distortsGlyphs: Bool = true) {
        self.glyphs = glyphs; self.words = words.map { $0.uppercased() }; self.normalizer = normalizer
        self.distortsGlyphs = distortsGlyphs
        var byClass = [[Int]](repeating: [], count: Charset.alphanumeric.count)
        for i in 0..<glyphs.count { byClass[Int(glyphs.labels[i])].append(i) }
        self.byClass = byClass
    }

    /// A random transcription of `length` characters: digits only, letters only or mixed, in equal
    /// shares, or (a quarter of the time, when the composer has words) a real word of that length.
    public func randomText(length: Int, random: inout SeededGenerator) -> [Int] {
        let kind = random.next() % (words.isEmpty ? 3 : 4)
        if kind == 3, !words.isEmpty {
            let fitting = words.filter { $0.count == length }
            if let word = fitting.isEmpty ? nil : fitting[Int(random.next() % UInt64(fitting.count))] {
                return word.compactMap { Charset.classIndex(of: $0) }
            }
        }
        return (0..<length).map { _ in
            switch kind {
            case 0: return Int(random.next() % 10)
            case 1: return 10 + Int(random.next() % 26)
            default: return Int(random.next() % 36)
            }
        }.map { byClass[$0].isEmpty ? byClass.firstIndex { !$0.isEmpty }! : $0 }
    }

    /// Composes and normalises one line.
    /// - Throws: `ImageError` in the rare case the composed line has no usable ink.
    public func compose(_ text: [Int], random: inout SeededGenerator) throws -> LineSample {
        let side = glyphs.side, canvasHeight = 40, top = (canvasHeight - side) / 2
        var pieces: [(pixels: [Float], width: Int, height: Int, dy: Int, gap: Int)] = []
        var clean = [Float](repeating: 0, count: side * side), warped = clean
        for k in text {
            let members = byClass[k]
            glyphs.image(members[Int(random.next() % UInt64(members.count))], into: &clean)
            if distortsGlyphs { augmenter.apply(&warped, clean, side: side, random: &random) } else { warped = clean }
            // Crop to the ink columns, then scale by a random size factor.
            let columns = (0..<side).filter { x in (0..<side).contains { warped[$0 * side + x] > 0.1 } }
            let x0 = columns.first ?? side / 2 - 2, x1 = (columns.last ?? side / 2 + 2) + 1
            let scale = 0.8 + 0.3 * random.nextUniform()
            let w = max(2, Int(Float(x1 - x0) * scale)), h = max(2, Int(Float(side) * scale))
            var scaled = [Float](repeating: 0, count: w * h)
            for y in 0..<h { for x in 0..<w {
                let sx = min(x1 - 1, x0 + Int(Float(x) / scale)), sy = min(side - 1, Int(Float(y) / scale))
                scaled[y * w + x] = warped[sy * side + sx]
            } }
            let dy = top + (side - h) / 2 + Int(random.next() % 5) - 2
            let gap = Int(random.next() % 10) - 2 // -2 (slight overlap) ... 7 pixels
            pieces.append((scaled, w, h, dy, gap))
        }
        let width = pieces.reduce(8) { $0 + $1.width + max($1.gap, -$1.width / 2) } + 8
        var canvas = [Float](repeating: 0, count: canvasHeight * width)
        var x = 4
        for (i, p) in pieces.enumerated() {
            if i > 0 { x += max(p.gap, -p.width / 2) }
            for y in 0..<p.height where y + p.dy >= 0 && y + p.dy < canvasHeight {
                for xx in 0..<p.width where x + xx < width {
                    let o = (y + p.dy) * width + x + xx
                    canvas[o] = max(canvas[o], p.pixels[y * p.width + xx])
                }
            }
            x += p.width
        }
        // Paper and ink like the sources: either polarity, background anywhere from black to white.
        let darkInk = random.next() % 3 != 0
        let paper = darkInk ? Float(150 + random.next() % 106) : Float(random.next() % 90)
        let ink = darkInk ? Float(random.next() % 60) : Float(190 + random.next() % 66)
        let bytes = canvas.map { v -> UInt8 in UInt8(max(0, min(255, (paper + (ink - paper) * v).rounded()))) }
        let (pixels, w) = try normalizer.normalize(try GrayImage(width: width, height: canvasHeight, pixels: bytes))
        return LineSample(pixels: pixels, width: w, label: text.map(Int32.init),
                          text: String(text.map { Charset.alphanumeric[$0] }), source: "synthetic")
    }
}
