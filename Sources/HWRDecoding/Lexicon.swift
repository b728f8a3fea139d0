/// A word list as a prefix tree over class indices, for lexicon-constrained beam search.
public final class Lexicon: @unchecked Sendable {
    private var children: [[Int: Int]] = [[:]]
    private var terminal: [Bool] = [false]
    /// The word as given, by the node that ends it (the first spelling given of words that differ
    /// only in case).
    private var spellings: [Int: String] = [:]
    /// Number of distinct words.
    public private(set) var count = 0

    /// The class each class is matched as (its upper-case class for a model with case), or nil when
    /// every class stands for itself.
    private let fold: [Int]?

    /// Builds the tree. Words with characters outside `charset` (after folding to upper case) are
    /// skipped, as are empty words.
    /// - Parameters:
    ///   - classOf: maps an upper-case character to its class, or nil
    ///   - fold: for a model with case, the upper-case class of each class, so that words match
    ///     whatever the case the model reads; nil when there is no case
    public init<S: Sequence>(words: S, classOf: (Character) -> Int?, fold: [Int]? = nil) where S.Element == String {
        self.fold = fold
        for word in words {
            let classes = word.compactMap { classOf($0.upperCaseForm) }
            guard !classes.isEmpty, classes.count == word.count else { continue }
            var node = 0
            for k in classes {
                if let next = children[node][k] { node = next } else {
                    children.append([:]); terminal.append(false)
                    children[node][k] = children.count - 1
                    node = children.count - 1
                }
            }
            if !terminal[node] { terminal[node] = true; spellings[node] = word; count += 1 }
            wordClasses.formUnion(classes)
        }
        if let fold { wordClasses = Set(fold.indices.filter { wordClasses.contains(fold[$0]) }) }
    }

    /// The classes its words are made of (either case for a model with case): in a dictionary
    /// (`DecodingConstraint.lexiconPerWord`), every other class separates words.
    public private(set) var wordClasses = Set<Int>()

    /// The node reached from `node` by class `k`, or nil.
    public func child(of node: Int, _ k: Int) -> Int? {
        guard let fold else { return children[node][k] }
        return k < fold.count ? children[node][fold[k]] : nil
    }
    /// Whether `node` ends a word.
    public func isWord(_ node: Int) -> Bool { terminal[node] }
    /// The word that ends at `node`, as the word list spells it, or nil.
    public func spelling(ofWordAt node: Int) -> String? { spellings[node] }
}
