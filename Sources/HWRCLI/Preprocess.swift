import ArgumentParser
import Foundation
import HWRImage

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the network sees: write the normalised images side by side as one PNG.")

    @Argument(help: "Image files (PNG, JPEG, PGM).") var images: [String]
    @Option(help: "Output PNG.") var out = "preprocessed.png"
    @Option(help: "Images per row.") var columns = 16
    @Flag(help: "Show every preprocessing stage of each image (decoded, composited, flattened, cleaned, normalised), one row per image; prints the stage names.") var stages = false
    @Flag(help: "With --stages: preprocess as a line (the line model's normaliser) instead of a character.") var line = false
    @Flag(help: "With --stages: preprocess as a page (what page mode segments into lines) instead of a character.") var page = false
    @Option(help: "With --stages: height of each stage's picture in the sheet, in pixels.") var stageHeight = 160

    func run() throws {
        if stages { return try runStages() }
        if line || page { throw ValidationError("--line and --page only apply with --stages") }
        let normalizer = CharacterNormalizer()
        let side = normalizer.size + 2
        let rows = (images.count + columns - 1) / columns
        var canvas = [UInt8](repeating: 40, count: rows * side * columns * side)
        var failures = 0
        for (i, path) in images.enumerated() {
            do {
                let v = try normalizer.normalize(try GrayImage(contentsOfFile: path))
                let ox = (i % columns) * side + 1, oy = (i / columns) * side + 1
                for y in 0..<normalizer.size { for x in 0..<normalizer.size {
                    canvas[(oy + y) * columns * side + ox + x] = UInt8(v[y * normalizer.size + x] * 255)
                } }
            } catch {
                failures += 1
                FileHandle.standardError.write("\(path): \(error)\n".data(using: .utf8)!)
            }
        }
        try encodePNG(canvas, width: columns * side, height: rows * side, channels: 1).write(to: URL(fileURLWithPath: out))
        if failures > 0 { throw ExitCode(1) }
    }
}

extension Preprocess {
    /// One row per image: its preprocessing stages side by side, each scaled to `stageHeight`.
    func runStages() throws {
        let gap = 8
        var rows: [(pixels: [UInt8], width: Int)] = []
        var failures = 0
        for path in images {
            let decoded: GrayImage
            do { decoded = try GrayImage(contentsOfFile: path) } catch {
                failures += 1
                FileHandle.standardError.write("\(path): \(error)\n".data(using: .utf8)!)
                continue
            }
            let kind: PreprocessingStages.Kind = page ? .page
                : line ? .line(LineNormalizer(height: 32, box: 28)) : .character(CharacterNormalizer())
            let (stages, error) = PreprocessingStages.trace(decoded, as: kind)
            print("\(path): " + stages.map(\.name).joined(separator: " | ") + (error.map { " | failed: \($0)" } ?? ""))
            if error != nil { failures += 1 }
            let scaled = stages.map { stage -> (pixels: [UInt8], width: Int) in
                let image = stage.image
                let width = max(1, image.width * stageHeight / max(1, image.height))
                var out = [UInt8](repeating: 0, count: width * stageHeight)
                for y in 0..<stageHeight { for x in 0..<width {
                    out[y * width + x] = image.pixels[min(image.height - 1, y * image.height / stageHeight) * image.width
                                                      + min(image.width - 1, x * image.width / width)]
                } }
                return (out, width)
            }
            let width = scaled.reduce(0) { $0 + $1.width + gap }
            var row = [UInt8](repeating: 90, count: width * stageHeight)
            var x0 = 0
            for part in scaled {
                for y in 0..<stageHeight { for x in 0..<part.width { row[y * width + x0 + x] = part.pixels[y * part.width + x] } }
                x0 += part.width + gap
            }
            rows.append((row, width))
        }
        let width = rows.map(\.width).max() ?? 1
        var canvas = [UInt8](repeating: 90, count: width * (stageHeight + gap) * max(1, rows.count))
        for (i, row) in rows.enumerated() {
            for y in 0..<stageHeight { for x in 0..<row.width { canvas[(i * (stageHeight + gap) + y) * width + x] = row.pixels[y * row.width + x] } }
        }
        try encodePNG(canvas, width: width, height: (stageHeight + gap) * max(1, rows.count), channels: 1)
            .write(to: URL(fileURLWithPath: out))
        if failures > 0 { throw ExitCode(1) }
    }
}
