// The registry of QAT/PTQ methods: adding a method is one file implementing `QATMethod` and one
// line here. Order is the order of `--help` and of `QATMode.allCases`.

public enum MethodRegistry {
    public static let all: [any QATMethod] = [
        GroundTruthQAT.fullPrecision,
        GroundTruthQAT.ternary,
        TernaryKD(),
        TeacherIntervention.mapOnly, TeacherIntervention.contextOnly, TeacherIntervention.outputOnly,
        TeacherIntervention.gradual, TeacherIntervention.inverted, TeacherIntervention.stochastic,
        Q8BERT(),
        PTQW8A8(),
        AdaRoundW4(),
        LSQW4A8(),
    ]

    private static let byName: [String: any QATMethod] = {
        var d: [String: any QATMethod] = [:]
        for m in all {
            precondition(d[m.mode.rawValue] == nil, "MethodRegistry: two methods named \(m.mode.rawValue)")
            d[m.mode.rawValue] = m
        }
        return d
    }()

    public static func method(named name: String) -> (any QATMethod)? { byName[name] }

    /// The method a command analyses or trains when none is named: the paper's TI-G.
    public static let defaultMode = QATMode.tiG

    /// The method whose students carry an int8 export that `eval`/`hessian`/`landscape --load-quantized` read.
    public static var int8Exporter: QATMode { all.first { $0.writesInt8Export }!.mode }
}
