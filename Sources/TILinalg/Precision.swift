// The floating-point precision a numeric study runs in. The raw values are what result files record.

public enum Precision: String, Codable, CaseIterable, Sendable {
    case f32
    case f64

    /// The scalar type computations in this precision use.
    public var scalarType: any BLASScalar.Type {
        switch self {
        case .f32: return Float.self
        case .f64: return Double.self
        }
    }
}
