// GLUE scores computed here must match the numbers papers report (sklearn / scipy conventions),
// so each definition follows those libraries' edge-case choices and says where it differs.

public enum Metrics {
    /// Fraction of positions where prediction equals label; 0 for empty input.
    /// Length mismatch is a caller bug (not bad file input), hence a precondition.
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
        checkLengths(predictions.count, labels.count, "accuracy")
        guard !labels.isEmpty else { return 0 }
        var hits = 0
        for i in labels.indices where predictions[i] == labels[i] { hits += 1 }
        return Double(hits) / Double(labels.count)
    }

    /// Binary F1 for class `positive`; 0 when there are no true or predicted positives
    /// (sklearn's `zero_division=0` behaviour).
    public static func f1(predictions: [Int], labels: [Int], positive: Int = 1) -> Double {
        checkLengths(predictions.count, labels.count, "f1")
        var tp = 0, fp = 0, fn = 0
        for i in labels.indices {
            let p = predictions[i] == positive, l = labels[i] == positive
            if p && l { tp += 1 } else if p { fp += 1 } else if l { fn += 1 }
        }
        let denom = 2 * tp + fp + fn
        return denom == 0 ? 0 : Double(2 * tp) / Double(denom)
    }

    /// Matthews correlation coefficient for any number of classes: Gorodkin's R_K from the
    /// confusion matrix, (c·s − Σ t_k p_k) / √((s² − Σ p_k²)(s² − Σ t_k²)) with c correct of s,
    /// t_k/p_k the true/predicted counts of class k (sklearn's multiclass form; the binary formula
    /// for two classes). 0 when either marginal is constant and MCC is undefined.
    public static func matthewsCorrelation(predictions: [Int], labels: [Int]) -> Double {
        checkLengths(predictions.count, labels.count, "matthewsCorrelation")
        var truth: [Int: Double] = [:], pred: [Int: Double] = [:]
        var correct = 0.0
        for i in labels.indices {
            truth[labels[i], default: 0] += 1
            pred[predictions[i], default: 0] += 1
            if labels[i] == predictions[i] { correct += 1 }
        }
        let s = Double(labels.count)
        var tp = 0.0, pp = 0.0, tt = 0.0
        for (k, t) in truth { tp += t * (pred[k] ?? 0); tt += t * t }
        for (_, p) in pred { pp += p * p }
        let covYP = correct * s - tp
        let covPP = s * s - pp
        let covYY = s * s - tt
        let denom = covPP * covYY
        return denom == 0 ? 0 : covYP / denom.squareRoot()
    }

    /// Pearson correlation. Returns 0 when either series is constant or shorter than 2
    /// (scipy returns NaN; 0 keeps reports JSON-encodable and matches the MCC convention).
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        checkLengths(x.count, y.count, "pearson")
        let n = Double(x.count)
        guard x.count >= 2 else { return 0 }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return 0 }
        // Clamp: rounding can push |r| a hair past 1 for perfectly linear data.
        return min(1, max(-1, sxy / (sxx * syy).squareRoot()))
    }

    /// Spearman rank correlation: Pearson on ranks, ties sharing their average rank (scipy's default).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        checkLengths(x.count, y.count, "spearman")
        return pearson(averageRanks(x), averageRanks(y))
    }

    /// 1-based ranks; a run of equal values gets the mean of the ranks it spans.
    public static func averageRanks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var ranks = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = rank }
            i = j + 1
        }
        return ranks
    }

    private static func checkLengths(_ a: Int, _ b: Int, _ fn: String) {
        precondition(a == b, "Metrics.\(fn): \(a) predictions vs \(b) labels")
    }
}
