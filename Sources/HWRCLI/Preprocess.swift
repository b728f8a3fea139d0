import ArgumentParser
import Foundation
import HWRImage

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the network sees: write the normalised images side by side as one PNG.")

    @Argument(help: "Image files (PNG, JPEG, PGM).") var images: [String]
    @Option(help: "Output PNG.") var out = "preprocessed.png"
    @Option(help: "Images per row.") var columns = 16

    func run() throws {
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
