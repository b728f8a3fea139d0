import Foundation

/// The training corpus laid out as in `../shared/data` (see its README): MNIST IDX files and a
/// manifest of character images from six sources.
public struct SharedData {
    /// The folder holding `mnist/` and `chars/`.
    public let root: String

    /// Points at a corpus folder.
    public init(root: String) { self.root = root }

    /// Loads MNIST and every manifest source, normalised.
    /// - Parameter limit: keep at most this many images per source (for smoke runs); nil for all.
    /// - Throws: `DataError` if the files are missing or malformed.
    public func load(loader: DataLoader = DataLoader(), limit: Int? = nil) throws -> CharacterDataset {
        var data = try loader.loadIDX(images: "\(root)/mnist/train-images-idx3-ubyte.gz",
                                      labels: "\(root)/mnist/train-labels-idx1-ubyte.gz",
                                      labelCharacters: Array("0123456789"), source: "mnist")
        data.writers = (0..<data.count).map { _ in "" }
        let chars = try loader.loadManifest("\(root)/chars/manifest.csv")
        data.append(chars)
        guard let limit else { return data }
        var kept: [Int] = [], perSource: [String: Int] = [:]
        for i in 0..<data.count where perSource[data.sources[i], default: 0] < limit {
            perSource[data.sources[i], default: 0] += 1
            kept.append(i)
        }
        return data.subset(kept)
    }

    /// The writer-disjoint split hwr uses for its shipped model: 15% of writers held out (by image
    /// for MNIST and for sources without writer ids).
    public static func split(_ data: CharacterDataset) -> (train: CharacterDataset, validation: CharacterDataset) {
        let (t, v) = Split.byWriter(data, validationFraction: 0.15)
        return (data.subset(t), data.subset(v))
    }
}
