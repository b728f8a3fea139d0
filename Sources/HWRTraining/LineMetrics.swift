/// Levenshtein distance between two sequences.
public func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count), current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// Character and word error rates of transcriptions against references.
public struct TranscriptionMetrics: Codable, Sendable {
    /// Lines compared.
    public var lines: Int
    /// Character error rate: total edit distance over total reference characters.
    public var characterErrorRate: Double
    /// Word error rate: word-level edit distance over reference words (words split on spaces).
    public var wordErrorRate: Double
    /// Share of lines read exactly.
    public var lineAccuracy: Double

    /// Compares hypotheses with references, pairwise.
    /// - Parameter foldingCase: compare case-insensitively (both sides lower-cased).
    public init(references: [String], hypotheses: [String], foldingCase: Bool = false) {
        precondition(references.count == hypotheses.count)
        var charErrors = 0, chars = 0, wordErrors = 0, words = 0, exact = 0
        for (reference, hypothesis) in zip(references, hypotheses) {
            let r = foldingCase ? reference.lowercased() : reference, h = foldingCase ? hypothesis.lowercased() : hypothesis
            charErrors += editDistance(Array(r), Array(h)); chars += r.count
            let rw = r.split(separator: " ").map(String.init), hw = h.split(separator: " ").map(String.init)
            wordErrors += editDistance(rw, hw); words += rw.count
            if r == h { exact += 1 }
        }
        lines = references.count
        characterErrorRate = chars == 0 ? 0 : Double(charErrors) / Double(chars)
        wordErrorRate = words == 0 ? 0 : Double(wordErrors) / Double(words)
        lineAccuracy = lines == 0 ? 0 : Double(exact) / Double(lines)
    }
}

/// What a transcription is made of, for reporting line accuracy by kind.
public enum TextKind: String, CaseIterable, Sendable {
    /// Only digits.
    case digits
    /// Only letters.
    case letters
    /// Digits and letters.
    case mixed

    /// The kind of a transcription (an empty one counts as mixed).
    public init(of text: String) {
        if !text.isEmpty, text.allSatisfy(\.isNumber) { self = .digits }
        else if !text.isEmpty, text.allSatisfy(\.isLetter) { self = .letters }
        else { self = .mixed }
    }

    /// The character-set constraint a caller who knows the kind would pass.
    public var charset: String {
        switch self {
        case .digits: "digits"
        case .letters: "letters"
        case .mixed: "alnum"
        }
    }
}
