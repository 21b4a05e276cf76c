// Counterfactual intervention: a step-1 intervention that applies only in chosen layers
// (`--intervene-layers 0,3` or ranges `0-2,5`); the other layers run the student's own forward.
// Every layer, the default, is TI as published.
import TIData

public enum InterventionLayers {
    /// "0,3", "0-2,5": the sorted distinct layers, each in 0..<layerCount.
    public static func parse(_ text: String, layerCount: Int) throws -> [Int] {
        func refuse(_ reason: String) -> OptionValueError { OptionValueError(option: .interventionLayers, value: text, reason: reason) }
        var layers = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]), let hi = Int(bounds[bounds.count - 1]) else {
                throw refuse("expected a comma list of layers or ranges such as 0,3 or 0-2,5 (\"\(item)\" is neither)")
            }
            guard lo <= hi else { throw refuse("expected a range low-high with low ≤ high (\"\(item)\")") }
            guard lo >= 0, hi < layerCount else { throw refuse("expected layers 0…\(layerCount - 1): the model has \(layerCount) layers") }
            layers.formUnion(lo...hi)
        }
        return layers.sorted()
    }

    /// A configuration's layers against the model it trains, and against a method that never intervenes.
    public static func check(_ config: QATConfig, layerCount: Int) throws {
        guard let layers = config.interventionLayers else { return }
        let text = layers.map(String.init).joined(separator: ",")
        guard !layers.isEmpty, layers == Array(Set(layers)).sorted(), layers.allSatisfy({ (0..<layerCount).contains($0) }) else {
            throw OptionValueError(option: .interventionLayers, value: text, reason: "expected distinct sorted layers 0…\(layerCount - 1): the model has \(layerCount) layers")
        }
        guard config.mode.method.analysisIntervention(requested: .map) != nil else {
            throw OptionValueError(option: .interventionLayers, value: text, reason: "applies to the intervention modes (MI, CI, OI and the TI schedules), not \(config.mode.rawValue)")
        }
    }
}
