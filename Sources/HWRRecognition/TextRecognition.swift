import Foundation
import HWRDecoding
import HWRImage
import HWRKernels
import HWRModel

/// How to read an image.
public enum RecognitionMode: String, Sendable, CaseIterable {
    /// One character (the character model).
    case char
    /// A word, code or line without segmentation (the line model and CTC).
    case line
    /// The line model, falling back to the character model when it reads at most one character.
    case auto
}

/// Decoding options for text (lines and sequences of character images).
public struct TextOptions: Sendable {
    /// Beam width (1: greedy best path for lines).
    public var beamWidth = 10
    /// "digits", "letters", or the allowed characters; nil for all.
    public var charset: String?
    /// A fixed-length pattern such as `\a\d{4}` (see `DecodingConstraint.parsePattern`); nil for none.
    public var pattern: String?
    /// Only these words may be read; nil for none.
    public var lexicon: [String]?
    /// Alternative readings to return (including the best).
    public var alternatives = 5
    /// Below this probability of the best reading, the result is rejected: its text is empty and
    /// `rejected` is set (alternatives stay available).
    public var rejectThreshold: Float = 0

    /// Defaults: beam 10, no constraint, 5 alternatives, no rejection.
    public init() {}
}

/// The reading of a word, line or sequence of character images.
public struct TextReading: Equatable, Sendable {
    /// The text ("" when rejected).
    public var text: String
    /// Probability of the best reading.
    public var confidence: Float
    /// The characters of the best reading, with probabilities and positions (CTC steps for lines,
    /// image indices for sequences); empty when rejected.
    public var characters: [DecodedCharacter]
    /// Alternative readings with their probabilities, best first (the best reading included).
    public var alternatives: [Candidate]
    /// Whether the best reading fell below the reject threshold.
    public var rejected: Bool
    /// Which model produced it.
    public var mode: RecognitionMode
    /// For lines: the number of CTC steps (a step covers 2 columns of the normalised line).
    public var steps: Int

    init(readings: [LineReading], options: TextOptions, mode: RecognitionMode, steps: Int) throws {
        guard let best = readings.first else {
            throw RecognitionError.invalidOption("no reading satisfies the lexicon, charset or pattern")
        }
        rejected = best.probability < options.rejectThreshold
        text = rejected ? "" : best.text
        confidence = best.probability
        characters = rejected ? [] : best.characters
        alternatives = readings.map { Candidate(text: $0.text, probability: $0.probability) }
        self.mode = mode
        self.steps = steps
    }
}

extension Recognizer {
    /// The constraint of `options` over the classes of `charset` (the model whose posteriors it will
    /// restrict: the character model for sequences, the line model for lines), matching either case
    /// when the model has both.
    func constraint(_ options: TextOptions, charset: [Character]) throws -> DecodingConstraint {
        guard options.beamWidth >= 1, options.beamWidth <= 1000 else {
            throw RecognitionError.invalidOption("beam width must be in 1...1000, got \(options.beamWidth)")
        }
        guard options.alternatives >= 1, options.alternatives <= 100 else {
            throw RecognitionError.invalidOption("alternatives must be in 1...100, got \(options.alternatives)")
        }
        guard options.rejectThreshold >= 0, options.rejectThreshold <= 1 else {
            throw RecognitionError.invalidOption("reject threshold must be in [0, 1]")
        }
        let fold = charset.indices.map { k in charset.firstIndex(of: Character(charset[k].uppercased())) ?? k }
        do {
            return try DecodingConstraint.make(charset: options.charset, pattern: options.pattern, lexicon: options.lexicon,
                                               classes: charset.count, classOf: { charset.firstIndex(of: $0) },
                                               fold: fold == Array(charset.indices) ? nil : fold)
        } catch let e as ConstraintError { throw RecognitionError.invalidOption(e.description) }
    }

    /// Reads a sequence of character images (one character each) as one string, in one batched pass.
    /// - Throws: `RecognitionError` for bad options or when no reading satisfies the constraint, or the
    ///   first image's error (its index is in the message) when an image cannot be read.
    public func recognizeSequence(_ images: [GrayImage], options: TextOptions = .init()) throws -> TextReading {
        guard !images.isEmpty else { throw RecognitionError.invalidOption("the sequence has no image") }
        let constraint = try constraint(options, charset: model.charset)
        let distributions = try inParallel(images) { self.classify($0, mask: nil) }.enumerated().map { i, d in
            do { return try d.get() } catch { throw SequenceImageError(index: i, underlying: error) }
        }
        let readings = SequenceDecoder.decode(distributions, charset: model.charset, constraint: constraint,
                                              beamWidth: max(options.beamWidth, options.alternatives), alternatives: options.alternatives)
        return try TextReading(readings: readings, options: options, mode: .char, steps: images.count)
    }

    /// Reads word or line images without segmentation (line model + CTC), one image at a time.
    /// - Throws: `RecognitionError` for bad options or when no line model is loaded; image errors are
    ///   returned per image.
    public func recognizeLines(_ images: [GrayImage], options: TextOptions = .init()) throws -> [Result<TextReading, Error>] {
        guard let lineModel, let lineSlots else { throw RecognitionError.noLineModel }
        let constraint = try constraint(options, charset: lineModel.charset)
        let classes = lineModel.architecture.classes
        return inParallel(images) { chunk in chunk.map { image in
            Result {
                let (pixels, width) = try self.lineNormalizer.normalize(image)
                let posteriors = lineSlots.withSlot { slot -> CTCPosteriors in
                    let (logits, shape) = slot.network.forward(pixels, batch: 1, width: width, mode: .inference)
                    guard case let .sequence(steps, _) = shape else { return CTCPosteriors(steps: 0, classes: classes, probabilities: []) }
                    var p = [Float](repeating: 0, count: steps * classes)
                    softmaxRows(&p, logits, rows: steps, cols: classes)
                    return CTCPosteriors(steps: steps, classes: classes, probabilities: p)
                }
                let readings: [LineReading]
                // Beam width 1 with no constraint is greedy best-path decoding, as hwr.h documents
                // (one reading, whatever `alternatives` asks).
                if options.beamWidth == 1 && constraint.isUnconstrained {
                    readings = [CTCDecoder.greedy(posteriors, charset: lineModel.charset)]
                } else {
                    readings = CTCDecoder.beamSearch(posteriors, charset: lineModel.charset, beamWidth: max(options.beamWidth, options.alternatives),
                                                     constraint: constraint, alternatives: options.alternatives)
                }
                return try TextReading(readings: readings, options: options, mode: .line, steps: posteriors.steps)
            }
        } }
    }

    /// Reads each image with the line model, and with the character model when the line model finds
    /// at most one character (or when no line model is loaded).
    public func recognizeAuto(_ images: [GrayImage], options: TextOptions = .init()) throws -> [Result<TextReading, Error>] {
        let lines = lineModel == nil ? images.map { _ in Result<TextReading, Error>.failure(RecognitionError.noLineModel) }
                                     : try recognizeLines(images, options: options)
        return zip(images, lines).map { image, line in
            if case let .success(reading) = line, reading.characters.count > 1 { return line }
            if options.lexicon != nil || options.pattern != nil, case .success = line { return line }
            return Result { try recognizeSequence([image], options: options) }
        }
    }
}
