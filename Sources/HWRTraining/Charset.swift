import HWRDecoding

/// The character sets of hwr's models.
public enum Charset {
    /// The 36 classes of the character model: `0`-`9` then `A`-`Z`.
    public static let alphanumeric: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// The text-line model's characters: `0`-`9`, `A`-`Z`, `a`-`z`, space, then the punctuation
    /// `. , ; : ' " ! ? - ( ) / & + # %` (83 characters; the CTC blank comes after them).
    public static let text: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,;:'\"!?-()/&+#%")

    /// The class of a label, folding lower case into upper case; nil for characters outside the set.
    public static func classIndex(of label: Character, in charset: [Character] = alphanumeric) -> Int? {
        charset.firstIndex(of: label.upperCaseForm)
    }

    /// The classes of a transcription in `charset`, case kept, or nil when a character is outside it.
    public static func labels(of text: String, in charset: [Character]) -> [Int32]? {
        var labels: [Int32] = []
        labels.reserveCapacity(text.count)
        for c in text {
            guard let k = charset.firstIndex(of: c) else { return nil }
            labels.append(Int32(k))
        }
        return labels
    }
}
