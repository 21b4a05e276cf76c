// The nine GLUE tasks as distributed in glue_data/<Task>/*.tsv: which columns hold the texts and
// the label, the label vocabularies (ordered as HuggingFace's GLUE processors order them, so class
// indices agree with checkpoints fine-tuned there), and the metrics each task reports.

public enum GLUETask: String, CaseIterable, Codable, Sendable {
    case cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli

    /// Directory name inside glue_data.
    public var directoryName: String {
        switch self {
        case .cola: return "CoLA"
        case .sst2: return "SST-2"
        case .mrpc: return "MRPC"
        case .stsb: return "STS-B"
        case .qqp: return "QQP"
        case .mnli: return "MNLI"
        case .qnli: return "QNLI"
        case .rte: return "RTE"
        case .wnli: return "WNLI"
        }
    }

    /// Class names in index order; empty for the regression task STS-B.
    public var labels: [String] {
        switch self {
        case .cola, .sst2, .mrpc, .qqp, .wnli: return ["0", "1"]
        case .mnli: return ["contradiction", "entailment", "neutral"]
        case .qnli, .rte: return ["entailment", "not_entailment"]
        case .stsb: return []
        }
    }

    public var isRegression: Bool { self == .stsb }

    /// Output width of the classifier head (1 for regression).
    public var numLabels: Int { isRegression ? 1 : labels.count }

    public var isPair: Bool { self != .cola && self != .sst2 }

    /// Metrics GLUE reports for the task; the first one is the headline number, the one the seeds
    /// select and report by (MRPC/QQP: the mean of accuracy and F1; STS-B: of Pearson and Spearman).
    /// MNLI reports accuracy on dev_matched and dev_mismatched alike.
    public var metrics: [GLUEMetric] {
        switch self {
        case .cola: return [.matthews]
        case .mrpc, .qqp: return [.accAndF1, .f1, .accuracy]
        case .stsb: return [.corr, .pearson, .spearman]
        case .sst2, .mnli, .qnli, .rte, .wnli: return [.accuracy]
        }
    }

    /// Accepted split names; MNLI has two dev sets and "dev" means dev_matched there.
    public var splits: [String] {
        self == .mnli ? ["train", "dev", "dev_matched", "dev_mismatched"] : ["train", "dev"]
    }

    /// Scores class predictions (all tasks but STS-B) on the task's `metrics`.
    public func score(predictions: [Int], labels: [Int]) -> [GLUEMetric: Double] {
        let all = GLUEMetric.classification(predictions: predictions, labels: labels, numLabels: max(numLabels, 2))
        return all.filter { metrics.contains($0.key) }
    }

    /// Scores regression outputs (STS-B) on the task's `metrics`.
    public func score(predictions: [Double], targets: [Double]) -> [GLUEMetric: Double] {
        GLUEMetric.regression(outputs: predictions, targets: targets).filter { metrics.contains($0.key) }
    }
}

/// A GLUE score, named as the seeds' compute_metrics name it where the name is theirs (acc_and_f1,
/// corr, mcc); declared in report order. Computed by `GLUEMetric.classification` / `.regression`.
public enum GLUEMetric: String, CaseIterable, Codable, Sendable {
    case accuracy, f1, accAndF1 = "acc_and_f1", matthews = "mcc", pearson, spearman, corr
}

/// One example: texts plus either a class index (classification) or a target (regression).
public struct TextExample: Equatable, Sendable, Codable {
    public var textA: String
    public var textB: String?
    public var label: Int?
    public var target: Double?

    public init(textA: String, textB: String? = nil, label: Int? = nil, target: Double? = nil) {
        self.textA = textA
        self.textB = textB
        self.label = label
        self.target = target
    }
}
