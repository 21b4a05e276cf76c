// P̂·V̂ in attention computed exactly. Both factors come out of the dynamic symmetric quantizer, so
// each is codes·step with integer codes, and per (batch, head) the context is
//   P̂·V̂ = σ·S,   σ = step_P·step_V,   S = codes_P·codes_V (integers).
// A float GEMM of the rounded factors lands within an ulp or so of σ·S, and O's input quantizer
// then rounds 127·x/max|x|: where that is exactly k + ½ (S and M = max|S| integers make such ties
// real, not rare), the last bit of the GEMM picked the code. Here S is exact, the float context
// handed on is σ·S correctly rounded (the same whatever the BLAS, thread count or summation order),
// and ContextQuantization.swift rounds O's input from S by the exact rule (LatticeRounding.swift).
// Backward is untouched: the STE sees the same tensors it always saw (P̂, V̂, the mask).
import Foundation
import TILinalg

public enum ExactLattice {
    /// On unless TIANALYZE_EXACT_LATTICE is "0". Off restores the float GEMM route, whose last bit
    /// decides exact ties: only for measuring what the exact rule changes (docs/exact-lattice-products.md).
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["TIANALYZE_EXACT_LATTICE"] != "0"
}

/// A quantized tensor as integer codes and a step: x̂ = code·step exactly (the float stored is that
/// product rounded).
public struct LatticeOperand<T: BLASScalar> {
    /// Integer-valued, one per entry.
    public let codes: Buffer<T>
    public let step: T
    public let qmax: Int

    public init(codes: Buffer<T>, step: T, qmax: Int) { self.codes = codes; self.step = step; self.qmax = qmax }

    /// The codes behind `quantized`, which the dynamic symmetric quantizer of `site` made from `input`.
    /// Nil when the site has another quantizer or none, when the tensor is all zeros, or when some
    /// entry is not code·step as that quantizer rounds it (a replayed linearization, a NaN).
    public static func recover(_ site: ActivationSite, input: Buffer<T>, quantized: Buffer<T>,
                               quant: ActivationQuantization<T>) -> LatticeOperand? {
        guard quant.frozen?.phase != .replaying, case .symmetric(let bits, let clip)? = quant.config.activations[site],
              input.count == quantized.count,
              let grid = ActivationQuantizer.dynamicGrid(input.p, count: input.count, bits: bits, clip: clip, across: quant.statistics),
              grid.step.isNormal
        else { return nil }
        let qmax = IntegerGrid.symmetric(bits: bits).qmax, top = T(qmax)
        let codes = Buffer<T>(uninitialized: input.count)
        // x̂/step is within a few ulps of an integer ≤ qmax, so multiplying by the rounded reciprocal
        // finds the same integer as dividing; the check below still rejects anything off the lattice.
        let reciprocal = 1 / grid.step
        // Elementwise, so split across the thread budget; any entry off the lattice voids the whole.
        let offLattice = Flag()
        Parallel.rows(input.count, width: 1, minimumRows: 1 << 15) { r in
            for i in r {
                let c = (quantized.p[i] * reciprocal).rounded(.toNearestOrEven)
                guard abs(c) <= top, c * grid.step == quantized.p[i] else { offLattice.set(); return }
                codes.p[i] = c
            }
        }
        // Split across ranks: one rank off the lattice voids it for all (the product is then a float GEMM everywhere).
        if quant.statistics.map({ $0.any(offLattice.isSet) }) ?? offLattice.isSet { return nil }
        return LatticeOperand(codes: codes, step: grid.step, qmax: qmax)
    }
}

/// A flag any worker may raise (set once, read after the workers are done).
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func set() { lock.lock(); raised = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return raised }
}

/// The exact context of one attention layer: S per entry and σ·S correctly rounded, [B·T, H] with
/// heads side by side (as SelfAttention lays out the context).
public final class LatticeProduct<T: BLASScalar>: @unchecked Sendable {
    // @unchecked: `multiply(batch:head:)` writes only its own (batch, head) block, so calls for
    // different blocks may run on different threads; nothing else mutates after init.
    public let probs: LatticeOperand<T>, values: LatticeOperand<T>
    public let batch: Int, heads: Int, seq: Int, hidden: Int
    /// σ·S correctly rounded to T.
    public let context: Buffer<T>
    /// S, the exact integer sums.
    public let sums: UnsafeMutablePointer<Int64>
    /// Every partial sum of the code GEMM is an integer T holds exactly, so any BLAS order is exact.
    let gemmIsExact: Bool
    /// σ = mantissa·2^exponent, the mantissa as a 128-bit (hi, lo) pair.
    let sigmaHi: UInt64, sigmaLo: UInt64, sigmaExponent: Int
    /// σ in Double: exact for Float steps (two 24-bit mantissas); nil for Double.
    let sigmaInDouble: Double?

    public var headDim: Int { hidden / heads }
    public var count: Int { batch * seq * hidden }

    /// Probabilities [B, heads, T, T] and values [B·T, H], each with the tensor its quantizer saw;
    /// nil when either is not a lattice (see `LatticeOperand.recover`) or σ is outside T's normal range.
    public convenience init?(probs: (input: Buffer<T>, quantized: Buffer<T>), values: (input: Buffer<T>, quantized: Buffer<T>),
                             quant: ActivationQuantization<T>, batch: Int, heads: Int, seq: Int, hidden: Int) {
        guard ExactLattice.enabled, let p = LatticeOperand.recover(.probs, input: probs.input, quantized: probs.quantized, quant: quant),
              let v = LatticeOperand.recover(.value, input: values.input, quantized: values.quantized, quant: quant)
        else { return nil }
        self.init(probs: p, values: v, batch: batch, heads: heads, seq: seq, hidden: hidden)
    }

    public init?(probs: LatticeOperand<T>, values: LatticeOperand<T>, batch: Int, heads: Int, seq: Int, hidden: Int) {
        precondition(probs.codes.count == batch * heads * seq * seq && values.codes.count == batch * seq * hidden
                     && hidden % heads == 0, "LatticeProduct: operand sizes do not match the dimensions")
        // σ·S must stay normal and finite for the scaling in `rounded` to be exact.
        let sigma = Double(probs.step) * Double(values.step)
        let largest = sigma * Double(probs.qmax) * Double(values.qmax) * Double(seq)
        guard sigma >= 4 * Double(T.leastNormalMagnitude), largest < Double(T.greatestFiniteMagnitude) / 4 else { return nil }
        self.probs = probs; self.values = values
        self.batch = batch; self.heads = heads; self.seq = seq; self.hidden = hidden
        context = Buffer<T>(uninitialized: batch * seq * hidden)
        sums = .allocate(capacity: batch * seq * hidden)
        let bound = Double(probs.qmax) * Double(values.qmax) * Double(seq)
        gemmIsExact = bound <= Double(1 << (T.significandBitCount + 1))
        let (mp, ep) = Self.integerForm(probs.step), (mv, ev) = Self.integerForm(values.step)
        (sigmaHi, sigmaLo) = mp.multipliedFullWidth(by: mv)
        sigmaExponent = ep + ev
        sigmaInDouble = T.self == Float.self ? Double(probs.step) * Double(values.step) : nil
    }

    deinit { sums.deallocate() }

    /// S and σ·S of one (batch, head) block. Touches only that block: safe to call concurrently for
    /// different blocks.
    public func multiply(batch b: Int, head: Int) {
        let hd = headDim, tt = seq, h = hidden
        let pOff = (b * heads + head) * tt * tt, vOff = b * tt * h + head * hd
        let block = Buffer<T>(uninitialized: tt * hd)
        if gemmIsExact {
            T.gemm(transA: false, transB: false, m: tt, n: hd, k: tt, alpha: 1, a: probs.codes.p + pOff, lda: tt,
                   b: values.codes.p + vOff, ldb: h, beta: 0, c: block.p, ldc: hd)
        }
        for i in 0..<tt {
            for j in 0..<hd {
                let s: Int64
                if gemmIsExact {
                    s = Self.integral(block.p[i * hd + j])
                } else {  // codes wider than the float mantissa can sum: plain integer loop
                    var acc: Int64 = 0
                    for l in 0..<tt { acc += Int64(probs.codes.p[pOff + i * tt + l]) * Int64(values.codes.p[vOff + l * h + j]) }
                    s = acc
                }
                let idx = vOff + i * h + j
                sums[idx] = s
                context.p[idx] = roundedQuickly(s)
            }
        }
    }

    /// max |S| over the whole tensor (after every block is multiplied).
    public var maxAbsSum: Int64 {
        var m: Int64 = 0
        for i in 0..<count { m = max(m, abs(sums[i])) }
        return m
    }

    /// `rounded(s)`, for Float by way of Double: σ·s rounded to Double and then to Float is the
    /// correctly rounded Float unless the Double lands exactly halfway between two Floats (29 low
    /// bits 1000…0), where the first rounding may have made the tie; those take the exact route.
    @inline(__always) public func roundedQuickly(_ s: Int64) -> T {
        guard let sigma = sigmaInDouble, s.magnitude < 1 << 53 else { return rounded(s) }
        let d = sigma * Double(s)
        if d.bitPattern & ((1 << 29) - 1) == 1 << 28 { return rounded(s) }
        return unsafeBitCast(Float(d), to: T.self)
    }

    /// σ·s correctly rounded to T (half to even). The 192-bit product σ_mantissa·|s| is cut to its top
    /// 64 bits with the lower ones folded into a sticky bit; T(UInt64) then rounds once, correctly,
    /// since T keeps at most 53 of the 64 bits; the power-of-two scaling is exact (σ·s normal).
    @inline(__always) public func rounded(_ s: Int64) -> T {
        if s == 0 { return 0 }
        let a = s.magnitude
        let (h0, w0) = sigmaLo.multipliedFullWidth(by: a)
        let (h1, l1) = sigmaHi.multipliedFullWidth(by: a)
        let (w1, carry) = h0.addingReportingOverflow(l1)
        let w2 = h1 &+ (carry ? 1 : 0)
        let top: UInt64, shift: Int
        if w2 != 0 {
            let z = w2.leadingZeroBitCount
            top = (w2 << z) | (w1 >> (64 - z)) | (((w1 << z) | w0) != 0 ? 1 : 0)
            shift = 128 - z
        } else if w1 != 0 {
            let z = w1.leadingZeroBitCount
            top = (w1 << z) | (w0 >> (64 - z)) | ((w0 << z) != 0 ? 1 : 0)
            shift = 64 - z
        } else {
            top = w0; shift = 0
        }
        let r = Self.scaled(top, byPowerOfTwo: sigmaExponent + shift)
        return s < 0 ? -r : r
    }

    // Concrete conversions: the generic initializers, even specialized, go through the standard
    // library's slow generic paths (they were a sixth of a landscape point's time).

    /// An integer-valued float (a sum of the code GEMM) as Int64.
    @inline(__always) static func integral(_ x: T) -> Int64 {
        if T.self == Float.self { return Int64(unsafeBitCast(x, to: Float.self)) }
        if T.self == Double.self { return Int64(unsafeBitCast(x, to: Double.self)) }
        return Int64(x)
    }

    /// top·2^e with top converted once, correctly rounded; the caller guarantees a normal result
    /// (σ·S is normal), so the scaling is an exact exponent shift of the bit pattern.
    @inline(__always) static func scaled(_ top: UInt64, byPowerOfTwo e: Int) -> T {
        if T.self == Float.self {
            let v = Float(top)
            return unsafeBitCast(Float(bitPattern: v.bitPattern &+ UInt32(truncatingIfNeeded: e << 23)), to: T.self)
        }
        if T.self == Double.self {
            let v = Double(top)
            return unsafeBitCast(Double(bitPattern: v.bitPattern &+ UInt64(truncatingIfNeeded: e << 52)), to: T.self)
        }
        return T(sign: .plus, exponent: T.Exponent(e), significand: T(top))
    }

    /// A positive normal float as mantissa·2^exponent with an integer mantissa.
    static func integerForm(_ x: T) -> (UInt64, Int) {
        let m = UInt64(truncatingIfNeeded: x.significandBitPattern) | (1 << UInt64(T.significandBitCount))
        return (m, Int(x.exponent) - T.significandBitCount)
    }
}
