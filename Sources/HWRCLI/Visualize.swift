import ArgumentParser
import Foundation
import HWRImage
import HWRLayout
import HWRRecognition

struct Visualize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a line image as the line model sees it, with the recognised characters and their CTC alignment under it, or (--page) a page with its line and word boxes and their reading (SVG).")

    @OptionGroup var models: ModelOptions
    @Option(help: "Output SVG file (default: IMAGE with .svg).") var out: String?
    @Option(help: "Beam width.") var beam = 10
    @Flag(help: "Read the image as a page and draw its lines and words over it.") var page = false
    @Argument(help: "A word or line image (a page with --page).") var image: String

    func run() throws {
        if page { return try runPage() }
        let recognizer: Recognizer
        let reading: TextReading
        let line: (pixels: [Float], width: Int)
        do {
            recognizer = try models.recognizer(threads: 0)
            let gray = try GrayImage(contentsOfFile: image)
            var options = TextOptions()
            options.beamWidth = beam
            reading = try recognizer.recognizeLines([gray], options: options)[0].get()
            line = try recognizer.lineReader(for: options).normalizer.normalize(gray)
        } catch { throw CLIError("\(image): \(error)") }
        let path = out ?? (image as NSString).deletingPathExtension + ".svg"
        try alignmentSVG(line: line, reading: reading).write(toFile: path, atomically: true, encoding: .utf8)
        print("\(path)\t\(reading.text)\t\(String(format: "%.3f", reading.confidence))")
    }

    /// The normalised line scaled up, each character's aligned span as a bracket with its text and
    /// probability under it, and the alternatives.
    func alignmentSVG(line: (pixels: [Float], width: Int), reading: TextReading) throws -> String {
        let scale = 4, height = line.pixels.count / line.width
        let bytes = line.pixels.map { UInt8(max(0, min(255, 255 - $0 * 255))) } // dark ink on white for print
        let png = try encodePNG(bytes, width: line.width, height: height, channels: 1).base64EncodedString()
        let w = line.width * scale, h = height * scale
        let stepWidth = Double(line.width) / Double(max(1, reading.steps)) * Double(scale)
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(max(w + 40, 720))' height='\(h + 160)' font-family='sans-serif'>\n"
        s += "<rect width='100%' height='100%' fill='white'/>\n"
        s += "<image x='20' y='20' width='\(w)' height='\(h)' style='image-rendering:pixelated' href='data:image/png;base64,\(png)'/>\n"
        s += "<rect x='20' y='20' width='\(w)' height='\(h)' fill='none' stroke='#999'/>\n"
        for (i, c) in reading.characters.enumerated() {
            let x0 = 20 + Double(c.firstStep) * stepWidth, x1 = 20 + Double(c.lastStep + 1) * stepWidth
            let colour = i % 2 == 0 ? "#c0392b" : "#2471a3"
            let y = Double(h + 28)
            s += "<rect x='\(x0)' y='20' width='\(x1 - x0)' height='\(h)' fill='\(colour)' fill-opacity='0.12'/>\n"
            s += "<path d='M\(x0) \(y - 6) V\(y) H\(x1) V\(y - 6)' fill='none' stroke='\(colour)' stroke-width='2'/>\n"
            s += "<text x='\((x0 + x1) / 2)' y='\(y + 24)' text-anchor='middle' font-size='22' fill='\(colour)'>\(escape(c.text == " " ? "\u{2423}" : c.text))</text>\n"
            // Probabilities on two staggered rows so that neighbours do not overlap.
            s += "<text x='\((x0 + x1) / 2)' y='\(y + 42 + Double(i % 2) * 13)' text-anchor='middle' font-size='11' fill='#555'>\(String(format: "%.2f", c.probability))</text>\n"
        }
        let alternatives = reading.alternatives.map { "\(escape($0.text)) (\(String(format: "%.3f", $0.probability)))" }.joined(separator: ", ")
        s += "<text x='20' y='\(h + 110)' font-size='14'>read: \(escape(reading.text)) - probability \(String(format: "%.3f", reading.confidence)); \(reading.steps) CTC steps</text>\n"
        s += "<text x='20' y='\(h + 132)' font-size='12' fill='#555'>alternatives: \(alternatives)</text>\n"
        return s + "</svg>\n"
    }

    /// Reads the image as a page and draws it with each line's box (blue) and reading, and each
    /// word's box (red).
    func runPage() throws {
        let gray: GrayImage, reading: PageReading
        do {
            let recognizer = try models.recognizer(threads: 0)
            gray = try recognizer.decode(.file(image))
            var options = TextOptions()
            options.beamWidth = beam
            reading = try recognizer.recognizePage(gray, options: options)
        } catch { throw CLIError("\(image): \(error)") }
        let path = out ?? (image as NSString).deletingPathExtension + ".svg"
        try pageSVG(gray, reading).write(toFile: path, atomically: true, encoding: .utf8)
        print("\(path)\t\(reading.lines.count) lines, skew \(String(format: "%.2f", reading.skewDegrees)) degrees\(Self.turnNote(reading))")
        print(reading.text)
    }

    /// ", read turned 90 degrees" for a page read turned (`PageReading.turnDegrees`), else nothing.
    static func turnNote(_ reading: PageReading) -> String {
        reading.turnDegrees == 0 ? "" : ", read turned \(reading.turnDegrees) degrees"
    }

    /// The page (shrunk to at most 1400 pixels wide), line boxes in blue with their text above them,
    /// word boxes in red.
    func pageSVG(_ gray: GrayImage, _ reading: PageReading) throws -> String {
        let shown = gray.fitted(maximumWidth: 1400, maximumHeight: 4000)
        let k = Double(shown.width) / Double(gray.width)
        let png = try encodePNG(shown.pixels, width: shown.width, height: shown.height, channels: 1).base64EncodedString()
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(shown.width + 40)' height='\(shown.height + 60)' font-family='sans-serif'>\n"
        s += "<rect width='100%' height='100%' fill='white'/>\n"
        s += "<image x='20' y='40' width='\(shown.width)' height='\(shown.height)' href='data:image/png;base64,\(png)'/>\n"
        func rect(_ b: Box, _ colour: String, _ width: Double) -> String {
            "<rect x='\(20 + Double(b.x) * k)' y='\(40 + Double(b.y) * k)' width='\(Double(b.width) * k)' height='\(Double(b.height) * k)' fill='none' stroke='\(colour)' stroke-width='\(width)'/>\n"
        }
        for line in reading.lines {
            s += rect(line.box, "#2471a3", 2)
            for word in line.words { s += rect(word.box, "#c0392b", 1.5) }
            s += "<text x='\(20 + Double(line.box.x) * k)' y='\(36 + Double(line.box.y) * k)' font-size='16' fill='#2471a3'>\(escape(line.text)) (\(String(format: "%.2f", line.confidence)))</text>\n"
        }
        s += "<text x='20' y='24' font-size='14'>\(reading.lines.count) lines, skew \(String(format: "%.2f", reading.skewDegrees)) degrees\(Self.turnNote(reading))</text>\n"
        return s + "</svg>\n"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
