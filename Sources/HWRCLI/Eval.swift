import ArgumentParser
import Foundation
import HWRModel
import HWRTraining

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model on a data set and print its metrics.",
        discussion: """
        DATA is a corpus folder laid out like ../shared/data (its writer-disjoint validation split is \
        used unless --all), a manifest CSV (path,label,source,writer), or a folder with one sub-folder per label.
        """)

    @Argument(help: "Model file.") var model: String
    @Argument(help: "Data set.") var data: String
    @Flag(help: "For a corpus folder, evaluate every image instead of the validation split.") var all = false
    @Option(help: "Write metrics.json and confusion-matrix.svg to this folder.") var out: String?
    @Flag(help: "Print the metrics as JSON.") var json = false

    func run() throws {
        let loaded = try Model.load(path: model)
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
