import Foundation
import HWRImage
import HWRModel

/// Everything the line trainer and line evaluation read from the shared corpus, split by writer:
/// glyphs to compose training lines from, real words (folds 0-5 train, 6-7 validation), and a
/// fixed set of synthetic validation lines composed from validation-split glyphs (unseen writers).
public struct LineCorpus {
    /// Composes training lines.
    public let composer: LineComposer
    /// Real words for training.
    public let trainWords: [LineSample]
    /// Real words held out (folds 6 and 7).
    public let validationWords: [LineSample]
    /// Composed lines from unseen writers' undistorted glyphs, 1 to 12 characters, a third each
    /// digits only, letters only and mixed.
    public let syntheticValidation: [LineSample]

    /// Folds of the OCR words set held out for validation.
    public static let validationFolds: Set<Int> = [6, 7]

    /// Loads and splits the corpus.
    /// - Parameter normalizer: the line normalisation of the model the lines are for.
    /// - Throws: `DataError`.
    public static func load(root: String, validationLines: Int, seed: UInt64,
                            normalizer: LineNormalizer = LineNormalizer()) throws -> LineCorpus {
        let chars = try SharedData(root: root).load()
        let (train, validation) = SharedData.split(chars)
        let words = try OCRWords(folder: "\(root)/ocr-words")
        func samples(_ ws: [OCRWords.Word]) -> [LineSample] {
            ws.compactMap { w in
                guard let (pixels, width) = try? normalizer.normalize(w.image) else { return nil }
                let label = w.text.compactMap { Charset.classIndex(of: $0) }.map(Int32.init)
                return LineSample(pixels: pixels, width: width, label: label, text: w.text.uppercased(), source: "ocr-words")
            }
        }
        let trainWords = samples(words.words.filter { !validationFolds.contains($0.fold) })
        let validationWords = samples(words.words.filter { validationFolds.contains($0.fold) })
        let composer = LineComposer(glyphs: train, words: trainWords.map(\.text), normalizer: normalizer)
        let validationComposer = LineComposer(glyphs: validation, words: [], normalizer: normalizer, distortsGlyphs: false)
        var random = SeededGenerator(seed: seed &+ 1_000)
        var synthetic: [LineSample] = []
        while synthetic.count < validationLines {
            let length = 1 + synthetic.count % 12
            if let s = try? validationComposer.compose(validationComposer.randomText(length: length, random: &random), random: &random) {
                synthetic.append(s)
            }
        }
        return LineCorpus(composer: composer, trainWords: trainWords, validationWords: validationWords, syntheticValidation: synthetic)
    }
}
