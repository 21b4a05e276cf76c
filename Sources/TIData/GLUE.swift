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

    /// Metrics GLUE reports for the task; the first one is the headline number.
    public var metrics: [GLUEMetric] {
        switch self {
        case .cola: return [.matthews]
        case .mrpc, .qqp: return [.f1, .accuracy]
        case .stsb: return [.pearson, .spearman]
        case .sst2, .mnli, .qnli, .rte, .wnli: return [.accuracy]
        }
    }

    /// Accepted split names; MNLI has two dev sets and "dev" means dev_matched there.
    public var splits: [String] {
        self == .mnli ? ["train", "dev", "dev_matched", "dev_mismatched"] : ["train", "dev"]
    }

    /// Scores class predictions (all tasks but STS-B).
    public func score(predictions: [Int], labels: [Int]) -> [GLUEMetric: Double] {
        var out: [GLUEMetric: Double] = [:]
        for m in metrics {
            switch m {
            case .accuracy: out[m] = Metrics.accuracy(predictions: predictions, labels: labels)
            case .f1: out[m] = Metrics.f1(predictions: predictions, labels: labels)
            case .matthews: out[m] = Metrics.matthewsCorrelation(predictions: predictions, labels: labels)
            case .pearson, .spearman: out[m] = 0  // not defined for classes; STS-B uses the Double overload
            }
        }
        return out
    }

    /// Scores regression outputs (STS-B); classification metrics are computed on rounded values.
    public func score(predictions: [Double], targets: [Double]) -> [GLUEMetric: Double] {
        var out: [GLUEMetric: Double] = [:]
        for m in metrics {
            switch m {
            case .pearson: out[m] = Metrics.pearson(predictions, targets)
            case .spearman: out[m] = Metrics.spearman(predictions, targets)
            case .accuracy, .f1, .matthews:
                out[m] = score(predictions: predictions.map { Int($0.rounded()) }, labels: targets.map { Int($0.rounded()) })[m]
            }
        }
        return out
    }
}

public enum GLUEMetric: String, CaseIterable, Codable, Sendable {
    case accuracy, f1, matthews = "mcc", pearson, spearman
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
