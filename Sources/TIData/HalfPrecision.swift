// Checkpoints arrive in F16/BF16; decoding must be bit-exact (every half and bfloat value is
// representable in Float) and encoding must round to nearest-even like numpy and PyTorch, so
// exported weights match what the Python side would have written. Done by hand on bit patterns
// because Swift's Float16 is not available on every platform we build on.

public enum HalfPrecision {
    /// IEEE binary16 bits to Float, exactly (subnormals, ±0, ±inf and NaN payloads preserved).
    public static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            // Subnormal (or zero): mantissa · 2^-24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// Float to IEEE binary16 bits, rounding to nearest with ties to even; overflow gives ±inf
    /// and NaN stays NaN (quiet, with the top payload bits kept).
    public static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            return mantissa == 0 ? sign | 0x7C00 : sign | 0x7E00 | UInt16(mantissa >> 13)
        }
        let e = exponent - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            // Result is subnormal: count units of 2^-24. Float subnormals (exponent 0) are far
            // below half the smallest half subnormal, so they correctly round to zero here.
            let shift = 14 - e
            if shift > 24 { return sign }
            let m = mantissa | 0x80_0000
            var h = m >> UInt32(shift)
            let rest = m & ((1 << UInt32(shift)) - 1)
            let halfway: UInt32 = 1 << UInt32(shift - 1)
            if rest > halfway || (rest == halfway && h & 1 == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = UInt32(e) << 10 | mantissa >> 13
        let rest = mantissa & 0x1FFF
        // A carry out of the mantissa bumps the exponent, and out of the top exponent gives inf.
        if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) { h += 1 }
        return sign | UInt16(h)
    }

    /// bfloat16 bits to Float: bfloat16 is the top half of a Float, so this is exact.
    public static func float(fromBFloat bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float to bfloat16 bits, round to nearest even; NaN stays a quiet NaN.
    public static func bfloat(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
