// Activation ranges that persist across forward passes (Q8BERT's EMA thresholds, PTQ's calibrated
// ranges).
//
// Why a value type plus a tracker: the ranges are training state, like the optimizer moments, so the
// training loop owns one `ActivationRangeState` value, saves it with its checkpoints and hands it to
// evaluation by copying it into `QuantConfig.ranges` (where it is frozen). A forward pass cannot
// mutate a value it was given, so for a training step the loop wraps the state in an
// `ActivationRangeTracker` (a reference the forward updates) and reads `tracker.state` back after the
// step. Nothing is global, and two forwards on two workers never share a tracker.
//
// Sites are visited once per layer, so a range is keyed by site and occurrence ("intermediateInput.2"
// is FFN1's input in layer 2). The forward visits sites in a fixed order, so the key is stable.
import Foundation
import TILinalg

/// One tracked range: an exponential moving average of max|x| (symmetric quantizers), or a
/// calibrated [lo, hi] interval (asymmetric quantizers), or per-dimension intervals (PEG).
public struct TrackedRange: Codable, Equatable, Sendable {
    /// The EMA of max|x| (unused by calibrated ranges): the average itself when it starts at the first
    /// value, the uncorrected average when it starts at 0 (see `EMAStart`).
    public var biased: Double
    /// EMA updates, or calibration batches seen.
    public var steps: Int
    public var lo: Double
    public var hi: Double
    /// PEG: per-hidden-dimension calibrated [lo, hi].
    public var dimLo: [Double]?
    public var dimHi: [Double]?
    /// PEG with permutation: the hidden dimensions in the order their groups take them, fixed from
    /// full-precision ranges before calibration (PEGPermutation.swift); nil sorts by `dimLo`/`dimHi`.
    public var order: [Int]?

    public init(biased: Double = 0, steps: Int = 0, lo: Double = 0, hi: Double = 0, dimLo: [Double]? = nil, dimHi: [Double]? = nil,
                order: [Int]? = nil) {
        self.biased = biased; self.steps = steps; self.lo = lo; self.hi = hi; self.dimLo = dimLo; self.dimHi = dimHi
        self.order = order
    }

    /// The range to quantize with. From 0, the EMA with the usual bias correction biased/(1 − decayᵗ):
    /// after the first update it equals the first observation, so the 0 the average starts from never
    /// leaks into the range (with decay 0.9999 an uncorrected EMA would sit near 0 for thousands of
    /// steps). From the first value, the average itself.
    public func threshold(decay: Double, start: EMAStart = .zeroBiasCorrected) -> Double {
        guard steps > 0 else { return hi }
        switch start {
        case .zeroBiasCorrected: return biased / (1 - pow(decay, Double(steps)))
        case .firstValue: return biased
        }
    }
}

/// Where an activation EMA starts. The two agree on the first update and differ afterwards: the
/// corrected average weighs the first values by (1 − d)·dᵗ⁻ᵏ/(1 − dᵗ), the first-value one keeps the
/// first value's weight dᵗ⁻¹ until it decays.
public enum EMAStart: String, Codable, Sendable, CaseIterable {
    /// Intel's nlp-architect (`_update_ema`): ema = x₁, then ema −= (1 − decay)·(ema − xₜ).
    case firstValue = "first-value"
    /// From 0 with Adam's bias correction (tianalyze's rule before it followed Intel's).
    case zeroBiasCorrected = "bias-corrected"
}

/// Every tracked range of one model, by "site.occurrence".
public struct ActivationRangeState: Codable, Equatable, Sendable {
    public var decay: Double
    public var ranges: [String: TrackedRange]
    /// How EMA ranges start (Q8BERT's `.tracked` sites).
    public var start: EMAStart
    /// The STE of EMA-range sites: true passes the gradient everywhere (Intel's
    /// FakeLinearQuantizationWithSTE), false masks it where x was clipped to the range.
    public var straightThrough: Bool

    public init(decay: Double = 0.9999, ranges: [String: TrackedRange] = [:], start: EMAStart = .zeroBiasCorrected,
                straightThrough: Bool = false) {
        self.decay = decay; self.ranges = ranges; self.start = start; self.straightThrough = straightThrough
    }

    enum CodingKeys: String, CodingKey { case decay, ranges, start, straightThrough }

    /// States saved before `start` and `straightThrough` existed decode as what they were trained with.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        decay = try c.decode(Double.self, forKey: .decay)
        ranges = try c.decode([String: TrackedRange].self, forKey: .ranges)
        start = try c.decodeIfPresent(EMAStart.self, forKey: .start) ?? .zeroBiasCorrected
        straightThrough = try c.decodeIfPresent(Bool.self, forKey: .straightThrough) ?? false
    }

    public static func key(_ site: ActivationSite, _ occurrence: Int) -> String { "\(site.rawValue).\(occurrence)" }

    /// One EMA update with an observed max|x|; returns the bias-corrected threshold to quantize with.
    @discardableResult
    public mutating func update(_ key: String, observedMaxAbs m: Double) -> Double {
        var r = ranges[key] ?? TrackedRange()
        switch (start, r.steps) {
        case (.firstValue, 0): r.biased = m
        case (.firstValue, _): r.biased -= (1 - decay) * (r.biased - m)
        case (.zeroBiasCorrected, _): r.biased = decay * r.biased + (1 - decay) * m
        }
        r.steps += 1
        ranges[key] = r
        return r.threshold(decay: decay, start: start)
    }

    /// The frozen symmetric threshold of a site, or nil when it was never observed.
    public func threshold(_ key: String) -> Double? { ranges[key].map { $0.threshold(decay: decay, start: start) } }
}

/// The mutable handle a training forward updates; see the file comment.
public final class ActivationRangeTracker {
    public private(set) var state: ActivationRangeState
    /// How calibrated (asymmetric) quantizers turn observed tensors into [lo, hi]; unused by EMA ones.
    public let estimator: RangeEstimator
    /// How `.mse` searches (grid: errors summed over batches; golden section: each batch alone).
    public let search: RangeSearchMethod
    /// Half-widths the `.mse` grid tries.
    public let candidates: Int
    /// Sites calibrated otherwise than the rest (the seed's `MSE_logits` setup).
    public let siteEstimators: [ActivationSite: SiteEstimator]
    /// The `.mse` grid searches in progress, by site key: the summed errors live here, not in `state`.
    private var searches: [String: MSEGridSearch] = [:]

    public init(state: ActivationRangeState, estimator: RangeEstimator = .currentMinMax, search: RangeSearchMethod = .grid,
                candidates: Int = MSEGridSearch.defaultCandidates, siteEstimators: [ActivationSite: SiteEstimator] = [:]) {
        self.state = state; self.estimator = estimator; self.search = search; self.candidates = candidates
        self.siteEstimators = siteEstimators
    }
    func update(_ key: String, observedMaxAbs m: Double) -> Double { state.update(key, observedMaxAbs: m) }

    /// PEG: fixes the dimension order of `key` before any range is observed there (PEGPermutation.swift).
    public func fixOrder(_ key: String, _ order: [Int]) {
        precondition(state.ranges[key] == nil || state.ranges[key]!.steps == 0, "fixOrder: \(key) already has observed ranges")
        state.ranges[key, default: TrackedRange()].order = order
    }

    /// PEG: per-dimension ranges of this batch by the tracker's estimator, as the per-tensor estimators
    /// do it for one range: current_minmax keeps this batch's [min, max] of every dimension,
    /// running_minmax their moving average, and MSE searches each dimension's own [α·min, α·max] on
    /// this batch (`RangeEstimator.mseRange`, the per-tensor search applied to one column) and averages
    /// the per-batch optima. Group ranges are the envelopes of their dimensions (PEG.quantize).
    public func observePerDimension<T: BLASScalar>(_ key: String, _ x: UnsafePointer<T>, count n: Int, width: Int, bits: Int) -> ([Double], [Double]) {
        var (lo, hi) = PEG.dimensionRanges(x, count: n, width: width)
        if estimator == .mse || estimator == .mseShrinkMean { (lo, hi) = PEG.mseDimensionRanges(x, count: n, width: width, bits: bits, lo: lo, hi: hi) }
        let prev = state.ranges[key]
        if let p = prev, p.steps > 0, let pl = p.dimLo, let ph = p.dimHi {
            switch estimator {
            case .currentMinMax: break
            case .allMinMax:
                for j in 0..<width { lo[j] = min(pl[j], lo[j]); hi[j] = max(ph[j], hi[j]) }
            case .runningMinMax:
                let m = RangeEstimator.runningMomentum
                for j in 0..<width { lo[j] = m * pl[j] + (1 - m) * lo[j]; hi[j] = m * ph[j] + (1 - m) * hi[j] }
            case .mse, .mseShrinkMean:
                let t = Double(p.steps + 1)
                for j in 0..<width { lo[j] = pl[j] + (lo[j] - pl[j]) / t; hi[j] = ph[j] + (hi[j] - ph[j]) / t }
            }
        }
        state.ranges[key] = TrackedRange(steps: (prev?.steps ?? 0) + 1, lo: lo.min() ?? 0, hi: hi.max() ?? 0, dimLo: lo, dimHi: hi,
                                         order: prev?.order)
        return (lo, hi)
    }

    /// Feeds one tensor to the estimator of `key` and returns the range to quantize it with.
    public func observe<T: BLASScalar>(_ key: String, site: ActivationSite, _ x: UnsafePointer<T>, count n: Int, bits: Int) -> (Double, Double) {
        let e = siteEstimators[site] ?? SiteEstimator(estimator: estimator, search: search)
        let previous = state.ranges[key]
        let r: TrackedRange
        switch (e.estimator, e.search) {
        case (.mse, .grid):
            var s = searches[key] ?? MSEGridSearch(first: x, count: n, bits: bits, candidates: candidates)
            s.accumulate(x, count: n)
            searches[key] = s
            r = TrackedRange(steps: (previous?.steps ?? 0) + 1, lo: s.best.lo, hi: s.best.hi)
        case (.mse, .goldenSection):
            let b = MSEGridSearch.goldenSection(x, count: n, bits: bits)
            r = TrackedRange(steps: (previous?.steps ?? 0) + 1, lo: b.lo, hi: b.hi)
        default:
            r = e.estimator.update(previous, x, count: n, bits: bits)
        }
        state.ranges[key] = r
        return (r.lo, r.hi)
    }
}

/// An estimator with its search method, for one site.
public struct SiteEstimator: Codable, Equatable, Sendable {
    public var estimator: RangeEstimator
    public var search: RangeSearchMethod
    public init(estimator: RangeEstimator, search: RangeSearchMethod) { self.estimator = estimator; self.search = search }
}

/// Counts how often each site was visited in one forward pass, giving each visit its key.
final class SiteCounter {
    private var counts: [ActivationSite: Int] = [:]
    func next(_ site: ActivationSite) -> String {
        let c = counts[site, default: 0]
        counts[site] = c + 1
        return ActivationRangeState.key(site, c)
    }

    /// The key the next visit of `site` will get, without counting it.
    func peek(_ site: ActivationSite) -> String { ActivationRangeState.key(site, counts[site, default: 0]) }
}
