/// Writer-disjoint train/validation splits.
public enum Split {
    /// Sources with fewer distinct writers than this are split by image instead (no usable writer ids).
    public static let minimumWriters = 10

    /// Indices of the training and validation images. Every writer of a source with writer ids falls
    /// entirely on one side; other images are assigned by a hash of their index and source.
    /// - Parameter validationFraction: share of writers (or images) held out, in (0, 1).
    public static func byWriter(_ data: CharacterDataset, validationFraction: Double, salt: String = "hwr")
        -> (train: [Int], validation: [Int]) {
        var writersPerSource: [String: Set<String>] = [:]
        for i in 0..<data.count where !data.writers[i].isEmpty { writersPerSource[data.sources[i], default: []].insert(data.writers[i]) }
        var train: [Int] = [], validation: [Int] = []
        let cut = UInt64(validationFraction * 10_000)
        for i in 0..<data.count {
            let source = data.sources[i]
            let key = (writersPerSource[source]?.count ?? 0) >= minimumWriters
                ? "\(salt)|\(source)|w:\(data.writers[i])" : "\(salt)|\(source)|i:\(i)"
            if fnv1a(key) % 10_000 < cut { validation.append(i) } else { train.append(i) }
        }
        return (train, validation)
    }

    /// 64-bit FNV-1a: a stable hash (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
