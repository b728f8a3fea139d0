import Glibc
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

    /// The posteriors with each class's probability added to class `map[k]` (and its own set to 0
    /// where `map[k] != k`): a lower-case letter then counts as its upper-case class, so "a" then
    /// "A" over neighbouring steps collapse into one character as CTC collapses repeats.
    /// `map` has `classes` entries (the blank maps to itself).
    public func folded(_ map: [Int]) -> CTCPosteriors {
        precondition(map.count == classes)
        var folded = [Float](repeating: 0, count: probabilities.count)
        for t in 0..<steps {
            let row = t * classes
            for k in 0..<classes { folded[row + map[k]] += probabilities[row + k] }
        }
        return CTCPosteriors(steps: steps, classes: classes, probabilities: folded)
    }
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
    /// Whether the lexicon applies to each word of free text (a dictionary: words from the list,
    /// separated by any other characters, such as spaces, digits and punctuation) instead of to the
    /// whole line.
    public var lexiconPerWord = false
    /// For a charset that reads upper case (`letters`, `alnum`) on a model with case: each class's
    /// folded class; decoding adds each class's posterior to its folded class first (see
    /// `CTCPosteriors.folded`). Nil: no folding.
    public var caseFold: [Int]?

    /// No restriction.
    public init(allowedClasses: Set<Int>? = nil, lexicon: Lexicon? = nil, pattern: [Set<Int>]? = nil) {
        self.allowedClasses = allowedClasses; self.lexicon = lexicon; self.pattern = pattern
    }

    /// Whether appending class `k` to a prefix (of `length` classes, at trie `node`) is allowed.
    func allows(_ k: Int, afterLength length: Int, node: Int) -> Bool {
        if let a = allowedClasses, !a.contains(k) { return false }
        if let p = pattern, length >= p.count || !p[length].contains(k) { return false }
        if let l = lexicon {
            if lexiconPerWord && !l.wordClasses.contains(k) {
                // A separator ends the word being read, which must then be a whole word.
                return node == 0 || l.isWord(node)
            }
            if l.child(of: node, k) == nil { return false }
        }
        return true
    }

    /// Whether nothing is restricted.
    public var isUnconstrained: Bool { allowedClasses == nil && lexicon == nil && pattern == nil }

    /// Whether a finished prefix is acceptable.
    func accepts(length: Int, node: Int) -> Bool {
        if let p = pattern, length != p.count { return false }
        if let l = lexicon, !l.isWord(node), !(lexiconPerWord && node == 0) { return false }
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

    /// Most classes that extend one prefix at one step under a constraint: the likeliest ones the
    /// constraint allows at that step. Bounds the search's work to steps x beam width x this.
    public static let maximumExtensionsPerStep = 12

    /// Prefix beam search under a constraint (Hannun et al. 2014, "First-pass large vocabulary
    /// continuous speech recognition using bi-directional recurrent DNNs": prefixes with separate
    /// blank and non-blank probabilities). Prefixes live in a trie, so extending one costs O(1), and
    /// each step keeps the `beamWidth` best in linear time; a prefix is extended by the classes of
    /// non-negligible probability (no constraint) or the `maximumExtensionsPerStep` likeliest classes
    /// the constraint allows. The work is at most steps x beamWidth x (maximumExtensionsPerStep + 2)
    /// prefix updates, whatever the pattern or lexicon.
    /// - Parameters:
    ///   - beamWidth: prefixes kept per step (>= 1)
    ///   - alternatives: how many readings to return, best first
    ///   - deadline: checked at every step
    /// - Returns: up to `alternatives` readings (empty when the constraint admits nothing).
    /// - Throws: `DeadlineExceeded` when `deadline` passes before the search is done.
    public static func beamSearch(_ x: CTCPosteriors, charset: [Character], beamWidth: Int,
                                  constraint: DecodingConstraint = .init(), alternatives: Int = 1,
                                  deadline: Deadline = .never) throws -> [LineReading] {
        let trie = PrefixTrie()
        struct Beam { var node: Int32; var blank: Float; var nonBlank: Float
            var total: Float { logAdd(blank, nonBlank) } }
        var beams = [Beam(node: 0, blank: 0, nonBlank: -.infinity)]
        /// In a dictionary (words mode), the likeliest candidate that could end the reading (its last
        /// word complete), when no kept beam could: kept beside the beam, so that a dictionary of many
        /// words whose prefixes fill the beam cannot leave no reading at the end. Only prefixes that
        /// have a node already (the survivors' own extensions) are looked at.
        func bestFinishable(_ candidates: [Beam], keys: [Int], kept: [Int]) -> Int? {
            func finishable(_ i: Int) -> Bool {
                guard let node = keys[i] == 0 ? 0 : trie.nodes[keys[i]].map(Int.init) else { return false }
                return constraint.accepts(length: Int(trie.length[node]), node: Int(trie.lexiconNode[node]))
            }
            guard !kept.contains(where: finishable) else { return nil }
            return candidates.indices.filter(finishable).max { candidates[$0].total < candidates[$1].total }
        }
        let logProbabilities = logTable(x)
        let labels = x.classes - 1
        var order = Array(0..<labels)
        for t in 0..<x.steps {
            try deadline.check()
            let row = t * x.classes
            // Candidate extensions are keyed by (parent prefix, class): the same key whether the
            // prefix's node exists already or not.
            var index: [Int: Int] = [:]
            var keys: [Int] = [], next: [Beam] = []
            func add(_ key: Int, blank: Float = -.infinity, nonBlank: Float = -.infinity) {
                if let i = index[key] {
                    next[i].blank = logAdd(next[i].blank, blank); next[i].nonBlank = logAdd(next[i].nonBlank, nonBlank)
                } else {
                    index[key] = next.count; keys.append(key)
                    next.append(Beam(node: -1, blank: blank, nonBlank: nonBlank))
                }
            }
            // Classes by probability at this step, likeliest first.
            order.sort { logProbabilities[row + $0] > logProbabilities[row + $1] }
            let pBlank = logProbabilities[row + x.blank]
            for beam in beams {
                let node = Int(beam.node), last = trie.label[node]
                let own = trie.key(of: node)
                add(own, blank: beam.total + pBlank)
                if last >= 0 { add(own, nonBlank: beam.nonBlank + logProbabilities[row + Int(last)]) }
                var extended = 0
                for k in order {
                    if constraint.isUnconstrained {
                        guard x.probabilities[row + k] > 1e-4 else { break }
                    } else {
                        guard extended < maximumExtensionsPerStep else { break }
                        guard constraint.allows(k, afterLength: Int(trie.length[node]), node: Int(trie.lexiconNode[node])) else { continue }
                    }
                    extended += 1
                    // After the same class, a new character needs a blank in between.
                    add(PrefixTrie.key(parent: node, label: k), nonBlank: (k == Int(last) ? beam.blank : beam.total) + logProbabilities[row + k])
                }
            }
            // Keep the best `beamWidth` (linear-time selection), then give the survivors trie nodes.
            var kept = bestIndices(next.map(\.total), count: max(1, beamWidth))
            if constraint.lexiconPerWord, let safe = bestFinishable(next, keys: keys, kept: kept) { kept.append(safe) }
            beams = kept.map { i in
                var b = next[i]
                b.node = Int32(trie.node(forKey: keys[i], lexicon: constraint.lexicon))
                return b
            }
        }
        let finished = beams.filter { constraint.accepts(length: Int(trie.length[Int($0.node)]), node: Int(trie.lexiconNode[Int($0.node)])) }
            .sorted { $0.total > $1.total }.prefix(max(1, alternatives))
        // A pattern or lexicon can leave no finished reading in a narrow beam (the likelier prefixes
        // were unfinished): search again with a wider beam before giving up.
        if finished.isEmpty && beamWidth < 256 && !constraint.isUnconstrained {
            return try beamSearch(x, charset: charset, beamWidth: beamWidth * 4, constraint: constraint, alternatives: alternatives,
                                  deadline: deadline)
        }
        let readings = finished.map { reading(trie.labels(of: Int($0.node)), x, charset: charset, logProbabilities: logProbabilities) }
        guard let lexicon = constraint.lexicon, !constraint.lexiconPerWord else { return readings }
        // A whole-line lexicon word is returned as the lexicon spells it: the case variants a model
        // with case read it in are one reading (the likeliest one's probability).
        var seen = Set<String>()
        return zip(finished, readings).compactMap { beam, r in
            guard let spelling = lexicon.spelling(ofWordAt: Int(trie.lexiconNode[Int(beam.node)])) else { return r }
            guard seen.insert(spelling).inserted else { return nil }
            let characters = zip(r.characters, spelling).map { c, s in
                DecodedCharacter(text: String(s), probability: c.probability, firstStep: c.firstStep, lastStep: c.lastStep)
            }
            return LineReading(text: spelling, logProbability: r.logProbability, characters: characters)
        }
    }

    /// Indices of the `count` largest values (all of them when there are fewer), in no set order:
    /// a quickselect of the threshold, so linear in `values.count` on average.
    static func bestIndices(_ values: [Float], count: Int) -> [Int] {
        guard values.count > count else { return Array(values.indices) }
        var scratch = values
        // The count-th largest value: quickselect over a copy.
        var lo = 0, hi = scratch.count - 1, target = count - 1
        var generator = SplitMix(seed: UInt64(values.count))
        while lo < hi {
            let pivot = scratch[lo + Int(generator.next() % UInt64(hi - lo + 1))]
            var i = lo, j = hi
            while i <= j {
                while scratch[i] > pivot { i += 1 }
                while scratch[j] < pivot { j -= 1 }
                if i <= j { scratch.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        let threshold = scratch[target]
        var above = values.indices.filter { values[$0] > threshold }
        for i in values.indices where values[i] == threshold && above.count < count { above.append(i) }
        return above
    }

    /// Builds a reading of a label sequence: its exact probability and a best-path alignment.
    static func reading(_ labels: [Int], _ x: CTCPosteriors, charset: [Character], logProbabilities: [Float]? = nil) -> LineReading {
        let (logProbability, spans) = align(labels, x, logProbabilities: logProbabilities ?? logTable(x))
        let chars = zip(labels, spans).map { k, span -> DecodedCharacter in
            var p: Float = 0
            for t in span.0...span.1 { p = max(p, x.p(t, k)) }
            return DecodedCharacter(text: String(charset[k]), probability: p, firstStep: span.0, lastStep: span.1)
        }
        return LineReading(text: labels.map { String(charset[$0]) }.joined(), logProbability: logProbability, characters: chars)
    }

    /// The natural logarithm of every posterior (`steps * classes`, floored at 1e-30).
    static func logTable(_ x: CTCPosteriors) -> [Float] { x.probabilities.map { logf(max($0, 1e-30)) } }

    /// Forward algorithm for log P(labels), and a Viterbi alignment giving each label's step span.
    /// `logProbabilities` is `logTable(x)`.
    static func align(_ labels: [Int], _ x: CTCPosteriors, logProbabilities lp: [Float]) -> (Float, [(Int, Int)]) {
        let s = 2 * labels.count + 1, blank = x.blank, classes = x.classes
        let ext = (0..<s).map { $0 % 2 == 0 ? blank : labels[$0 / 2] }
        guard x.steps > 0 else { return (labels.isEmpty ? 0 : -.infinity, labels.map { _ in (0, 0) }) }
        var alpha = [Float](repeating: -.infinity, count: s), viterbi = alpha
        // The next step's values, swapped in after each step.
        var na = [Float](repeating: -.infinity, count: s), nv = [Float](repeating: -.infinity, count: s)
        var from = [Int](repeating: 0, count: x.steps * s)
        alpha[0] = lp[ext[0]]; viterbi[0] = alpha[0]
        if s > 1 { alpha[1] = lp[ext[1]]; viterbi[1] = alpha[1]; from[1] = 1 }
        for t in 1..<x.steps {
            let row = t * classes
            for i in 0..<s {
                var a = alpha[i], v = viterbi[i], arg = i
                if i >= 1 { a = logAdd(a, alpha[i - 1]); if viterbi[i - 1] > v { v = viterbi[i - 1]; arg = i - 1 } }
                if i >= 2, ext[i] != blank, ext[i] != ext[i - 2] {
                    a = logAdd(a, alpha[i - 2]); if viterbi[i - 2] > v { v = viterbi[i - 2]; arg = i - 2 }
                }
                let l = lp[row + ext[i]]
                na[i] = a + l; nv[i] = v + l; from[t * s + i] = arg
            }
            swap(&alpha, &na); swap(&viterbi, &nv)
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

/// The prefixes of a beam search as a trie: node 0 is the empty prefix; each other node is its
/// parent plus one class. Nodes are made only for prefixes that survive a step.
final class PrefixTrie {
    var parent: [Int32] = [-1], label: [Int32] = [-1], length: [Int32] = [0], lexiconNode: [Int32] = [0]
    var nodes: [Int: Int32] = [:]

    /// The key of the prefix `parent` + `label`; the empty prefix has key 0.
    static func key(parent: Int, label: Int) -> Int { (parent + 1) << 16 | (label + 1) }

    /// The key of an existing node.
    func key(of node: Int) -> Int { node == 0 ? 0 : Self.key(parent: Int(parent[node]), label: Int(label[node])) }

    /// The node of a key, made if needed.
    func node(forKey key: Int, lexicon: Lexicon?) -> Int {
        if key == 0 { return 0 }
        if let n = nodes[key] { return Int(n) }
        let p = (key >> 16) - 1, k = (key & 0xFFFF) - 1
        let n = parent.count
        parent.append(Int32(p)); label.append(Int32(k)); length.append(length[p] + 1)
        lexiconNode.append(Int32(lexicon?.child(of: Int(lexiconNode[p]), k) ?? 0))
        nodes[key] = Int32(n)
        return n
    }

    /// The classes of the prefix at `node`, first to last.
    func labels(of node: Int) -> [Int] {
        var out: [Int] = [], n = node
        while n > 0 { out.append(Int(label[n])); n = Int(parent[n]) }
        return out.reversed()
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small seeded generator for pivot choices.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
