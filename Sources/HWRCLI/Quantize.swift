import ArgumentParser
import Foundation
import HWRImage
import HWRModel
import HWRRecognition
import HWRTraining

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an int8 copy of a model (post-training quantization, activation ranges calibrated on images).",
        discussion: """
        CALIBRATION is, for a character model, a corpus folder laid out like ../shared/data (images of its \
        training split are used, never the validation split) or a CSV with a path column; for a line model, \
        a CSV with a path column (rows whose split column, if any, is not "train" are skipped). Relative \
        paths in a CSV are relative to its folder. An evenly \
        spaced sample of --images is preprocessed as recognition does and run through the float model. \
        Every front end loads the int8 file like any model (HWR_MODEL, --model, model_path) and reports \
        its precision.
        """)

    @Argument(help: "Float model file.") var model: String
    @Argument(help: "Calibration data.") var calibration: String
    @Option(help: "Output model file.") var out: String
    @Option(help: "Calibration images.") var images = 512
    @Flag(help: "Keep the LSTMs' recurrent products in float (int8 input projections only).") var floatRecurrent = false

    func validate() throws {
        guard images >= 1 else { throw ValidationError("--images must be at least 1, got \(images)") }
        var a = stat(), b = stat()
        if stat(model, &a) == 0, stat(out, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino {
            throw ValidationError("--out \(out) is the model being quantized: write the int8 copy to another file")
        }
    }

    func run() throws {
        let float = try Model.load(path: model)
        let samples = try calibrationInputs(float)
        guard !samples.isEmpty else {
            throw ValidationError("no usable calibration images in \(calibration) (none listed, or all unreadable or blank)")
        }
        let quantized = try float.quantizedCopy(calibration: samples, recurrent: !floatRecurrent,
                                                description: "\(samples.count) images of \((calibration as NSString).lastPathComponent)")
        try quantized.write(to: out)
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print("\(out): int8 (\(quantized.quantized?.spec.layers.count ?? 0) layers), \(size) bytes, calibrated on \(samples.count) images")
    }

    /// Up to `images` network inputs from the calibration data, evenly spaced.
    func calibrationInputs(_ model: Model) throws -> [(pixels: [Float], width: Int)] {
        let p = model.preprocessing
        if p.kind == "character", !calibration.lowercased().hasSuffix(".csv") {
            let loader = DataLoader(normalizer: .init(size: p.size, box: p.box), charset: model.charset)
            let training = SharedData.split(try SharedData(root: calibration).load(loader: loader)).train
            let side = training.side, n = side * side
            return evenlySpaced(training.labels.count).map { i in
                (training.pixels[(i * n)..<((i + 1) * n)].map { Float($0) / 255 }, side)
            }
        }
        let rows = try CSVManifest.rows(calibration, requiring: ["path"]).filter { ($0["split"] ?? "train") == "train" }
        let characters = CharacterNormalizer(size: p.size, box: p.box), lines = LineNormalizer(height: p.size, box: p.box)
        let inputs = evenlySpaced(rows.count).compactMap { i -> (pixels: [Float], width: Int)? in
            // An image preprocessing refuses (blank, unreadable) says nothing about ranges: skipped.
            guard let image = try? GrayImage(contentsOfFile: CSVManifest.resolve(rows[i]["path"] ?? "", relativeTo: calibration)) else { return nil }
            if p.kind == "character" { return (try? characters.normalize(image)).map { ($0, p.size) } }
            return (try? lines.normalize(image)).map { ($0.pixels, $0.width) }
        }
        if inputs.count < min(images, rows.count) {
            FileHandle.standardError.write("skipped \(min(images, rows.count) - inputs.count) unreadable or blank images\n".data(using: .utf8)!)
        }
        return inputs
    }

    /// `min(images, count)` indices spread evenly over 0..<count.
    func evenlySpaced(_ count: Int) -> [Int] {
        let n = min(images, count)
        return (0..<n).map { $0 * count / n }
    }
}
