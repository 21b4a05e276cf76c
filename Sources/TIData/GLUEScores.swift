// Every GLUE score of one set of predictions, as the seeds report them: accuracy, binary F1 and
// their mean for two classes; Matthews correlation for any number of classes (Gorodkin's R_K,
// sklearn's multiclass matthews_corrcoef); Pearson, Spearman and their mean for regression.
// F1 stays binary (positive class 1): a multi-class F1 needs an averaging choice GLUE never makes.

extension GLUEMetric {
    /// The scores computed for a head with `numLabels` outputs (1 = regression), in report order.
    public static func reported(numLabels: Int) -> [GLUEMetric] {
        switch numLabels {
        case 1: return [.pearson, .spearman, .corr]
        case 2: return [.accuracy, .f1, .accAndF1, .matthews]
        default: return [.accuracy, .matthews]
        }
    }

    /// Class predictions scored on every metric `reported(numLabels:)` names.
    public static func classification(predictions: [Int], labels: [Int], numLabels: Int) -> [GLUEMetric: Double] {
        precondition(numLabels >= 2, "GLUEMetric.classification: \(numLabels) labels is regression")
        var out: [GLUEMetric: Double] = [:]
        out[.accuracy] = Metrics.accuracy(predictions: predictions, labels: labels)
        out[.matthews] = Metrics.matthewsCorrelation(predictions: predictions, labels: labels)
        if numLabels == 2 {
            let f1 = Metrics.f1(predictions: predictions, labels: labels, positive: 1)
            out[.f1] = f1
            out[.accAndF1] = (out[.accuracy]! + f1) / 2
        }
        return out
    }

    /// Regression outputs scored on Pearson, Spearman (ties at their average rank) and their mean.
    public static func regression(outputs: [Double], targets: [Double]) -> [GLUEMetric: Double] {
        let pearson = Metrics.pearson(outputs, targets), spearman = Metrics.spearman(outputs, targets)
        return [.pearson: pearson, .spearman: spearman, .corr: (pearson + spearman) / 2]
    }
}
