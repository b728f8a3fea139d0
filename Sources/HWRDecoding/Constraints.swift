/// Errors in decoding options given by a caller.
public enum ConstraintError: Error, Equatable, CustomStringConvertible {
    /// A charset, pattern or lexicon that cannot be used.
    case invalid(String)

    /// A readable message.
    public var description: String {
        switch self { case let .invalid(m): return "invalid decoding option: \(m)" }
    }
}

extension DecodingConstraint {
    /// Builds a constraint from caller options.
    /// - Parameters:
    ///   - charset: a name (see `allowedClasses`) or the allowed characters themselves; nil for all
    ///   - pattern: a fixed-length pattern (see `parsePattern`); nil for none
    ///   - lexicon: allowed words; nil for none
    ///   - classOf: the class of a character (already upper-cased), nil if the model lacks it
    ///   - classes: number of character classes
    ///   - fold: for a model with case (the text-line model), the upper-case class of each class:
    ///     charsets, patterns and lexicons then match either case; nil when the model has no case
    /// - Throws: `ConstraintError.invalid`.
    ///   - lexiconPerWord: the lexicon is a dictionary for each word of free text, not the list of
    ///     whole readings
    public static func make(charset: String?, pattern: String?, lexicon: [String]?, classes: Int,
                            classOf: (Character) -> Int?, fold: [Int]? = nil, lexiconPerWord: Bool = false) throws -> DecodingConstraint {
        var constraint = DecodingConstraint()
        constraint.lexiconPerWord = lexiconPerWord
        /// Every class whose upper-case class is in `set`.
        func unfolded(_ set: Set<Int>) -> Set<Int> {
            guard let fold else { return set }
            return Set((0..<classes).filter { set.contains(fold[$0]) })
        }
        if let charset {
            constraint.allowedClasses = try allowedClasses(charset, classes: classes, classOf: classOf)
            if let fold, Self.upperCaseCharsets.contains(charset.lowercased()) { constraint.caseFold = fold + [classes] }
        }
        if let pattern { constraint.pattern = try parsePattern(pattern, classes: classes, classOf: classOf).map(unfolded) }
        if let lexicon {
            let l = Lexicon(words: lexicon, classOf: classOf, fold: fold)
            guard l.count > 0 else { throw ConstraintError.invalid("the lexicon has no word made of the model's characters") }
            constraint.lexicon = l
        }
        return constraint
    }

    /// Charset names that read letters as upper case: on a model with case, lower-case letters are
    /// folded into their upper-case classes (see `DecodingConstraint.caseFold`).
    public static let upperCaseCharsets: Set<String> = ["letters", "alnum"]

    /// The classes of a charset option: "digits" (0-9), "letters" (A-Z), "alnum" (0-9 and A-Z: the
    /// character model's 36 classes), "text" (every class of the model), or the characters
    /// themselves, each its own class, or its upper-case class when the model has no lower case.
    /// Names are case-insensitive.
    /// - Throws: `ConstraintError.invalid` for a character outside the model or an empty list.
    public static func allowedClasses(_ charset: String, classes: Int, classOf: (Character) -> Int?) throws -> Set<Int> {
        let digits = Set("0123456789".compactMap(classOf)), letters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ".compactMap(classOf))
        switch charset.lowercased() {
        case "digits": return digits
        case "letters": return letters
        case "alnum": return digits.union(letters)
        case "text": return Set(0..<classes)
        default:
            var set = Set<Int>()
            for ch in charset {
                guard let k = classOf(ch) ?? classOf(ch.upperCaseForm) else {
                    throw ConstraintError.invalid("character \"\(ch)\" is not in the model's charset")
                }
                set.insert(k)
            }
            guard !set.isEmpty else { throw ConstraintError.invalid("empty charset") }
            return set
        }
    }

    /// Parses a fixed-length pattern: a sequence of items, each a literal character, `.` (any),
    /// `\d` (digit), `\a` (letter), or a set like `[A-F0-9]`, optionally followed by `{n}` (n copies).
    /// Example: `\a\d{4}` reads one letter then four digits, like "A7342".
    /// - Throws: `ConstraintError.invalid` naming the problem.
    public static func parsePattern(_ pattern: String, classes: Int, classOf: (Character) -> Int?) throws -> [Set<Int>] {
        let chars = Array(pattern)
        var i = 0
        var positions: [Set<Int>] = []
        let all = Set(0..<classes)
        func classOrThrow(_ c: Character) throws -> Int {
            guard let k = classOf(c.upperCaseForm) else { throw ConstraintError.invalid("pattern character \"\(c)\" is not in the model's charset") }
            return k
        }
        while i < chars.count {
            var item: Set<Int>
            switch chars[i] {
            case ".": item = all; i += 1
            case "\\":
                guard i + 1 < chars.count else { throw ConstraintError.invalid("pattern ends with \\") }
                switch chars[i + 1] {
                case "d": item = Set("0123456789".compactMap(classOf))
                case "a": item = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ".compactMap(classOf))
                default: item = [try classOrThrow(chars[i + 1])]
                }
                i += 2
            case "[":
                guard let close = chars[i...].firstIndex(of: "]"), close > i + 1 else { throw ConstraintError.invalid("unclosed [ in pattern") }
                item = []
                var j = i + 1
                while j < close {
                    if j + 2 < close, chars[j + 1] == "-" {
                        guard let lo = chars[j].asciiValue, let hi = chars[j + 2].asciiValue, lo <= hi else {
                            throw ConstraintError.invalid("bad range in pattern")
                        }
                        for v in lo...hi { item.insert(try classOrThrow(Character(UnicodeScalar(v)))) }
                        j += 3
                    } else {
                        item.insert(try classOrThrow(chars[j])); j += 1
                    }
                }
                i = close + 1
            default:
                item = [try classOrThrow(chars[i])]; i += 1
            }
            var count = 1
            if i < chars.count, chars[i] == "{" {
                guard let close = chars[i...].firstIndex(of: "}"), let n = Int(String(chars[(i + 1)..<close])), n >= 1, n <= 64 else {
                    throw ConstraintError.invalid("bad {n} in pattern")
                }
                count = n
                i = close + 1
            }
            positions += Array(repeating: item, count: count)
        }
        guard !positions.isEmpty, positions.count <= 256 else { throw ConstraintError.invalid("pattern must have 1 to 256 positions") }
        return positions
    }
}

/// Decodes a sequence of per-character distributions (one character image each) into strings.
public enum SequenceDecoder {
    /// Beam search over positions under a constraint.
    /// - Parameters:
    ///   - distributions: one probability vector (over the character classes) per image
    ///   - alternatives: readings to return, best first
    ///   - deadline: checked at every position
    /// - Returns: readings whose `logProbability` is the sum of the chosen characters' log-probabilities,
    ///   with one character per image (`firstStep` = `lastStep` = its index).
    /// - Throws: `DeadlineExceeded` when `deadline` passes before the search is done.
    public static func decode(_ distributions: [[Float]], charset: [Character], constraint: DecodingConstraint,
                              beamWidth: Int, alternatives: Int, deadline: Deadline = .never) throws -> [LineReading] {
        struct Beam { var classes: [Int]; var score: Float; var node: Int }
        var beams = [Beam(classes: [], score: 0, node: 0)]
        for d in distributions {
            try deadline.check()
            var next: [Beam] = []
            for beam in beams {
                for k in 0..<d.count where d[k] > 0 && constraint.allows(k, afterLength: beam.classes.count, node: beam.node) {
                    next.append(Beam(classes: beam.classes + [k], score: beam.score + logf(max(d[k], 1e-30)),
                                     node: constraint.lexicon?.child(of: beam.node, k) ?? 0))
                }
            }
            beams = Array(next.sorted { $0.score > $1.score }.prefix(max(1, beamWidth)))
        }
        return beams.filter { constraint.accepts(length: $0.classes.count, node: $0.node) }
            .prefix(max(1, alternatives)).map { beam in
                LineReading(text: beam.classes.map { String(charset[$0]) }.joined(), logProbability: beam.score,
                            characters: beam.classes.enumerated().map { i, k in
                                DecodedCharacter(text: String(charset[k]), probability: distributions[i][k], firstStep: i, lastStep: i)
                            })
            }
    }
}

import Glibc

extension Character {
    /// The character's upper case when that is one character ("a" gives "A"), else the character
    /// itself ("ß", whose upper case is "SS"): case folding never traps on such characters.
    public var upperCaseForm: Character {
        let upper = uppercased()
        return upper.count == 1 ? Character(upper) : self
    }
}
