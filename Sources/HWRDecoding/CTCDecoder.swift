import Foundation
import HWRKernels

/// Per-step class probabilities of one line, as a CTC model outputs them.
public struct CTCPosteriors: Sendable {
    /// Time steps.
    public let steps: Int
    /// Classes per step; the last one is the blank.
    public let classes: Int
    /// `steps * classes` probabilities, row per step.
    public let probabilities: [Float]
    /// Index of the blank class.
    public var blank: Int { classes - 1 }

    /// Wraps probabilities.
    public init(steps: Int, classes: Int, probabilities: [Float]) {
        precondition(probabilities.count == steps * classes && classes >= 2)
        self.steps = steps; self.classes = classes; self.probabilities = probabilities
    }

    @inline(__always) func p(_ t: Int, _ k: Int) -> Float { probabilities[t * classes + k] }
}

/// One recognised character of a line.
public struct DecodedCharacter: Equatable, Sendable {
    /// The character.
    public var text: String
    /// Its probability: the highest posterior of its class over the steps aligned to it.
    public var probability: Float
    /// First and last time step aligned to it (inclusive).
    public var firstStep: Int, lastStep: Int

    /// A character read between two time steps.
    public init(text: String, probability: Float, firstStep: Int, lastStep: Int) {
        self.text = text; self.probability = probability; self.firstStep = firstStep; self.lastStep = lastStep
    }
}

/// A reading of a whole line.
public struct LineReading: Equatable, Sendable {
    /// The text.
    public var text: String
    /// Natural log of P(text | image), summed over every alignment.
    public var logProbability: Float
    /// Its characters with confidences and positions.
    public var characters: [DecodedCharacter]
    /// P(text | image).
    public var probability: Float { expf(logProbability) }

    /// A reading.
    public init(text: String, logProbability: Float, characters: [DecodedCharacter]) {
        self.text = text; self.logProbability = logProbability; self.characters = characters
    }
}

/// Restricts which strings a decoder may output.
public struct DecodingConstraint: Sendable {
    /// Allowed classes (nil: all).
    public var allowedClasses: Set<Int>?
    /// A lexicon: only its words may be output.
    public var lexicon: Lexicon?
    /// A fixed-length pattern: the allowed classes at each position.
    public var pattern: [Set<Int>]?

    /// No restriction.
    public init(allowedClasses: Set<Int>? = nil, lexicon: Lexicon? = nil, pattern: [Set<Int>]? = nil) {
        self.allowedClasses = allowedClasses; self.lexicon = lexicon; self.pattern = pattern
    }

    /// Whether appending class `k` to a prefix (of `length` classes, at trie `node`) is allowed.
    func allows(_ k: Int, afterLength length: Int, node: Int) -> Bool {
        if let a = allowedClasses, !a.contains(k) { return false }
        if let p = pattern, length >= p.count || !p[length].contains(k) { return false }
        if let l = lexicon, l.child(of: node, k) == nil { return false }
        return true
    }

    /// Whether nothing is restricted.
    public var isUnconstrained: Bool { allowedClasses == nil && lexicon == nil && pattern == nil }

    /// Whether a finished prefix is acceptable.
    func accepts(length: Int, node: Int) -> Bool {
        if let p = pattern, length != p.count { return false }
        if let l = lexicon, !l.isWord(node) { return false }
        return true
    }
}

/// Greedy and beam-search decoding of CTC posteriors.
public enum CTCDecoder {
    /// Best path: the most likely class per step, repeats merged, blanks removed.
    public static func greedy(_ x: CTCPosteriors, charset: [Character]) -> LineReading {
        var labels: [Int] = []
        var previous = x.blank
        for t in 0..<x.steps {
            var best = 0
            for k in 1..<x.classes where x.p(t, k) > x.p(t, best) { best = k }
            if best != x.blank && best != previous { labels.append(best) }
            previous = best
        }
        return reading(labels, x, charset: charset)
    }

    /// Prefix beam search under a constraint.
    /// - Parameters:
    ///   - beamWidth: prefixes kept per step (>= 1)
    ///   - alternatives: how many readings to return, best first
    /// - Returns: up to `alternatives` readings (empty when the constraint admits nothing).
    public static func beamSearch(_ x: CTCPosteriors, charset: [Character], beamWidth: Int,
                                  constraint: DecodingConstraint = .init(), alternatives: Int = 1) -> [LineReading] {
        struct Beam { var blank: Float; var nonBlank: Float; var node: Int
            var total: Float { logAdd(blank, nonBlank) } }
        var beams: [[Int]: Beam] = [[]: Beam(blank: 0, nonBlank: -.infinity, node: 0)]
        let logProbabilities = x.probabilities.map { logf(max($0, 1e-30)) }
        for t in 0..<x.steps {
            var next: [[Int]: Beam] = [:]
            func add(_ prefix: [Int], node: Int, blank: Float = -.infinity, nonBlank: Float = -.infinity) {
                var b = next[prefix] ?? Beam(blank: -.infinity, nonBlank: -.infinity, node: node)
                b.blank = logAdd(b.blank, blank); b.nonBlank = logAdd(b.nonBlank, nonBlank)
                next[prefix] = b
            }
            // Without a constraint only classes with non-negligible probability extend a prefix
            // (pruning); with one, every class may be needed to reach an admissible reading.
            let row = t * x.classes
            let candidates = constraint.isUnconstrained ? (0..<(x.classes - 1)).filter { x.probabilities[row + $0] > 1e-4 }
                                                        : Array(0..<(x.classes - 1))
            let pBlank = logProbabilities[row + x.blank]
            for (prefix, beam) in beams {
                add(prefix, node: beam.node, blank: beam.total + pBlank)
                let last = prefix.last
                if let last { add(prefix, node: beam.node, nonBlank: beam.nonBlank + logProbabilities[row + last]) }
                for k in candidates where constraint.allows(k, afterLength: prefix.count, node: beam.node) {
                    let pk = logProbabilities[row + k]
                    let node = constraint.lexicon?.child(of: beam.node, k) ?? 0
                    // After the same class, a new character needs a blank in between.
                    add(prefix + [k], node: node, nonBlank: (k == last ? beam.blank : beam.total) + pk)
                }
            }
            beams = Dictionary(uniqueKeysWithValues: next.sorted { $0.value.total > $1.value.total }.prefix(max(1, beamWidth)).map { ($0.key, $0.value) })
        }
        let finished = beams.filter { constraint.accepts(length: $0.key.count, node: $0.value.node) }
            .sorted { $0.value.total > $1.value.total }.prefix(max(1, alternatives))
        // A pattern or lexicon can leave no finished reading in a narrow beam (the likelier prefixes
        // were unfinished): search again with a wider beam before giving up.
        if finished.isEmpty && beamWidth < 256 && !constraint.isUnconstrained {
            return beamSearch(x, charset: charset, beamWidth: beamWidth * 4, constraint: constraint, alternatives: alternatives)
        }
        return finished.map { reading($0.key, x, charset: charset) }
    }

    /// Builds a reading of a label sequence: its exact probability and a best-path alignment.
    static func reading(_ labels: [Int], _ x: CTCPosteriors, charset: [Character]) -> LineReading {
        let (logProbability, spans) = align(labels, x)
        let chars = zip(labels, spans).map { k, span -> DecodedCharacter in
            var p: Float = 0
            for t in span.0...span.1 { p = max(p, x.p(t, k)) }
            return DecodedCharacter(text: String(charset[k]), probability: p, firstStep: span.0, lastStep: span.1)
        }
        return LineReading(text: labels.map { String(charset[$0]) }.joined(), logProbability: logProbability, characters: chars)
    }

    /// Forward algorithm for log P(labels), and a Viterbi alignment giving each label's step span.
    static func align(_ labels: [Int], _ x: CTCPosteriors) -> (Float, [(Int, Int)]) {
        let s = 2 * labels.count + 1, blank = x.blank
        let ext = (0..<s).map { $0 % 2 == 0 ? blank : labels[$0 / 2] }
        guard x.steps > 0 else { return (labels.isEmpty ? 0 : -.infinity, labels.map { _ in (0, 0) }) }
        var alpha = [Float](repeating: -.infinity, count: s), viterbi = alpha
        var from = [Int](repeating: 0, count: x.steps * s)
        let lp = { (t: Int, k: Int) in logf(max(x.p(t, k), 1e-30)) }
        alpha[0] = lp(0, ext[0]); viterbi[0] = alpha[0]
        if s > 1 { alpha[1] = lp(0, ext[1]); viterbi[1] = alpha[1]; from[1] = 1 }
        for t in 1..<x.steps {
            var na = [Float](repeating: -.infinity, count: s), nv = na
            for i in 0..<s {
                var a = alpha[i], v = viterbi[i], arg = i
                if i >= 1 { a = logAdd(a, alpha[i - 1]); if viterbi[i - 1] > v { v = viterbi[i - 1]; arg = i - 1 } }
                if i >= 2, ext[i] != blank, ext[i] != ext[i - 2] {
                    a = logAdd(a, alpha[i - 2]); if viterbi[i - 2] > v { v = viterbi[i - 2]; arg = i - 2 }
                }
                na[i] = a + lp(t, ext[i]); nv[i] = v + lp(t, ext[i]); from[t * s + i] = arg
            }
            alpha = na; viterbi = nv
        }
        var total = alpha[s - 1]
        var state = s - 1
        if s > 1 { total = logAdd(total, alpha[s - 2]); if viterbi[s - 2] > viterbi[s - 1] { state = s - 2 } }
        var spans = labels.map { _ in (Int.max, -1) }
        for t in stride(from: x.steps - 1, through: 0, by: -1) {
            if state % 2 == 1 { let j = state / 2; spans[j] = (min(spans[j].0, t), max(spans[j].1, t)) }
            if t > 0 { state = from[t * s + state] }
        }
        return (total, spans.map { $0.1 < 0 ? (0, 0) : $0 })
    }
}
