// Hyper-parameter presets. `ti` resolves every setting from the task and the model as the public
// Teacher Intervention scripts do; `embedded` names tianalyze's own defaults for the small embedded
// tasks trained from scratch. Explicit flags override a preset; every resolved value is recorded in
// metadata.json with where it came from.
import TIData

extension GradientClipping: CustomStringConvertible {
    public var description: String { rawValue }
}

public enum Recipe: String, Codable, CaseIterable, Sendable {
    case embedded
    case ti

    /// The settings of this preset for a task (GLUE name such as "cola", or an embedded task) and a
    /// model depth.
    public func values(task: String, layers: Int) -> RecipeValues {
        switch self {
        case .embedded:
            return RecipeValues(learningRate: 2e-4, epochs: 3, batchSize: 32, stepOneLength: nil, maxSeqLength: nil,
                                clipping: .global)
        case .ti:
            // CoLA and the 4-layer TinyBERT get a longer step 1 (120); short single-sentence tasks a shorter sequence.
            let longStepOne = task == "cola" || layers == 4
            let shortSequences = task == "cola" || task == "sst2"
            return RecipeValues(learningRate: 2e-5, epochs: 3, batchSize: task == "cola" ? 16 : 32,
                                stepOneLength: longStepOne ? 120 : 60, maxSeqLength: shortSequences ? 64 : 128,
                                clipping: .perTensor)
        }
    }
}

/// The values a preset gives; nil leaves the setting to its own default (the embedded step-1 rule,
/// the task option's sequence length).
public struct RecipeValues: Equatable, Sendable {
    public var learningRate: Double
    public var epochs: Int
    public var batchSize: Int
    public var stepOneLength: Int?
    public var maxSeqLength: Int?
    /// Gradient clipping of BertAdam: per parameter tensor (pytorch-pretrained-bert) or global.
    public var clipping: GradientClipping
    /// BertAdam's linear warmup share and weight decay, the same in both presets.
    public var warmupFraction = 0.1
    public var weightDecay = 0.01
}

/// One resolved hyper-parameter and where its value came from ("flag", "recipe ti", "default").
public struct ResolvedSetting: Codable, Equatable, Sendable {
    public var value: String
    public var source: String
    public init(_ value: String, source: String) { self.value = value; self.source = source }
}

/// Resolves settings in order flag → preset → default and records each choice.
public struct SettingResolver {
    public let recipe: Recipe
    public private(set) var settings: [String: ResolvedSetting] = [:]

    public init(recipe: Recipe) { self.recipe = recipe }

    /// `flag` if given, else `preset` if the preset sets it, else `fallback`; recorded under `name`.
    public mutating func resolve<V: CustomStringConvertible>(_ name: String, flag: V?, preset: V?, fallback: V) -> V {
        let (v, source): (V, String) = flag.map { ($0, "flag") } ?? preset.map { ($0, "recipe \(recipe.rawValue)") } ?? (fallback, "default")
        settings[name] = ResolvedSetting(v.description, source: source)
        return v
    }

    /// Records a value set elsewhere (derived, e.g. the step-1 length from the budget).
    public mutating func record(_ name: String, _ value: String, source: String) {
        settings[name] = ResolvedSetting(value, source: source)
    }
}

/// The QAT hyper-parameters a user gave explicitly (nil: not given), resolved against a preset.
public struct QATSettingsRequest: Sendable {
    public var recipe: Recipe = .embedded
    public var learningRate: Double?
    public var epochs: Int?
    public var batchSize: Int?
    public var stepOneLength: Int?
    public var evalEvery: Int?
    public var clipping: GradientClipping?
    public init() {}

    /// The configuration of `mode` for a task (GLUE or embedded name) and a model depth, with the
    /// provenance of every value.
    public func resolve(mode: QATMode, task: String, layers: Int) -> (config: QATConfig, settings: [String: ResolvedSetting]) {
        let preset = recipe.values(task: task, layers: layers)
        let defaults = QATConfig.defaults
        var r = SettingResolver(recipe: recipe)
        var c = QATConfig(mode: mode)
        c.learningRate = r.resolve("learning_rate", flag: learningRate, preset: preset.learningRate, fallback: defaults.learningRate)
        c.epochs = r.resolve("epochs", flag: epochs, preset: preset.epochs, fallback: defaults.epochs)
        c.batchSize = r.resolve("batch_size", flag: batchSize, preset: preset.batchSize, fallback: defaults.batchSize)
        c.evalEvery = r.resolve("eval_every", flag: evalEvery, preset: nil, fallback: defaults.evalEvery)
        c.stepOneLength = stepOneLength ?? preset.stepOneLength
        r.record("step_one_length", c.stepOneLength.map(String.init) ?? "round(N·60/1600), at least 6",
                 source: stepOneLength != nil ? "flag" : preset.stepOneLength != nil ? "recipe \(recipe.rawValue)" : "default")
        c.adam.weightDecay = r.resolve("weight_decay", flag: nil, preset: preset.weightDecay, fallback: defaults.adam.weightDecay)
        r.record("warmup_fraction", String(preset.warmupFraction), source: "recipe \(recipe.rawValue)")
        c.adam.clipping = r.resolve("gradient_clipping", flag: clipping, preset: preset.clipping, fallback: defaults.adam.clipping)
        return (c, r.settings)
    }
}
