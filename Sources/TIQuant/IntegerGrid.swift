// The integer grid of an n-bit uniform quantizer: which integer codes it may take and how a real range
// maps onto them. Every quantizer takes its grid from here, so the three conventions of the seeds
// cannot drift apart:
//   symmetric  codes −(2^(b−1) − 1) … 2^(b−1) − 1, step r/(2^(b−1) − 1) over ±r (TernaryBERT, Q8BERT,
//              PTQ weights, AdaRound, the int8 export): zero is a code and the grid is mirror-symmetric;
//   signed     codes −2^(b−1) … 2^(b−1) − 1, i.e. Q_N = 2^(b−1) below zero and Q_P = 2^(b−1) − 1 above
//              (LSQ weights, two's complement); the step is learned, started at r/Q_P;
//   unsigned   codes 0 … 2^b − 1 with an integer zero point (asymmetric activations: PTQ, PEG, LSQ),
//              step (hi − lo)/(2^b − 1) over [lo, hi].
// The grid covers one quantization group; per tensor or per row is the quantizer's choice.
//
// The real-valued maps are written exactly as the quantizers computed them before (Q/r as the
// reciprocal step, r/Q as the step, −lo/s rounded half to even as the zero point), so using them
// changes no result bit. Hot loops take `codeBounds` once rather than calling `clamp` per entry.

/// The codes qmin…qmax of an n-bit quantizer and its range-to-step arithmetic.
public struct IntegerGrid: Equatable, Sendable {
    public enum Kind: String, Sendable { case symmetric, signed, unsigned }

    public let bits: Int
    public let kind: Kind
    /// The lowest code.
    public let qmin: Int
    /// The highest code.
    public let qmax: Int

    public init(bits: Int, kind: Kind) {
        self.bits = bits
        self.kind = kind
        let half = 1 << (bits - 1)
        switch kind {
        case .symmetric: (qmin, qmax) = (-(half - 1), half - 1)
        case .signed: (qmin, qmax) = (-half, half - 1)
        case .unsigned: (qmin, qmax) = (0, (1 << bits) - 1)
        }
    }

    /// ±(2^(b−1) − 1): TernaryBERT's and Q8BERT's symmetric grid.
    public static func symmetric(bits: Int) -> IntegerGrid { IntegerGrid(bits: bits, kind: .symmetric) }
    /// [−2^(b−1), 2^(b−1) − 1]: LSQ's weight grid.
    public static func signed(bits: Int) -> IntegerGrid { IntegerGrid(bits: bits, kind: .signed) }
    /// [0, 2^b − 1]: the asymmetric grid with a zero point.
    public static func unsigned(bits: Int) -> IntegerGrid { IntegerGrid(bits: bits, kind: .unsigned) }

    /// LSQ's Q_N: codes below zero (0 for the unsigned grid, whose zero point shifts it instead).
    public var qn: Int { -qmin }
    /// LSQ's Q_P: codes above zero; for the unsigned grid its whole extent 2^b − 1.
    public var qp: Int { qmax }
    /// Steps from the lowest code to the highest (2^b − 1 for the unsigned grid).
    public var span: Int { qmax - qmin }

    /// qmin and qmax as values of T, for loops that clamp or test codes.
    @inlinable public func codeBounds<T: BinaryFloatingPoint>(as _: T.Type = T.self) -> (lo: T, hi: T) { (T(qmin), T(qmax)) }

    /// The reciprocal step Q_P/r of the grid over ±r: code = round(x·scale).
    @inlinable public func scale<T: BinaryFloatingPoint>(range r: T) -> T { T(qmax) / r }

    /// The step r/Q_P of the grid over ±r.
    @inlinable public func step<T: BinaryFloatingPoint>(range r: T) -> T { r / T(qmax) }

    /// The step that spreads an interval of this width over the whole grid: width/(qmax − qmin).
    @inlinable public func step<T: BinaryFloatingPoint>(width w: T) -> T { w / T(span) }

    /// The step that spreads [lo, hi] over the whole grid: (hi − lo)/(qmax − qmin).
    @inlinable public func step<T: BinaryFloatingPoint>(lo: T, hi: T) -> T { step(width: hi - lo) }

    /// The zero point round(−lo/s) (half to even): the code of 0 when the lowest code stands for lo.
    /// Not clamped: callers that can see lo > 0 or a tiny step clamp it (`clamp`).
    @inlinable public func zeroPoint<T: BinaryFloatingPoint>(lo: T, step s: T) -> T { (-lo / s).rounded(.toNearestOrEven) }

    /// A code limited to [qmin, qmax].
    @inlinable public func clamp<T: BinaryFloatingPoint>(_ code: T) -> T { min(max(code, T(qmin)), T(qmax)) }

    /// True when a code lies on the grid's extent (the clamp would leave it alone).
    @inlinable public func contains<T: BinaryFloatingPoint>(_ code: T) -> Bool { code >= T(qmin) && code <= T(qmax) }
}
