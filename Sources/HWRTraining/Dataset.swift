import Foundation
import HWRImage

/// Normalised character images with labels, as the trainer consumes them.
public struct CharacterDataset {
    /// Side of each image (28).
    public let side: Int
    /// Images, `side * side` bytes each (ink 0...255), back to back.
    public var pixels: [UInt8]
    /// Class of each image.
    public var labels: [Int32]
    /// Data source of each image (for example "mnist", "femnist").
    public var sources: [String]
    /// Writer id of each image ("" when unknown).
    public var writers: [String]

    /// An empty set.
    public init(side: Int) { self.side = side; pixels = []; labels = []; sources = []; writers = [] }

    /// Number of images.
    public var count: Int { labels.count }

    /// Appends another set.
    public mutating func append(_ other: CharacterDataset) {
        precondition(other.side == side)
        pixels += other.pixels; labels += other.labels; sources += other.sources; writers += other.writers
    }

    /// The images at the given indices.
    public func subset(_ indices: [Int]) -> CharacterDataset {
        var s = CharacterDataset(side: side)
        let n = side * side
        s.pixels.reserveCapacity(indices.count * n)
        for i in indices {
            s.pixels += pixels[(i * n)..<((i + 1) * n)]
            s.labels.append(labels[i]); s.sources.append(sources[i]); s.writers.append(writers[i])
        }
        return s
    }

    /// Image `i` as floats in [0, 1].
    public func image(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        let n = side * side
        for k in 0..<n { out[k] = Float(pixels[i * n + k]) * (1 / 255) }
    }
}

/// Loads training data from the formats hwr knows, through the shared normaliser.
public struct DataLoader {
    /// The normaliser every image goes through.
    public let normalizer: CharacterNormalizer
    /// Class list.
    public let charset: [Character]

    /// Creates a loader.
    public init(normalizer: CharacterNormalizer = CharacterNormalizer(), charset: [Character] = Charset.alphanumeric) {
        self.normalizer = normalizer; self.charset = charset
    }

    /// Loads an IDX image file and its label file (MNIST, EMNIST).
    /// - Parameters:
    ///   - transpose: transpose each image (EMNIST stores them transposed)
    ///   - labelCharacters: maps a stored label value to its character (MNIST: "0123456789")
    ///   - source: source name recorded for each image
    /// - Throws: `DataError`.
    public func loadIDX(images: String, labels: String, transpose: Bool = false, labelCharacters: [Character],
                        source: String) throws -> CharacterDataset {
        let imageFile = try IDXFile(path: images), labelFile = try IDXFile(path: labels)
        guard imageFile.dimensions.count == 3, labelFile.dimensions.count == 1,
              imageFile.dimensions[0] == labelFile.dimensions[0] else {
            throw DataError.badData("\(images) \(imageFile.dimensions) does not match \(labels) \(labelFile.dimensions)")
        }
        let (n, h, w) = (imageFile.dimensions[0], imageFile.dimensions[1], imageFile.dimensions[2])
        var classes = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let v = Int(labelFile.bytes[i])
            guard v < labelCharacters.count, let c = Charset.classIndex(of: labelCharacters[v], in: charset) else {
                throw DataError.badData("\(labels): label \(v) of image \(i) has no class")
            }
            classes[i] = Int32(c)
        }
        let outW = transpose ? h : w, outH = transpose ? w : h
        return try normalizeAll(count: n, source: { _ in source }, writer: { _ in "" }, label: { classes[$0] }) { i in
            var px = [UInt8](repeating: 0, count: h * w)
            let base = i * h * w
            for y in 0..<h { for x in 0..<w {
                px[transpose ? x * w + y : y * w + x] = imageFile.bytes[base + y * w + x]
            } }
            return try GrayImage(width: outW, height: outH, pixels: px)
        }
    }

    /// Loads a folder with one sub-folder per label (`root/A/*.png`, `root/7/*.jpg`).
    /// - Throws: `DataError`.
    public func loadFolders(root: String, source: String) throws -> CharacterDataset {
        let fm = FileManager.default
        var entries: [(String, Int32)] = []
        for label in try fm.contentsOfDirectory(atPath: root).sorted() {
            guard label.count == 1, let c = Charset.classIndex(of: Character(label), in: charset) else { continue }
            for file in try fm.contentsOfDirectory(atPath: "\(root)/\(label)").sorted()
            where [".png", ".jpg", ".jpeg", ".pgm"].contains(where: { file.lowercased().hasSuffix($0) }) {
                entries.append(("\(root)/\(label)/\(file)", Int32(c)))
            }
        }
        guard !entries.isEmpty else { throw DataError.badData("\(root): no labelled images") }
        return try normalizeAll(count: entries.count, source: { _ in source }, writer: { _ in "" }, label: { entries[$0].1 }) {
            try GrayImage(contentsOfFile: entries[$0].0)
        }
    }

    /// Loads images listed in a manifest CSV (`path,label,source,writer`, paths relative to its folder).
    /// - Parameter sources: keep only these sources (all when nil).
    /// - Throws: `DataError`.
    public func loadManifest(_ path: String, sources: Set<String>? = nil) throws -> CharacterDataset {
        let root = (path as NSString).deletingLastPathComponent
        var rows: [(path: String, label: Int32, source: String, writer: String)] = []
        for f in try CSVManifest.rows(path, requiring: ["path", "label", "source", "writer"]) {
            guard let label = f["label"], label.count == 1, let c = Charset.classIndex(of: Character(label), in: charset),
                  let file = f["path"], let source = f["source"] else { continue }
            if let sources, !sources.contains(source) { continue }
            rows.append(("\(root)/\(file)", Int32(c), source, f["writer"] ?? ""))
        }
        guard !rows.isEmpty else { throw DataError.badData("\(path): no usable rows") }
        return try normalizeAll(count: rows.count, source: { rows[$0].source }, writer: { rows[$0].writer },
                                label: { rows[$0].label }) { try GrayImage(contentsOfFile: rows[$0].path) }
    }

    /// Normalises `count` images in parallel. Images that fail to decode or have no ink are skipped
    /// and counted on stderr.
    func normalizeAll(count: Int, source: (Int) -> String, writer: (Int) -> String, label: (Int) -> Int32,
                      image: (Int) throws -> GrayImage) throws -> CharacterDataset {
        let side = normalizer.size, n = side * side
        var pixels = [UInt8](repeating: 0, count: count * n)
        var ok = [Bool](repeating: false, count: count)
        pixels.withUnsafeMutableBufferPointer { px in
            ok.withUnsafeMutableBufferPointer { okp in
                let base = px.baseAddress!, okBase = okp.baseAddress!
                withoutActuallyEscaping(image) { image in
                    DispatchQueue.concurrentPerform(iterations: ProcessInfo.processInfo.activeProcessorCount) { worker in
                        var i = worker
                        while i < count {
                            if let img = try? image(i), let v = try? normalizer.normalize(img) {
                                for k in 0..<n { base[i * n + k] = UInt8(min(255, max(0, (v[k] * 255).rounded()))) }
                                okBase[i] = true
                            }
                            i += ProcessInfo.processInfo.activeProcessorCount
                        }
                    }
                }
            }
        }
        var set = CharacterDataset(side: side)
        let kept = (0..<count).filter { ok[$0] }
        if kept.count < count { FileHandle.standardError.write("skipped \(count - kept.count) unreadable or blank images\n".data(using: .utf8)!) }
        guard !kept.isEmpty else { throw DataError.badData("no readable images") }
        set.pixels.reserveCapacity(kept.count * n)
        for i in kept {
            set.pixels += pixels[(i * n)..<((i + 1) * n)]
            set.labels.append(label(i)); set.sources.append(source(i)); set.writers.append(writer(i))
        }
        return set
    }
}
