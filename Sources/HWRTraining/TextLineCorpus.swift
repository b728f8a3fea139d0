import Foundation
import HWRImage
import HWRModel

/// A named set of normalised lines (a training pool or a validation set).
public struct LineSet: Sendable {
    /// Name used in logs and reports ("stanford", "gw-lines", "val-font", ...).
    public var name: String
    /// The lines.
    public var samples: [LineSample]
    /// Whether a case-insensitive comparison is the meaningful one (sets transcribed in one case).
    public var foldsCase: Bool

    /// Creates a set.
    public init(name: String, samples: [LineSample], foldsCase: Bool = false) {
        self.name = name; self.samples = samples; self.foldsCase = foldsCase
    }
}

/// The text-line model's corpus, split by writer (or page, for one-writer sources):
/// - `../shared/data/real-lines`: Washington pages (3 held out), Stanford letters (9 of 28 held out,
///   pages of one letter together), Hooker lines (validation only: its images may not train a model
///   that ships);
/// - a generated corpus (`scripts/build-text-corpus.sh`): lines rendered from handwriting fonts
///   (whole fonts held out) and lines composed from real character images (writers held out);
/// - the Taskar/Kassel OCR words (folds 0-5 train, 6-7 validation), lower case.
/// Transcriptions with a character outside the charset are skipped.
public struct TextLineCorpus {
    /// Training pools, each drawn from with its own share.
    public let pools: [LineSet]
    /// Validation sets.
    public let validation: [LineSet]

    /// A corpus of the given sets.
    public init(pools: [LineSet], validation: [LineSet]) { self.pools = pools; self.validation = validation }

    /// Washington pages held out for validation.
    public static let heldOutPages = 3
    /// Stanford letters held out for validation (unseen writers).
    public static let heldOutLetters = 9
    /// Hooker lines validated on at every epoch (all of them in `hwr eval`).
    public static let hookerEpochLines = 400

    /// Loads and normalises everything.
    /// - Parameters:
    ///   - data: the shared data folder (`real-lines/`, `ocr-words/`)
    ///   - generated: the generated corpus folder with `manifest.csv`, or nil
    ///   - normalizer: the line model's normaliser (the one recognition uses)
    ///   - charset: the model's characters
    ///   - validationLimit: most lines kept of each generated validation set
    /// - Throws: `DataError` for unreadable manifests.
    public static func load(data: String, generated: String?, normalizer: LineNormalizer, charset: [Character],
                            validationLimit: Int = 500, log: (String) -> Void = { _ in }) throws -> TextLineCorpus {
        var pools: [LineSet] = [], validation: [LineSet] = []
        let real = try CSVManifest.rows("\(data)/real-lines/manifest.csv")
        func unit(_ row: [String: String]) -> String {
            // Stanford letters span pages "Lettre76_1", "Lettre76_2": the letter is the unit (a
            // numeric page suffix is dropped; "SC0033B_s4_b01_f14_i083" is a letter of its own).
            let w = row["writer_or_page"] ?? ""
            guard w.hasPrefix("stanford:"), let cut = w.lastIndex(of: "_"),
                  w[w.index(after: cut)...].allSatisfy(\.isNumber) else { return w }
            return String(w[..<cut])
        }
        let gwPages = heldOut(Set(real.filter { unit($0).hasPrefix("gw:") }.map(unit)), count: heldOutPages)
        let letters = heldOut(Set(real.filter { unit($0).hasPrefix("stanford:") }.map(unit)), count: heldOutLetters)
        log("held out: Washington pages \(gwPages.sorted().joined(separator: " ")); Stanford letters \(letters.sorted().joined(separator: " "))")
        func realSet(_ name: String, _ keep: ([String: String]) -> Bool, limit: Int? = nil) -> LineSet {
            var rows = real.filter(keep)
            if let limit, rows.count > limit {
                rows = Array(rows.sorted { Split.fnv1a($0["path"]!) < Split.fnv1a($1["path"]!) }.prefix(limit))
            }
            return LineSet(name: name, samples: normalizeAll(rows.map { ("\(data)/real-lines/\($0["path"]!)", $0["text"]!) },
                                                             source: name, normalizer: normalizer, charset: charset))
        }
        let isGW = { (r: [String: String]) in unit(r).hasPrefix("gw:") }
        let isStanford = { (r: [String: String]) in unit(r).hasPrefix("stanford:") }
        // Two pools, so that the few modern hands (Stanford) get a share of their own beside the
        // many words of Washington's one hand.
        pools.append(realSet("real-washington", { isGW($0) && !gwPages.contains(unit($0)) }))
        pools.append(realSet("real-stanford", { isStanford($0) && !letters.contains(unit($0)) }))
        validation.append(realSet("stanford", { isStanford($0) && letters.contains(unit($0)) }))
        validation.append(realSet("gw-lines", { isGW($0) && gwPages.contains(unit($0)) && $0["kind"] == "line" }))
        validation.append(realSet("gw-words", { isGW($0) && gwPages.contains(unit($0)) && $0["kind"] == "word" }, limit: validationLimit))
        validation.append(realSet("hooker", { unit($0).hasPrefix("hooker:") }, limit: hookerEpochLines))

        if let generated {
            let rows = try CSVManifest.rows("\(generated)/manifest.csv")
            func generatedSet(_ name: String, _ keep: ([String: String]) -> Bool, limit: Int? = nil) -> LineSet {
                var kept = rows.filter(keep)
                if let limit { kept = Array(kept.prefix(limit)) }
                return LineSet(name: name, samples: normalizeAll(kept.map { ("\(generated)/\($0["path"]!)", $0["text"]!) },
                                                                 source: name, normalizer: normalizer, charset: charset))
            }
            pools.append(generatedSet("fonts", { $0["split"] == "train" && $0["kind"] == "font" }))
            pools.append(generatedSet("composed", { $0["split"] == "train" && $0["kind"] == "composed" }))
            validation.append(generatedSet("val-font", { $0["split"] == "val-font" }, limit: validationLimit))
            validation.append(generatedSet("val-composed", { $0["split"] == "val-composed" }, limit: validationLimit))
        }

        let words = try OCRWords(folder: "\(data)/ocr-words").words
        func ocrSet(_ name: String, _ ws: [OCRWords.Word]) -> LineSet {
            LineSet(name: name, samples: ws.compactMap { w in
                guard let label = Charset.labels(of: w.text, in: charset),
                      let (pixels, width) = try? normalizer.normalize(w.image) else { return nil }
                return LineSample(pixels: pixels, width: width, label: label, text: w.text, source: name)
            }, foldsCase: true)
        }
        pools.append(ocrSet("ocr-words", words.filter { !LineCorpus.validationFolds.contains($0.fold) }))
        var ocrValidation = ocrSet("ocr-words", words.filter { LineCorpus.validationFolds.contains($0.fold) })
        ocrValidation.samples = Array(ocrValidation.samples.prefix(validationLimit))
        validation.append(ocrValidation)
        return TextLineCorpus(pools: pools.filter { !$0.samples.isEmpty }, validation: validation.filter { !$0.samples.isEmpty })
    }

    /// `count` units, a fixed seed-free choice: the units of each collection (the name up to its first
    /// digit, "stanford:Lettre" or "stanford:SC"), in proportion to its size, whose names hash lowest.
    static func heldOut(_ units: Set<String>, count: Int) -> Set<String> {
        let collections = Dictionary(grouping: units) { String($0.prefix { !$0.isNumber }) }
        var chosen: Set<String> = []
        for (_, members) in collections.sorted(by: { $0.key < $1.key }) {
            let share = Int((Double(count * members.count) / Double(max(1, units.count))).rounded())
            chosen.formUnion(members.sorted { Split.fnv1a("hwr-text|\($0)") < Split.fnv1a("hwr-text|\($1)") }.prefix(share))
        }
        return chosen
    }

    /// Decodes and normalises image files (on every core), skipping unreadable images, empty ones
    /// and transcriptions with characters outside `charset`.
    static func normalizeAll(_ items: [(path: String, text: String)], source: String, normalizer: LineNormalizer,
                             charset: [Character]) -> [LineSample] {
        var results = [LineSample?](repeating: nil, count: items.count)
        results.withUnsafeMutableBufferPointer { out in
            let chunks = ProcessInfo.processInfo.activeProcessorCount * 4
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for i in stride(from: chunk, to: items.count, by: chunks) {
                    let (path, text) = items[i]
                    guard let label = Charset.labels(of: text, in: charset), !label.isEmpty,
                          let image = try? GrayImage(contentsOfFile: path),
                          let (pixels, width) = try? normalizer.normalize(image) else { continue }
                    out[i] = LineSample(pixels: pixels, width: width, label: label, text: text, source: source)
                }
            }
        }
        return results.compactMap { $0 }
    }
}

/// Random distortions of a normalised line as it is fed to training: horizontal stretch, shear
/// (slant), and stroke thickening or thinning. The height stays the model's input height.
public struct LineAugmenter: Sendable {
    /// Largest relative change of the width (0.15: 85% to 115%).
    public var stretch: Float = 0.15
    /// Largest shear (horizontal shift per row, relative to the height).
    public var shear: Float = 0.3
    /// Probability of changing the stroke thickness (half thicker, half thinner).
    public var thicknessProbability: Float = 0.25

    /// Default distortions.
    public init() {}

    /// A distorted copy of `sample` (same height and transcription, new width).
    public func apply(_ sample: LineSample, height: Int, random: inout SeededGenerator) -> LineSample {
        let scale = 1 + (random.nextUniform() * 2 - 1) * stretch
        let slant = (random.nextUniform() * 2 - 1) * shear
        let extra = Int(ceilf(abs(slant) * Float(height)))
        let width = max(4, Int(Float(sample.width) * scale)) + extra
        var out = [Float](repeating: 0, count: height * width)
        let centre = Float(height - 1) / 2
        sample.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                // Output column x reads input column (x - offset(y)) / scale.
                let offset = Float(extra) / 2 - slant * (Float(y) - centre)
                for x in 0..<width {
                    let sx = (Float(x) - offset) / scale
                    let x0 = Int(floorf(sx)), t = sx - Float(x0)
                    let a = x0 >= 0 && x0 < sample.width ? src[y * sample.width + x0] : 0
                    let b = x0 + 1 >= 0 && x0 + 1 < sample.width ? src[y * sample.width + x0 + 1] : 0
                    out[y * width + x] = a * (1 - t) + b * t
                }
            }
        }
        let p = random.nextUniform()
        if p < thicknessProbability {
            out.withUnsafeMutableBufferPointer {
                Augmenter.morph($0.baseAddress!, width: width, height: height, thicken: p < thicknessProbability / 2)
            }
        }
        var result = sample
        result.pixels = out; result.width = width
        return result
    }
}

extension TextLineCorpus {
    /// Magic and version of a corpus cache file (2: the real lines in two pools, "real-washington"
    /// and "real-stanford", where version 1 had one).
    static let cacheMagic = Data("HWRC".utf8), cacheVersion: UInt32 = 2

    /// Writes the normalised corpus to `path`, so that a resumed run starts in seconds instead of
    /// decoding and preprocessing every image again. Format (little-endian): "HWRC", version (u32),
    /// pools and validation sets, each: name, folds-case byte, sample count (u32), then per sample:
    /// width, height (u32), the pixels as bytes (value x 255), the label (u32 count, i32 classes), the
    /// text and the source (u32 length, UTF-8). A cache holds one preprocessing: delete it when the
    /// preprocessing or the corpus changes.
    /// - Throws: file errors.
    public func writeCache(to path: String) throws {
        var data = Self.cacheMagic
        func u32(_ v: Int) { data.appendLittleEndianU32(UInt32(v)) }
        func string(_ s: String) { let bytes = Array(s.utf8); u32(bytes.count); data.append(contentsOf: bytes) }
        u32(Int(Self.cacheVersion))
        for sets in [pools, validation] {
            u32(sets.count)
            for set in sets {
                string(set.name); data.append(set.foldsCase ? 1 : 0); u32(set.samples.count)
                for s in set.samples {
                    u32(s.width); u32(s.pixels.count / max(1, s.width))
                    data.append(contentsOf: s.pixels.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) })
                    u32(s.label.count)
                    for k in s.label { data.appendLittleEndianU32(UInt32(bitPattern: k)) }
                    string(s.text); string(s.source)
                }
            }
        }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a corpus written by `writeCache(to:)`.
    /// - Throws: `DataError.badFile` for a missing, truncated or foreign file.
    public static func readCache(from path: String) throws -> TextLineCorpus {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.badFile("\(path): cannot read") }
        let bytes = [UInt8](data)
        var offset = 0
        func bad(_ why: String) -> DataError { .badFile("\(path): \(why)") }
        func u32() throws -> Int {
            guard offset + 4 <= bytes.count else { throw bad("truncated") }
            defer { offset += 4 }
            return Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
        }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, offset + n <= bytes.count else { throw bad("truncated") }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }
        func string() throws -> String { String(decoding: try take(try u32()), as: UTF8.self) }
        guard Data(try take(4)) == cacheMagic, try u32() == Int(cacheVersion) else { throw bad("not a corpus cache of this version") }
        var groups: [[LineSet]] = []
        for _ in 0..<2 {
            var sets: [LineSet] = []
            for _ in 0..<(try u32()) {
                let name = try string(), folds = try take(1).first == 1
                var samples: [LineSample] = []
                for _ in 0..<(try u32()) {
                    let width = try u32(), height = try u32()
                    let pixels = try take(width * height).map { Float($0) / 255 }
                    let label = try (0..<(try u32())).map { _ in Int32(bitPattern: UInt32(try u32())) }
                    samples.append(LineSample(pixels: pixels, width: width, label: label, text: try string(), source: try string()))
                }
                sets.append(LineSet(name: name, samples: samples, foldsCase: folds))
            }
            groups.append(sets)
        }
        return TextLineCorpus(pools: groups[0], validation: groups[1])
    }
}
