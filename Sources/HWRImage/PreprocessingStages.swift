import Glibc

/// The preprocessing of one image, stage by stage, as pictures: what `hwr preprocess --stages` shows
/// so that a user can see why an image was read as it was.
public enum PreprocessingStages {
    /// One stage's picture.
    public struct Stage {
        /// The stage ("decoded", "composited", "flattened (dark ink)", "cleaned (stroke 2.1 px)",
        /// "normalised").
        public var name: String
        /// Its picture, 8-bit grey (ink maps white on black, as the network sees them).
        public var image: GrayImage
    }

    /// What an image is preprocessed as.
    public enum Kind {
        /// A character, by a character normaliser.
        case character(CharacterNormalizer)
        /// A line, by a line normaliser.
        case line(LineNormalizer)
        /// A page (`PageInk`), as page mode reads it before line segmentation; its last stage is
        /// the page's ink map.
        case page
    }

    /// The stages of an image preprocessed as `kind`.
    /// - Returns: the stages reached; when preprocessing fails, the error comes with the stages before it.
    public static func trace(_ image: GrayImage, as kind: Kind) -> (stages: [Stage], error: Error?) {
        var stages: [Stage] = [Stage(name: "decoded", image: image)]
        func add(_ name: String, _ values: [Float], width: Int, height: Int, scale: Float) {
            let bytes = values.map { UInt8(max(0, min(255, ($0 * scale).rounded()))) }
            if let picture = try? GrayImage(width: width, height: height, pixels: bytes) {
                stages.append(Stage(name: name, image: picture))
            }
        }
        // The maps are of the image as preprocessed (shrunk to the working size when it was larger).
        let record: (String, [Float], Int) -> Void = { name, values, width in
            add(name, values, width: width, height: values.count / max(1, width), scale: name == "composited" ? 1 : 255)
        }
        do {
            switch kind {
            case .line(let line):
                let (pixels, width) = try line.normalize(image, trace: record)
                add("normalised", pixels, width: width, height: line.height, scale: 255)
            case .page:
                let page = try PageInk(image, trace: record)
                add("page ink", page.ink, width: page.width, height: page.height, scale: 255)
            case .character(let character):
                var scratch = NormalizerScratch()
                var out = [Float](repeating: 0, count: character.size * character.size)
                try out.withUnsafeMutableBufferPointer {
                    try character.normalize(image, into: $0.baseAddress!, scratch: &scratch, trace: record)
                }
                add("normalised", out, width: character.size, height: character.size, scale: 255)
            }
            return (stages, nil)
        } catch {
            return (stages, error)
        }
    }
}
