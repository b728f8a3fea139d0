import ArgumentParser
import Foundation
import HWRImage
import HWRModel
import HWRRecognition
import HWRTraining

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model on a data set and print its metrics.",
        discussion: """
        DATA is a corpus folder laid out like ../shared/data (its writer-disjoint validation split is \
        used unless --all), a manifest CSV (path,label,source,writer), or a folder with one sub-folder per label. \
        For a line model: a corpus folder (composed validation lines and OCR words folds 6-7) or a CSV \
        (path,text[,source]); it prints CER and WER, greedy, with beam search, and with a lexicon of the \
        reference texts; composed lines also by kind (digits, letters, mixed), greedy and with the kind's charset.
        """)

    @Argument(help: "Model file.") var model: String
    @Argument(help: "Data set.") var data: String
    @Flag(help: "For a corpus folder, evaluate every image instead of the validation split.") var all = false
    @Option(help: "Write metrics.json and confusion-matrix.svg to this folder.") var out: String?
    @Flag(help: "Print the metrics as JSON.") var json = false
    @Flag(help: "Record the metrics in the model file's metadata (for the model that ships).") var recordMetrics = false

    func run() throws {
        let loaded = try Model.load(path: model)
        if loaded.preprocessing.kind == "line" { return try evaluateLines(loaded.preprocessing) }
        let loader = DataLoader(normalizer: .init(size: loaded.preprocessing.size, box: loaded.preprocessing.box),
                                charset: loaded.charset)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory)
        let set: CharacterDataset
        if data.hasSuffix(".csv") {
            set = try loader.loadManifest(data)
        } else if FileManager.default.fileExists(atPath: "\(data)/chars/manifest.csv") {
            let corpus = try SharedData(root: data).load(loader: loader)
            set = all ? corpus : SharedData.split(corpus).validation
        } else if isDirectory.boolValue {
            set = try loader.loadFolders(root: data, source: (data as NSString).lastPathComponent)
        } else {
            throw ValidationError("\(data): not a corpus folder, manifest CSV or label folder")
        }
        let metrics = Evaluator.evaluate(model: loaded, data: set)
        if recordMetrics {
            loaded.metadata.metrics = metrics.asMetadata
            try loaded.write(to: model)
        }
        if let out { try Report.write(metrics: metrics, history: nil, to: out) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(data: try encoder.encode(metrics), encoding: .utf8)!)
        } else {
            print(metrics.summary)
        }
    }
}

extension Eval {
    static let composedSetName = "composed lines, unseen writers"

    /// - Parameter spec: the line model's preprocessing (stored corpora are normalised with it).
    func evaluateLines(_ spec: PreprocessingSpec) throws {
        let recognizer = try Recognizer(lineModelPath: model, textModelPath: model, threads: 0)
        /// A named set: its references, and how to read a subset of its lines under some options.
        typealias Reader = (TextOptions, [Int]) throws -> [String]
        var sets: [(name: String, references: [String], read: Reader)] = []
        func texts(_ results: [Result<TextReading, Error>]) -> [String] { results.map { (try? $0.get().text) ?? "" } }
        if data.hasSuffix(".csv") {
            let rows = try CSVManifest.rows(data, requiring: ["path", "text"])
            let images = try rows.map { f in try recognizer.decode(.file(CSVManifest.resolve(f["path"] ?? "", relativeTo: data))) }
            sets.append((data, rows.map { ($0["text"] ?? "").uppercased() },
                         { options, members in texts(try recognizer.recognizeLines(members.map { images[$0] }, options: options)) }))
        } else {
            // Stored lines are already normalised: read as they are, through the same decoding.
            let corpus = try LineCorpus.load(root: data, validationLines: 600, seed: 7,
                                             normalizer: LineNormalizer(height: spec.size, box: spec.box))
            for (name, samples) in [(Self.composedSetName, corpus.syntheticValidation), ("OCR words folds 6-7", corpus.validationWords)] {
                sets.append((name, samples.map(\.text), { options, members in
                    texts(try recognizer.recognizeNormalizedLines(members.map { (samples[$0].pixels, samples[$0].width) }, options: options))
                }))
            }
        }
        var report: [String: [String: Double]] = [:]
        for (name, references, read) in sets {
            let all = Array(references.indices)
            let lexicon = Array(Set(references))
            var rows: [String: Double] = [:]
            let runs: [(String, Int, Bool, String?)] = [("greedy", 1, false, nil), ("greedy --charset alnum", 1, false, "alnum"),
                                                         ("beam 10", 10, false, nil), ("beam 10 + lexicon", 10, true, nil)]
            for (label, beam, useLexicon, charset) in runs {
                var options = TextOptions()
                options.beamWidth = beam; options.alternatives = 1; options.charset = charset
                if useLexicon { options.lexicon = lexicon }
                let m = TranscriptionMetrics(references: references, hypotheses: try read(options, all), foldingCase: true)
                rows["\(label) CER"] = m.characterErrorRate; rows["\(label) WER"] = m.wordErrorRate
                rows["\(label) exact"] = m.lineAccuracy
                if !json {
                    print(String(format: "%@ (%d): %@: CER %.2f%%  WER %.2f%%  exact %.2f%%%@", name, references.count, label,
                                 m.characterErrorRate * 100, m.wordErrorRate * 100, m.lineAccuracy * 100,
                                 useLexicon ? " (lexicon of \(lexicon.count) words)" : ""))
                }
            }
            if name == Self.composedSetName {
                // By kind, greedy, and with the charset a caller who knows the kind would pass.
                for kind in TextKind.allCases {
                    let members = references.indices.filter { TextKind(of: references[$0]) == kind }
                    guard !members.isEmpty else { continue }
                    for constrained in [false, true] {
                        var options = TextOptions()
                        options.beamWidth = 1; options.alternatives = 1
                        if constrained { options.charset = kind.charset }
                        let hypotheses = try read(options, members)
                        let m = TranscriptionMetrics(references: members.map { references[$0] }, hypotheses: hypotheses, foldingCase: true)
                        let label = "\(kind.rawValue) greedy" + (constrained ? " --charset \(kind.charset)" : "")
                        rows["\(label) CER"] = m.characterErrorRate; rows["\(label) exact"] = m.lineAccuracy
                        if !json {
                            print(String(format: "  %@ lines (%d): CER %.2f%%  exact %.2f%%", label, members.count,
                                         m.characterErrorRate * 100, m.lineAccuracy * 100))
                        }
                    }
                }
            }
            report[name] = rows
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(data: try encoder.encode(report), encoding: .utf8)!)
        }
    }
}
