import Foundation
import HWRDecoding
import HWRKernels
import XCTest

final class CTCTests: XCTestCase {
    /// P(label) by enumerating every path of length T and collapsing it: the definition of CTC.
    func bruteForceLogLikelihood(_ probs: [[Float]], label: [Int], blank: Int) -> Double {
        let t = probs.count, c = probs[0].count
        var total = 0.0
        var path = [Int](repeating: 0, count: t)
        func collapse(_ p: [Int]) -> [Int] {
            var out: [Int] = [], prev = -1
            for k in p { if k != prev && k != blank { out.append(k) }; prev = k }
            return out
        }
        func visit(_ i: Int, _ p: Double) {
            if i == t { if collapse(path) == label { total += p }; return }
            for k in 0..<c { path[i] = k; visit(i + 1, p * Double(probs[i][k])) }
        }
        visit(0, 1)
        return log(total)
    }

    func randomLogits(_ t: Int, _ c: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<(t * c)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(s >> 40) % 2000) / 500 - 2
        }
    }

    func softmax(_ logits: [Float], _ t: Int, _ c: Int) -> [[Float]] {
        var p = [Float](repeating: 0, count: t * c)
        softmaxRows(&p, logits, rows: t, cols: c)
        return (0..<t).map { Array(p[($0 * c)..<($0 * c + c)]) }
    }

    func testLossEqualsBruteForceIncludingRepeatsAndEmptyLabels() {
        let (t, c) = (5, 4) // classes 0, 1, 2 and blank 3
        for (seed, label) in [(1, [0, 1]), (2, [1, 1]), (3, [2]), (4, []), (5, [0, 2, 0]), (6, [1, 1, 1])] as [(UInt64, [Int])] {
            let logits = randomLogits(t, c, seed: seed)
            var d = [Float](repeating: 0, count: t * c)
            let loss = ctcLoss(dLogits: &d, logits: logits, label: label.map(Int32.init), steps: t, classes: c, rowStride: c, scale: 1)
            let expected = -bruteForceLogLikelihood(softmax(logits, t, c), label: label, blank: 3)
            XCTAssertEqual(Double(loss), expected, accuracy: 1e-4, "label \(label)")
        }
        // A label that cannot fit (3 repeats need 5 steps) is infinite, with a zero gradient.
        var d = [Float](repeating: 1, count: 4 * 4)
        XCTAssertEqual(ctcLoss(dLogits: &d, logits: randomLogits(4, 4, seed: 9), label: [1, 1, 1], steps: 4, classes: 4, rowStride: 4, scale: 1), .infinity)
        XCTAssertEqual(d, [Float](repeating: 0, count: 16))
    }

    func testGradientMatchesFiniteDifferences() {
        let (t, c) = (6, 5)
        let label: [Int32] = [1, 3, 3, 0]
        var logits = randomLogits(t, c, seed: 11)
        var d = [Float](repeating: 0, count: t * c)
        _ = ctcLoss(dLogits: &d, logits: logits, label: label, steps: t, classes: c, rowStride: c, scale: 1)
        var scratch = d
        for i in 0..<(t * c) {
            let eps: Float = 1e-2
            let saved = logits[i]
            logits[i] = saved + eps
            let plus = ctcLoss(dLogits: &scratch, logits: logits, label: label, steps: t, classes: c, rowStride: c, scale: 1)
            logits[i] = saved - eps
            let minus = ctcLoss(dLogits: &scratch, logits: logits, label: label, steps: t, classes: c, rowStride: c, scale: 1)
            logits[i] = saved
            XCTAssertEqual(d[i], (plus - minus) / (2 * eps), accuracy: 2e-3, "logit \(i)")
        }
        // Each step's gradient sums to zero (softmax minus a distribution).
        for s in 0..<t { XCTAssertEqual(d[(s * c)..<(s * c + c)].reduce(0, +), 0, accuracy: 1e-5) }
    }

    /// A hand-worked example: blank = class 3, characters "ab" + "c".
    let charset: [Character] = ["A", "B", "C"]
    func posteriors(_ rows: [[Float]]) -> CTCPosteriors {
        CTCPosteriors(steps: rows.count, classes: rows[0].count, probabilities: rows.flatMap { $0 })
    }

    func testGreedyMergesRepeatsAndDropsBlanks() {
        // Best path: A A - B - B B  ->  "ABB"
        let x = posteriors([
            [0.9, 0.05, 0.0, 0.05], [0.8, 0.1, 0.0, 0.1], [0.1, 0.1, 0.0, 0.8], [0.1, 0.7, 0.1, 0.1],
            [0.0, 0.2, 0.0, 0.8], [0.1, 0.8, 0.0, 0.1], [0.0, 0.6, 0.0, 0.4],
        ])
        let r = CTCDecoder.greedy(x, charset: charset)
        XCTAssertEqual(r.text, "ABB")
        XCTAssertEqual(r.characters.map(\.text), ["A", "B", "B"])
        XCTAssertEqual(r.characters[0].probability, 0.9, accuracy: 1e-6)
        XCTAssertEqual(r.characters[0].firstStep, 0)
        XCTAssertEqual(r.characters[0].lastStep, 1)
        XCTAssertEqual(r.characters[2].firstStep, 5)
        XCTAssertLessThan(r.logProbability, 0)
    }

    func testBeamSearchFindsTheMostProbableLabellingThatGreedyMisses() throws {
        // Two steps. The best path is blank, blank (p = 0.36) -> "", but "A" collects three paths.
        let x = posteriors([[0.3, 0.0, 0.1, 0.6], [0.3, 0.0, 0.1, 0.6]])
        XCTAssertEqual(CTCDecoder.greedy(x, charset: charset).text, "")
        // P("") = .36; P("A") = .3*.6 + .6*.3 + .3*.3 = .45; P("C") = .1*.6*2 + .01 = .13
        let beams = try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8, alternatives: 3)
        XCTAssertEqual(beams.map(\.text), ["A", "", "C"])
        XCTAssertEqual(beams[0].probability, 0.45, accuracy: 1e-4)
        XCTAssertEqual(beams[1].probability, 0.36, accuracy: 1e-4)
    }

    func testLexiconPatternAndCharsetConstraints() throws {
        let classOf = { (ch: Character) in ["A": 0, "B": 1, "C": 2][ch] }
        let x = posteriors([[0.6, 0.3, 0.05, 0.05], [0.05, 0.05, 0.3, 0.6], [0.3, 0.6, 0.05, 0.05]])
        XCTAssertEqual(try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8).first?.text, "AB")
        let lexicon = Lexicon(words: ["cab", "bb", "zz"], classOf: classOf)
        XCTAssertEqual(lexicon.count, 2, "zz has characters outside the charset")
        let withLexicon = try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8, constraint: .init(lexicon: lexicon), alternatives: 5)
        XCTAssertEqual(Set(withLexicon.map(\.text)), ["cab", "bb"], "lexicon words as the list spells them")
        XCTAssertEqual(withLexicon.first?.text, "bb")
        XCTAssertEqual(withLexicon.first?.characters.map(\.text), ["b", "b"])
        let onlyC = try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8, constraint: .init(allowedClasses: [2]))
        XCTAssertTrue(onlyC.allSatisfy { $0.text.allSatisfy { $0 == "C" } })
        let pattern = try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8, constraint: .init(pattern: [[1, 2], [0], [1]]))
        XCTAssertEqual(pattern.first?.text, "BAB", "P(BAB) = .3 * .05 * .6 beats P(CAB) = .05 * .05 * .6")
    }

    func testADictionaryConstrainsEachWordOfFreeText() throws {
        // Classes A, B, C and a separator "-" (a space or punctuation), then the blank.
        let chars: [Character] = ["A", "B", "C", "-"]
        let classOf = { (ch: Character) in chars.firstIndex(of: ch) }
        func steps(_ rows: [[Float]]) -> CTCPosteriors { CTCPosteriors(steps: rows.count, classes: 5, probabilities: rows.flatMap { $0 }) }
        // Read greedily: "AC-BA" (C narrowly beats B at step 2, A beats B at step 5).
        let x = steps([[0.9, 0.05, 0.02, 0.01, 0.02], [0.02, 0.45, 0.5, 0.01, 0.02], [0.01, 0.01, 0.01, 0.95, 0.02],
                       [0.02, 0.9, 0.05, 0.01, 0.02], [0.5, 0.45, 0.02, 0.01, 0.02]])
        XCTAssertEqual(CTCDecoder.greedy(x, charset: chars).text, "AC-BA")
        let dictionary = Lexicon(words: ["AB", "BB", "C"], classOf: classOf)
        XCTAssertEqual(dictionary.wordClasses, [0, 1, 2], "the separator is not a word character")
        var perWord = DecodingConstraint(lexicon: dictionary)
        perWord.lexiconPerWord = true
        let read = try CTCDecoder.beamSearch(x, charset: chars, beamWidth: 16, constraint: perWord, alternatives: 3)
        // "AC" and "BA" are not words, and "BB" cannot be read in two steps (a repeat needs a blank
        // between): the best dictionary reading is "AB" twice, the separator between them.
        XCTAssertEqual(read.first?.text, "AB-AB")
        XCTAssertTrue(read.allSatisfy { $0.text.split(separator: "-").allSatisfy { ["AB", "BB", "C"].contains(String($0)) } })
        // As one lexicon for the whole line, no reading with a separator is admissible.
        let whole = try CTCDecoder.beamSearch(x, charset: chars, beamWidth: 16, constraint: .init(lexicon: dictionary), alternatives: 3)
        XCTAssertTrue(whole.allSatisfy { !$0.text.contains("-") })
    }

    /// A dictionary whose word prefixes outnumber the beam cannot leave no reading: 512 prefixes
    /// "Q???" of five-letter words "Q???Z" each beat the one complete word "X" (read, then held by
    /// blanks), and none of them ends a word when the steps run out, even in the wider beam of the
    /// retry. The likeliest beam that could end the reading is kept beside the beam (found by a
    /// new-user test: a line read with Debian's word list came back rejected at the default beam).
    func testADictionaryAlwaysKeepsABeamThatCanEnd() throws {
        let letters = Array("ABCDEFGHQXZ"), middle = Array("ABCDEFGH")
        let chars = letters + ["-"], blank = chars.count
        let classOf = { (ch: Character) in chars.firstIndex(of: ch) }
        var words = ["X"]
        for a in middle { for b in middle { for c in middle { words.append(String(["Q", a, b, c, "Z"])) } } }
        var perWord = DecodingConstraint(lexicon: Lexicon(words: words, classOf: classOf))
        perWord.lexiconPerWord = true
        var first = [Float](repeating: 0, count: chars.count + 1)
        first[chars.firstIndex(of: "X")!] = 0.5; first[chars.firstIndex(of: "Q")!] = 0.49; first[blank] = 0.01
        var later = [Float](repeating: 0, count: chars.count + 1)
        for m in middle { later[chars.firstIndex(of: m)!] = 0.99 / 8 }
        later[blank] = 0.01
        let x = CTCPosteriors(steps: 4, classes: chars.count + 1, probabilities: first + later + later + later)
        let read = try CTCDecoder.beamSearch(x, charset: chars, beamWidth: 100, constraint: perWord, alternatives: 1)
        XCTAssertEqual(read.first?.text, "X")
    }

    /// Each character's span is the steps the best path spends on it: checked exactly, with a character
    /// held over several steps, a repeat separated by a blank, and a character on the last step.
    func testADeadlineStopsTheSearch() throws {
        let charset: [Character] = ["A", "B", "C"]
        let step: [Float] = [0.3, 0.3, 0.2, 0.2]
        let x = posteriors(Array(repeating: step, count: 50))
        XCTAssertEqual(try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8, deadline: Deadline(milliseconds: 60_000)).isEmpty, false)
        let passed = Deadline(milliseconds: 1)
        usleep(2000)
        XCTAssertTrue(passed.hasPassed)
        XCTAssertThrowsError(try CTCDecoder.beamSearch(x, charset: charset, beamWidth: 8, deadline: passed)) { error in
            XCTAssertEqual(error as? DeadlineExceeded, DeadlineExceeded(milliseconds: 1))
        }
        XCTAssertThrowsError(try SequenceDecoder.decode([[0.5, 0.5, 0]], charset: charset, constraint: .init(), beamWidth: 2,
                                                        alternatives: 1, deadline: passed))
        XCTAssertFalse(Deadline.never.hasPassed)
        XCTAssertEqual(Deadline(milliseconds: 0), .never)
    }

    func testAlignmentSpansAreTheBestPathsSteps() throws {
        let x = posteriors([[0.9, 0.05, 0.0, 0.05], [0.1, 0.1, 0.0, 0.8], [0.1, 0.8, 0.0, 0.1]])
        let r = CTCDecoder.greedy(x, charset: charset)
        XCTAssertEqual(r.text, "AB")
        XCTAssertEqual(r.characters.map { [$0.firstStep, $0.lastStep] }, [[0, 0], [2, 2]])
        // A A blank A B B blank: "AAB", the first A on steps 0-1, the second on 3, B on 4-5.
        let a: [Float] = [0.8, 0.1, 0.0, 0.1], b: [Float] = [0.1, 0.8, 0.0, 0.1], blank: [Float] = [0.1, 0.1, 0.0, 0.8]
        let long = posteriors([a, a, blank, a, b, b, blank])
        let reading = CTCDecoder.greedy(long, charset: charset)
        XCTAssertEqual(reading.text, "AAB")
        XCTAssertEqual(reading.characters.map { [$0.firstStep, $0.lastStep] }, [[0, 1], [3, 3], [4, 5]])
        XCTAssertEqual(reading.characters.map(\.probability), [0.8, 0.8, 0.8])
        let beam = try CTCDecoder.beamSearch(long, charset: charset, beamWidth: 8)
        XCTAssertEqual(beam.first?.characters.map { [$0.firstStep, $0.lastStep] }, [[0, 1], [3, 3], [4, 5]])
        // Ending on a character: its span reaches the last step.
        let ending = CTCDecoder.greedy(posteriors([blank, b, b]), charset: charset)
        XCTAssertEqual(ending.characters.map { [$0.firstStep, $0.lastStep] }, [[1, 2]])
    }
}
