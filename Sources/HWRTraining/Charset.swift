/// The 36 classes of the character model: digits, then upper-case letters.
public enum Charset {
    /// `0`-`9` then `A`-`Z`.
    public static let alphanumeric: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// The class of a label, folding lower case into upper case; nil for characters outside the set.
    public static func classIndex(of label: Character, in charset: [Character] = alphanumeric) -> Int? {
        let folded = Character(label.uppercased())
        return charset.firstIndex(of: folded)
    }
}
