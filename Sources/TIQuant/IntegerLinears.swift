// Integer-arithmetic inference of an int8 model (Q8BERT's export): which Linear layers run as
// IntegerLinear, and the int8 codes of their inputs.
//
// The model's forward names a Linear only by its weight's place in the parameter vector, so the
// table is keyed by weight offset and bound, for one forward pass, to the base address of the vector
// that pass reads (`bound(to:)`); Linear.forward then finds its layer from the weight pointer it is
// handed. A Linear whose input site has a frozen 8-bit range gets its input as codes from the very
// quantizer the fake-quantized model runs (same values, same mask), so the two models differ only
// in the arithmetic of the products. Everything else (embeddings, LayerNorm, softmax, GELU, the
// products inside attention) stays float, as in Intel's QuantizedBert.
import TILinalg

public struct IntegerLinears: Sendable {
    /// By offset of the layer's weight in the flat parameter vector.
    public let byWeightOffset: [Int: IntegerLinear]
    /// Base address of the parameter vector of the forward pass using the table (0: unbound).
    let base: Int

    public init(byWeightOffset: [Int: IntegerLinear]) {
        self.byWeightOffset = byWeightOffset
        base = 0
    }

    private init(_ table: [Int: IntegerLinear], base: Int) { byWeightOffset = table; self.base = base }

    /// The table for a forward pass over the parameter vector starting at `parameters`.
    public func bound<T>(to parameters: UnsafePointer<T>) -> IntegerLinears {
        IntegerLinears(byWeightOffset, base: Int(bitPattern: parameters))
    }

    /// The integer layer whose weight starts at `weight` in the bound vector; nil for any other.
    public func linear(weight: UnsafePointer<Float>) -> IntegerLinear? {
        guard base != 0 else { return nil }
        let bytes = Int(bitPattern: weight) - base
        guard bytes >= 0, bytes % MemoryLayout<Float>.stride == 0 else { return nil }
        return byWeightOffset[bytes / MemoryLayout<Float>.stride]
    }
}

extension ActivationQuantization {
    /// `apply(site, x)` with the int8 codes of x̂ when this pass runs integer Linears and the site is
    /// a frozen 8-bit EMA range (Q8BERT's `.tracked` at evaluation); nil otherwise, for the caller's
    /// other routes. x̂ = code/s exactly as `apply` rounds it (s = 127/r), so code = x̂·s rounded.
    func applyWithFrozenRangeCodes(_ site: ActivationSite, _ x: Buffer<T>) -> (Buffer<T>, STEMask<T>?, Int8Lattice?)? {
        guard let linears = integerLinears, T.self == Float.self, frozen == nil, tracker == nil, inspector == nil,
              case .tracked(let bits)? = config.activations[site], bits <= 8,
              let r = config.ranges?.threshold(counter.peek(site)), r > 0, T(r).isFinite
        else { return nil }
        let (out, mask) = apply(site, x)
        let grid = IntegerGrid.symmetric(bits: bits), s = grid.scale(range: T(r))
        var codes = [Int8](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let c = (out.p[i] * s).rounded(.toNearestOrEven)
            guard c.isFinite else { return (out, mask, nil) }  // a NaN keeps the float route to the loss
            codes[i] = Int8(c)
        }
        return (out, mask, Int8Lattice(codes: codes, step: Float(grid.step(range: r)), linears: linears))
    }
}
