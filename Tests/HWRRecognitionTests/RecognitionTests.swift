import Foundation
import HWRImage
import HWRModel
import HWRRecognition
import HWRTraining
import XCTest

/// The shipped model (models/hwr-char.hwrm) on the committed fixture of real images cut from the
/// writer-disjoint validation split (scripts/make-fixture.py).
final class RecognitionTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let recognizer = Result { try Recognizer(modelPath: "\(root)/models/hwr-char.hwrm", threads: 1) }

    func recognizer() throws -> Recognizer { try Self.recognizer.get() }

    func fixture() throws -> [(path: String, label: Character, source: String)] {
        let dir = "\(Self.root)/Tests/Fixtures/chars"
        return try CSVManifest.rows("\(dir)/manifest.csv", requiring: ["path", "label", "source"]).map { f in
            ("\(dir)/\(f["path"]!)", Character(f["label"]!.uppercased()), f["source"]!)
        }
    }

    func testShippedModelAccuracyOnTheFixtureStaysAboveThreshold() throws {
        let rows = try fixture()
        XCTAssertGreaterThanOrEqual(rows.count, 300)
        let images = try rows.map { try GrayImage(contentsOfFile: $0.path) }
        let readings = try recognizer().recognize(images, topK: 3)
        var top1 = 0, top3 = 0
        for (row, reading) in zip(rows, readings) {
            let r = try reading.get()
            if r.text == String(row.label) { top1 += 1 }
            if r.candidates.contains(where: { $0.text == String(row.label) }) { top3 += 1 }
        }
        // Digits read as digits (the charset a caller reading a numeric field gives), letters as letters.
        let digitRows = rows.filter { $0.label.isNumber }, letterRows = rows.filter { !$0.label.isNumber }
        let digits = try recognizer().recognize(digitRows.map { try GrayImage(contentsOfFile: $0.path) }, allowed: "0123456789")
        let letters = try recognizer().recognize(letterRows.map { try GrayImage(contentsOfFile: $0.path) }, allowed: "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let digitHits = try zip(digitRows, digits).filter { try $1.get().text == String($0.label) }.count
        let letterHits = try zip(letterRows, letters).filter { try $1.get().text == String($0.label) }.count
        let accuracy = Double(top1) / Double(rows.count)
        print("fixture: top-1 \(accuracy), top-3 \(Double(top3) / Double(rows.count)), digits-only \(Double(digitHits) / Double(digitRows.count)), letters-only \(Double(letterHits) / Double(letterRows.count))")
        // Measured 2026-11-30: top-1 91.7%, top-3 99.7%, digits-only 99.1%, letters-only 98.7%. Each
        // guard is under 2 points below, so a 2-point regression fails.
        XCTAssertGreaterThanOrEqual(accuracy, 0.90, "36-way; O/0 and I/1/L are the usual confusions")
        XCTAssertGreaterThanOrEqual(Double(top3) / Double(rows.count), 0.98)
        XCTAssertGreaterThanOrEqual(Double(digitHits) / Double(digitRows.count), 0.975)
        XCTAssertGreaterThanOrEqual(Double(letterHits) / Double(letterRows.count), 0.97)
    }

    /// The shipped int8 copy (`hwr quantize`, models/hwr-char-int8.hwrm) on the same fixture, paired
    /// with the float model: the issue allows 0.3 points of top-1 lost on the validation split.
    func testShippedInt8ModelReadsTheFixtureLikeTheFloatOne() throws {
        let rows = try fixture()
        let images = try rows.map { try GrayImage(contentsOfFile: $0.path) }
        let int8 = try Recognizer(modelPath: "\(Self.root)/models/hwr-char-int8.hwrm", threads: 1)
        XCTAssertEqual(int8.model.precision, .int8)
        let float = try recognizer().recognize(images).map { try $0.get().text }
        let quantized = try int8.recognize(images).map { try $0.get().text }
        let labels = rows.map { String($0.label) }
        let hits = { (texts: [String]) in Double(zip(texts, labels).filter { $0 == $1 }.count) / Double(labels.count) }
        let agreement = Double(zip(float, quantized).filter { $0 == $1 }.count) / Double(rows.count)
        print("fixture: top-1 fp32 \(hits(float)), int8 \(hits(quantized)), same reading \(agreement)")
        // Measured 2026-11-30: fp32 and int8 top-1 within a point; readings the same on over 98%.
        XCTAssertGreaterThanOrEqual(hits(quantized), hits(float) - 0.01)
        XCTAssertGreaterThanOrEqual(agreement, 0.97)
    }

    func testShippedModelDescribesItself() throws {
        let model = try recognizer().model
        XCTAssertEqual(model.metadata.name, "hwr-char")
        XCTAssertEqual(String(model.charset), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        XCTAssertEqual(model.architecture, .classicCharacterCRNN(classes: 36))
        XCTAssertGreaterThan(model.metadata.metrics["validation_balanced"] ?? 0, 0.9)
    }

    func testCandidatesAreSortedProbabilitiesAndCharsetRestrictionHolds() throws {
        let rows = try fixture().filter { $0.source == "mnist" }.prefix(20)
        let images = try rows.map { try GrayImage(contentsOfFile: $0.path) }
        for reading in try recognizer().recognize(images, topK: 36) {
            let r = try reading.get()
            XCTAssertEqual(r.candidates.count, 36)
            XCTAssertEqual(r.candidates.map(\.probability).reduce(0, +), 1, accuracy: 1e-3)
            XCTAssertEqual(r.candidates.map(\.probability), r.candidates.map(\.probability).sorted(by: >))
        }
        for reading in try recognizer().recognize(images, topK: 4, allowed: "abc") {
            let r = try reading.get()
            XCTAssertEqual(Set(r.candidates.map(\.text)), ["A", "B", "C"], "top-k is capped by the allowed set")
        }
        XCTAssertThrowsError(try recognizer().recognize(images, topK: 0))
        XCTAssertThrowsError(try recognizer().recognize(images, topK: 37))
        XCTAssertThrowsError(try recognizer().recognize(images, allowed: "#"))
    }

    func testClassifyIntoCallerMemoryMatchesTheBatchedCall() throws {
        let rows = try fixture().prefix(24)
        let images = try rows.map { try GrayImage(contentsOfFile: $0.path) }
        let batched = try recognizer().recognize(images, topK: 36)
        var probabilities = [Float](repeating: -1, count: 36)
        for (image, reading) in zip(images, batched) {
            try probabilities.withUnsafeMutableBufferPointer { try recognizer().classify(image, into: $0) }
            let expected = try reading.get()
            for candidate in expected.candidates {
                let index = try XCTUnwrap(try recognizer().model.charset.firstIndex(of: Character(candidate.text)))
                XCTAssertEqual(probabilities[index], candidate.probability, accuracy: 1e-5)
            }
        }
        var short = [Float](repeating: 0, count: 10)
        XCTAssertThrowsError(try short.withUnsafeMutableBufferPointer { try recognizer().classify(images[0], into: $0) })
        let blank = try GrayImage(width: 8, height: 8, pixels: [UInt8](repeating: 255, count: 64))
        XCTAssertThrowsError(try probabilities.withUnsafeMutableBufferPointer { try recognizer().classify(blank, into: $0) })
    }

    func testABadImageInABatchDoesNotSpoilTheOthers() throws {
        let rows = try fixture().prefix(3)
        var images = try rows.map { try GrayImage(contentsOfFile: $0.path) }
        let alone = try recognizer().recognize(images)
        images.insert(try GrayImage(width: 5, height: 5, pixels: [UInt8](repeating: 255, count: 25)), at: 1)
        let mixed = try recognizer().recognize(images)
        XCTAssertThrowsError(try mixed[1].get())
        for (m, a) in [(0, 0), (2, 1)] {
            XCTAssertEqual(try mixed[m].get().text, try alone[a].get().text)
            XCTAssertEqual(try mixed[m].get().confidence, try alone[a].get().confidence, accuracy: 1e-4)
        }
    }

    func testConcurrentCallsGiveTheSameAnswersAsSequentialOnes() throws {
        let images = try fixture().prefix(16).map { try GrayImage(contentsOfFile: $0.path) }
        let r = try recognizer()
        let expected = try images.map { try r.recognize([$0])[0].get() }
        let answers = UnsafeMutableBufferPointer<CharacterReading?>.allocate(capacity: 64)
        answers.initialize(repeating: nil)
        defer { answers.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            answers[i] = try? r.recognize([images[i % 16]])[0].get()
        }
        for i in 0..<64 { XCTAssertEqual(answers[i], expected[i % 16]) }
    }

    func testMissingModelIsAClearError() {
        XCTAssertThrowsError(try Recognizer(modelPath: "/nonexistent.hwrm")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent.hwrm"))
        }
    }
}
