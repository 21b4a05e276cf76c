// How a sentence pair is cut to fit the sequence length. The two rules differ only when both
// segments must lose tokens and end equally long: then one of them keeps one token more, and the
// rules disagree on which.

public enum PairTruncation: String, CaseIterable, Codable, Sendable {
    /// The seed code's `_truncate_seq_pair` (original BERT `convert_examples_to_features`): while
    /// the pair is too long, drop the last token of the longer segment, of the second on a tie.
    /// The slow Python tokenizer's own `longest_first` gives the same lengths.
    case seeds
    /// The fast HuggingFace tokenizer's `longest_first`: when both must be cut, the budget is
    /// split evenly and an odd token goes to the longer segment (the second on a tie).
    case longestFirst = "longest-first"

    /// Kept lengths (first, second) of segments with n1 and n2 tokens under a shared budget.
    public func keptLengths(_ n1: Int, _ n2: Int, budget: Int) -> (Int, Int) {
        let budget = max(0, budget)
        guard n1 + n2 > budget else { return (n1, n2) }
        switch self {
        case .seeds: return Self.seedLengths(n1, n2, budget: budget)
        case .longestFirst: return Self.longestFirstLengths(n1, n2, budget: budget)
        }
    }

    /// Closed form of the pop loop: the longer segment shrinks toward the shorter one's length;
    /// if that is not enough both shrink in turn, the second going first, so the first keeps the
    /// odd token of an odd budget.
    static func seedLengths(_ n1: Int, _ n2: Int, budget: Int) -> (Int, Int) {
        let excess = n1 + n2 - budget
        let gap = abs(n1 - n2)
        if excess <= gap { return n1 > n2 ? (n1 - excess, n2) : (n1, n2 - excess) }
        return (budget / 2 + budget % 2, budget / 2)
    }

    static func longestFirstLengths(_ n1: Int, _ n2: Int, budget: Int) -> (Int, Int) {
        let swapped = n1 > n2
        let (short, long) = swapped ? (n2, n1) : (n1, n2)
        var keepShort = short, keepLong = min(long, max(short, budget - short))
        if keepShort + keepLong > budget {
            keepShort = budget / 2
            keepLong = keepShort + budget % 2
        }
        return swapped ? (keepLong, keepShort) : (keepShort, keepLong)
    }
}
