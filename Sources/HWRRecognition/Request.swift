import FoundationEssentials
import Glibc
import HWRDecoding
import HWRImage
import HWRModel

// The semantics of a recognition request, owned here and nowhere else: option defaults and ranges,
// limits, rejection, and the error a request can end in. The CLI, the C ABI (and through it the
// worker and the Python binding) translate to and from these types; they decide nothing.

/// Why a request failed. One case per `hwr_status` code of include/hwr.h (the C ABI maps them
/// one-to-one; a test checks the numbering).
public enum HWRError: Error, Equatable, CustomStringConvertible {
    /// A required value is missing, or an option or size is out of range (`HWR_ERR_INVALID_ARGUMENT`).
    case invalidArgument(String)
    /// A file could not be read (`HWR_ERR_IO`).
    case io(String)
    /// Not an hwr model, or an inconsistent one (`HWR_ERR_MODEL_FORMAT`).
    case modelFormat(String)
    /// The bytes are not a valid PNG, JPEG or PGM image (`HWR_ERR_IMAGE_DECODE`).
    case imageDecode(String)
    /// The image is over the pixel or side limit (`HWR_ERR_IMAGE_TOO_LARGE`).
    case imageTooLarge(String)
    /// Zero-sized, or nothing written on it (`HWR_ERR_IMAGE_EMPTY`).
    case imageEmpty(String)
    /// A valid request that this build or model cannot serve (`HWR_ERR_UNSUPPORTED`).
    case unsupported(String)
    /// Memory could not be allocated (`HWR_ERR_OUT_OF_MEMORY`).
    case outOfMemory(String)
    /// A bug (`HWR_ERR_INTERNAL`).
    case internalError(String)
    /// The request's deadline passed before its work was done (`HWR_ERR_DEADLINE_EXCEEDED`).
    case deadlineExceeded(String)

    /// The `hwr_status` code of this case (include/hwr.h).
    public var status: Int32 {
        switch self {
        case .invalidArgument: return 1
        case .io: return 2
        case .modelFormat: return 3
        case .imageDecode: return 4
        case .imageTooLarge: return 5
        case .imageEmpty: return 6
        case .unsupported: return 7
        case .outOfMemory: return 8
        case .internalError: return 9
        case .deadlineExceeded: return 10
        }
    }

    /// The message, without a prefix naming the status.
    public var message: String {
        switch self {
        case let .invalidArgument(m), let .io(m), let .modelFormat(m), let .imageDecode(m), let .imageTooLarge(m),
             let .imageEmpty(m), let .unsupported(m), let .outOfMemory(m), let .internalError(m), let .deadlineExceeded(m):
            return m
        }
    }

    /// The message.
    public var description: String { message }

    /// Classifies any error the engine's modules raise.
    public init(_ error: Error) {
        switch error {
        case let e as HWRError: self = e
        case let e as ImageError:
            switch e {
            case .empty: self = .imageEmpty(e.description)
            case .tooLarge: self = .imageTooLarge(e.description)
            case .decodeFailed: self = .imageDecode(e.description)
            case .invalidArgument, .severalLines: self = .invalidArgument(e.description)
            case .unreadable: self = .io(e.description)
            case .outOfMemory: self = .outOfMemory(e.description)
            }
        case let e as ModelError:
            switch e {
            case .io: self = .io(e.description)
            case .badFile, .invalidArchitecture: self = .modelFormat(e.description)
            case .unsupported: self = .unsupported(e.description)
            case .badInput: self = .invalidArgument(e.description)
            }
        case let e as DeadlineExceeded: self = .deadlineExceeded(e.description)
        case let e as SequenceImageError:
            let inner = HWRError(e.underlying)
            self = inner.withMessage(e.description)
        default:
            self = .internalError("\(error)")
        }
    }

    /// The same case with another message.
    func withMessage(_ m: String) -> HWRError {
        switch self {
        case .invalidArgument: return .invalidArgument(m)
        case .io: return .io(m)
        case .modelFormat: return .modelFormat(m)
        case .imageDecode: return .imageDecode(m)
        case .imageTooLarge: return .imageTooLarge(m)
        case .imageEmpty: return .imageEmpty(m)
        case .unsupported: return .unsupported(m)
        case .outOfMemory: return .outOfMemory(m)
        case .internalError: return .internalError(m)
        case .deadlineExceeded: return .deadlineExceeded(m)
        }
    }
}

/// Runs `body`, turning any error into an `HWRError`.
func classified<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw HWRError(error) }
}

/// Every limit of a request, in one place. include/hwr.h states the same numbers (HWR_MAX_*,
/// HWR_MIN_IMAGE_SIDE, the documented option ranges); a test compares them.
public enum RecognitionLimits {
    /// Largest decoded image, in pixels; an engine may lower it, never raise it.
    public static let maximumPixels = ImageLimits.maximumPixels
    /// Largest width or height, in pixels.
    public static let maximumSide = ImageLimits.maximumSide
    /// Smallest width and height that can be read, in pixels.
    public static let minimumSide = ImageLimits.minimumSide
    /// Largest image file read, in bytes.
    public static let maximumFileBytes = ImageLimits.maximumFileBytes
    /// Largest number of images in one batch or sequence request.
    public static let maximumBatch = 4096
    /// Largest number of lexicon words.
    public static let maximumLexiconWords = 1_000_000
    /// Beam widths accepted.
    public static let beamWidth = 1...1000
    /// Numbers of alternative readings accepted.
    public static let alternatives = 1...100
    /// Reject thresholds accepted (a probability).
    public static let rejectThreshold: ClosedRange<Float> = 0...1
    /// Deadlines accepted, in milliseconds from the start of a call (0: none; about 24 days at most).
    public static let deadlineMilliseconds = 0...Int(Int32.max)
}

/// Everything a request may ask besides its images; the defaults are those of
/// `hwr_recognize_options_init` (include/hwr.h), checked by a test.
public struct RecognitionOptions: Sendable, Equatable {
    /// How to read each image (default: one character).
    public var mode: RecognitionMode = .char
    /// Candidates per image in character mode, 1 to the model's classes (default 5; fewer when the
    /// charset allows fewer).
    public var topK = 5
    /// Text decoding and rejection (beam, alternatives, constraints, reject threshold), which apply
    /// to every mode (charset and reject threshold to characters too).
    public var text = TextOptions()

    /// The defaults.
    public init() {}

    /// Checks every range that does not depend on the model.
    /// - Throws: `HWRError.invalidArgument` naming the option.
    public func validate() throws {
        guard topK >= 1 else { throw HWRError.invalidArgument("top_k must be at least 1, got \(topK)") }
        try text.validate()
    }
}

extension TextOptions {
    /// Checks the ranges of `RecognitionLimits`.
    /// - Throws: `HWRError.invalidArgument` naming the option.
    public func validate() throws {
        guard RecognitionLimits.beamWidth.contains(beamWidth) else {
            throw HWRError.invalidArgument("beam width must be in 1...1000, got \(beamWidth)")
        }
        guard RecognitionLimits.alternatives.contains(alternatives) else {
            throw HWRError.invalidArgument("alternatives must be in 1...100, got \(alternatives)")
        }
        guard RecognitionLimits.rejectThreshold.contains(rejectThreshold) else {
            throw HWRError.invalidArgument("reject threshold must be in [0, 1], got \(rejectThreshold)")
        }
        if let lexicon, lexicon.count > RecognitionLimits.maximumLexiconWords {
            throw HWRError.invalidArgument("the lexicon has \(lexicon.count) words; at most \(RecognitionLimits.maximumLexiconWords)")
        }
    }
}

extension Deadline {
    /// The deadline of a request given `milliseconds` (0: none) from now, the start of its call.
    /// - Throws: `HWRError.invalidArgument` outside `RecognitionLimits.deadlineMilliseconds`.
    public static func after(milliseconds: Int) throws -> Deadline {
        guard RecognitionLimits.deadlineMilliseconds.contains(milliseconds) else {
            throw HWRError.invalidArgument("deadline must be in 0...\(RecognitionLimits.deadlineMilliseconds.upperBound) ms, got \(milliseconds)")
        }
        return Deadline(milliseconds: milliseconds)
    }
}

/// An image as a request carries it. Buffers are borrowed for the duration of the call.
public enum ImageInput {
    /// A PNG, JPEG or PGM file in memory.
    case encoded(UnsafeRawBufferPointer)
    /// Raw 8-bit grey pixels, `stride` bytes per row.
    case gray8(UnsafeRawBufferPointer, width: Int, height: Int, stride: Int)
    /// Raw 8-bit R, G, B, A pixels, `stride` bytes per row.
    case rgba8(UnsafeRawBufferPointer, width: Int, height: Int, stride: Int)
    /// An image file (PNG, JPEG, PGM).
    case file(String)
    /// An image already decoded.
    case decoded(GrayImage)
    /// An image its front end could not describe (a NULL buffer, a bad struct size): reported as
    /// this image's error, like a decoding failure.
    case untranslatable(HWRError)
}

extension Recognizer {
    /// Decodes one input under this engine's pixel limit.
    /// - Throws: `HWRError` (`.io` for an unreadable file, `.imageDecode`, `.imageTooLarge`, `.imageEmpty`,
    ///   `.invalidArgument` for an inconsistent buffer, `.outOfMemory`).
    public func decode(_ input: ImageInput) throws -> GrayImage {
        try classified {
            switch input {
            case let .encoded(bytes):
                return try GrayImage(encoded: Data(bytes), maximumPixels: maximumPixels)
            case let .gray8(bytes, width, height, stride):
                return try GrayImage(gray8: bytes, width: width, height: height, stride: stride, maximumPixels: maximumPixels)
            case let .rgba8(bytes, width, height, stride):
                return try GrayImage(rgba8: bytes, width: width, height: height, stride: stride, maximumPixels: maximumPixels)
            case let .file(path):
                return try GrayImage(contentsOfFile: path, maximumPixels: maximumPixels)
            case let .decoded(image):
                try GrayImage.checkSize(width: image.width, height: image.height, maximumPixels: maximumPixels)
                return image
            case let .untranslatable(error):
                throw error
            }
        }
    }

    /// The one request path of every front end: decodes each image, reads it in `options.mode`
    /// (character images in batched passes, lines spread over the engine's threads) and applies
    /// rejection. Each image succeeds or fails on its own; once `options.text.deadline` passes, the
    /// images not yet read fail with `HWRError.deadlineExceeded`.
    /// - Parameter images: 1 to `RecognitionLimits.maximumBatch` images.
    /// - Returns: one result per image, in order.
    /// - Throws: `HWRError` when the request itself is invalid (options, batch size, no line model in
    ///   line mode).
    public func read(_ images: [ImageInput], options: RecognitionOptions = .init()) throws -> [Result<TextReading, HWRError>] {
        try checkBatch(images.count)
        try options.validate()
        let deadline = options.text.deadline
        let decoded = images.map { input in Result { try deadline.check(); return try decode(input) }.mapError(HWRError.init) }
        let good = decoded.compactMap { try? $0.get() }
        let readings: [Result<TextReading, Error>] = try classified {
            switch options.mode {
            case .char:
                // Passes of a bounded number of images, with the deadline checked between them.
                let passSize = CharacterClassifier.retainedBatch * threads // each thread's share stays in its workspaces
                return try stride(from: 0, to: good.count, by: passSize).flatMap { start -> [Result<TextReading, Error>] in
                    let pass = Array(good[start..<min(good.count, start + passSize)])
                    if deadline.hasPassed { return pass.map { _ in .failure(DeadlineExceeded(milliseconds: deadline.milliseconds)) } }
                    return try recognize(pass, topK: options.topK, allowed: options.text.charset).map { r in
                        r.map { TextReading(character: $0, rejectThreshold: options.text.rejectThreshold) }
                    }
                }
            case .line: return try recognizeLines(good, options: options.text)
            case .auto: return try recognizeAuto(good, options: options.text)
            case .page:
                _ = try lineReader(for: options.text)
                return good.map { image in Result { TextReading(page: try recognizePage(image, options: options.text)) } }
            }
        }
        var next = 0
        return decoded.map { d -> Result<TextReading, HWRError> in
            switch d {
            case let .failure(error): return .failure(error)
            case .success: defer { next += 1 }; return readings[next].mapError(HWRError.init)
            }
        }
    }

    /// Reads `images`, in order, as the characters of one string (`options.mode` is ignored).
    /// - Throws: `HWRError`: the request's, or the first unreadable image's (its index in the message).
    public func readSequence(_ images: [ImageInput], options: RecognitionOptions = .init()) throws -> TextReading {
        try checkBatch(images.count)
        try options.validate()
        return try classified {
            let decoded = try images.enumerated().map { i, input in
                try options.text.deadline.check()
                do { return try decode(input) } catch { throw SequenceImageError(index: i, underlying: error) }
            }
            return try recognizeSequence(decoded, options: options.text)
        }
    }

    private func checkBatch(_ count: Int) throws {
        guard count >= 1 else { throw HWRError.invalidArgument("no image given") }
        guard count <= RecognitionLimits.maximumBatch else {
            throw HWRError.invalidArgument("\(count) images exceed the batch limit of \(RecognitionLimits.maximumBatch)")
        }
    }
}
