// The forward of an LSQ activation site (the arithmetic is in LSQ.swift): the learned step, and for the
// asymmetric quantizer the learned zero point, read from the parameter vector being evaluated, their
// derivative terms returned for STEMask.backward and the frozen replay (FrozenPoint.swift).
import TILinalg

extension ActivationQuantization {
    /// Quantizes an LSQ site into `out`/`mask` and returns the learned parameters' derivative terms;
    /// nil when the site is not learned here (calibration, or a layout without its step slot), so that
    /// the caller quantizes it as a calibrated asymmetric site. The symmetric quantizer, which has no
    /// calibrated asymmetric stand-in, quantizes on its calibrated start then and returns no terms.
    func applyLSQ(_ key: String, site: ActivationSite, _ q: ActivationQuantizer, _ x: Buffer<T>, out: Buffer<T>, mask: Buffer<T>) -> [LSQActivationTerm<T>]? {
        let n = x.count, bits = q.bits
        let learned = tracker == nil ? steps?[key] : nil
        if case .lsqSymmetric = q {
            let (lo, hi) = tracker.map { $0.observe(key, site: site, x.p, count: n, bits: bits) } ?? config.ranges?.ranges[key].map { ($0.lo, $0.hi) }
                ?? globalRange(x)  // uncalibrated: the tensor's own range
            let zero = LSQ.symmetricActivationGrid(lo: lo, bits: bits).zero
            let s = learned?.value ?? T(max(LSQ.symmetricActivationStep(lo: lo, hi: hi, bits: bits), 1e-8))
            let d = Buffer<T>(uninitialized: n)
            LSQ.quantizeActivation(x.p, count: n, bits: bits, step: s, zero: T(zero), out: out.p, mask: mask.p, d: d.p)
            return learned.map { [LSQActivationTerm(index: $0.index, d: d, at: $0.value)] } ?? []
        }
        guard let s = learned else { return nil }
        let d = Buffer<T>(uninitialized: n)
        if let zf = steps?.zeroPoint(key) {
            // The seed's zero point: a float parameter rounded (half to even) and clamped in the forward,
            // the rounding passed straight through and the clamp's derivative kept.
            let top = T(IntegerGrid.unsigned(bits: bits).qmax), r = roundEven(zf.value)
            let dz = Buffer<T>(uninitialized: n)
            LSQ.quantizeActivation(x.p, count: n, bits: bits, step: s.value, zero: min(max(r, 0), top), out: out.p, mask: mask.p,
                                   d: d.p, dZero: dz.p)
            if r < 0 || r > top { for i in 0..<n { dz.p[i] = 0 } }
            return [LSQActivationTerm(index: s.index, d: d, at: s.value), LSQActivationTerm(index: zf.index, d: dz, at: zf.value)]
        }
        // A layout without zero-point slots: the zero point fixed by the calibrated range.
        var lo: T = 0
        for i in 0..<n { lo = min(lo, x.p[i]) }
        if let statistics, config.ranges?.ranges[key] == nil { lo = statistics.range(lo: lo, hi: 0).lo }
        let zero = config.ranges?.ranges[key].map { LSQ.zeroPoint(lo: $0.lo, hi: $0.hi, bits: bits) }
            ?? LSQ.zeroPoint(lo: Double(lo), step: Double(s.value), bits: bits)  // uncalibrated: the tensor's own min
        LSQ.quantizeActivation(x.p, count: n, bits: bits, step: s.value, zero: T(zero), out: out.p, mask: mask.p, d: d.p)
        return [LSQActivationTerm(index: s.index, d: d, at: s.value)]
    }

    /// [min, max] of the batch x is this rank's share of (of x itself in one process).
    func globalRange(_ x: Buffer<T>) -> (Double, Double) {
        var lo: T = 0, hi: T = 0
        for i in 0..<x.count { lo = min(lo, x.p[i]); hi = max(hi, x.p[i]) }
        let r: (lo: T, hi: T) = statistics.map { $0.range(lo: lo, hi: hi) } ?? (lo, hi)
        return (Double(r.lo), Double(r.hi))
    }
}
