// One flat parameter buffer, named views into it (as llm.c does). Gradients, optimizer moments,
// directions, Hessian-vector products and landscape points all use the same layout, so analysis
// code handles plain vectors and never touches layer internals.

/// What role a tensor plays; filter normalization, weight decay and quantization all key on it.
public enum ParameterRole: String, Codable, Sendable {
    case matrix          // a Linear weight [out, in]: rows are output units ("filters")
    case embedding       // an embedding table [vocab, hidden]: rows are token vectors
    case bias            // 1-D bias
    case layerNormGain   // LayerNorm weight (gamma)
    case layerNormBias   // LayerNorm bias (beta)
    case scale           // learned quantizer scales and other 1-D extras

    /// True for the tensors the loss-landscape "biasbn" rule and BertAdam's decay exclusion treat as 1-D.
    public var isOneDimensional: Bool {
        switch self {
        case .matrix, .embedding: return false
        case .bias, .layerNormGain, .layerNormBias, .scale: return true
        }
    }
}

/// What a learned quantizer parameter (role `.scale`, e.g. an LSQ step) belongs to.
public enum ScaleTarget: Codable, Sendable, Hashable {
    /// The step of another tensor of the same layout, by name.
    case slot(String)
    /// The step of a tensor computed in the forward pass, by the key its quantizer uses ("ffnResidual.2").
    case activation(String)
    /// The zero point (offset, in grid codes) of such a tensor's asymmetric grid, by the same key.
    case activationZeroPoint(String)

    /// True for a step (kept positive); false for a zero point.
    public var isStep: Bool {
        if case .activationZeroPoint = self { return false }
        return true
    }
}

public struct ParameterSlot: Codable, Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let role: ParameterRole
    public let offset: Int
    /// The quantization site of the tensor, set by whoever builds the layout (TIQuant's `WeightSite`
    /// raw value for BERT); nil where no weight quantizer applies (biases, LayerNorm, scales). The
    /// layout only carries it, so that quantizers read a tensor's site instead of parsing its name.
    public let site: String?
    /// For a learned scale: the tensor it scales.
    public let scales: ScaleTarget?
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
    /// Rows for filter normalization: first dimension for matrices/embeddings, 1 for vectors.
    public var rows: Int { shape.count >= 2 ? shape[0] : 1 }
    public var rowLength: Int { count / max(rows, 1) }
}

/// Ordered (name, shape, role) table laid out back to back with no gaps.
public struct ParameterLayout: Codable, Sendable, Equatable {
    public private(set) var slots: [ParameterSlot] = []
    public private(set) var count: Int = 0
    private var index: [String: Int] = [:]
    private var scaleIndex: [ScaleTarget: Int] = [:]

    public init() {}

    public init(_ entries: [(String, [Int], ParameterRole)]) {
        for (n, s, r) in entries { append(n, shape: s, role: r) }
    }

    @discardableResult
    public mutating func append(_ name: String, shape: [Int], role: ParameterRole, site: String? = nil,
                                scales: ScaleTarget? = nil) -> ParameterSlot {
        precondition(index[name] == nil, "ParameterLayout: duplicate name \(name)")
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "ParameterLayout: bad shape \(shape) for \(name)")
        if let target = scales {
            precondition(scaleIndex[target] == nil, "ParameterLayout: two scales of \(target)")
            if case .slot(let scaled) = target { precondition(index[scaled] != nil, "ParameterLayout: \(name) scales unknown \(scaled)") }
            scaleIndex[target] = slots.count
        }
        let slot = ParameterSlot(name: name, shape: shape, role: role, offset: count, site: site, scales: scales)
        index[name] = slots.count
        slots.append(slot)
        count += slot.count
        return slot
    }

    public subscript(name: String) -> ParameterSlot? { index[name].map { slots[$0] } }

    /// The learned scale of a tensor (the slot whose `scales` is `target`), if the layout has one.
    public func scale(of target: ScaleTarget) -> ParameterSlot? { scaleIndex[target].map { slots[$0] } }

    public func slot(_ name: String) -> ParameterSlot {
        guard let s = self[name] else { preconditionFailure("ParameterLayout: no parameter named \(name)") }
        return s
    }

    public var names: [String] { slots.map(\.name) }

    /// Slots whose names match a simple pattern: `*` wildcards, otherwise substring match.
    public func slots(matching pattern: String) -> [ParameterSlot] {
        slots.filter { NamePattern(pattern).matches($0.name) }
    }

    /// A 0/1 mask over the flat buffer selecting the given slots.
    public func mask<T: BLASScalar>(for selected: [ParameterSlot]) -> [T] {
        var m = [T](repeating: 0, count: count)
        for s in selected { for i in s.range { m[i] = 1 } }
        return m
    }

    /// Stable fingerprint of names, shapes and roles (goes into run metadata and config hashes). Sites
    /// and scale links are left out: they follow from the names, and run hashes made before the layout
    /// carried them stay valid.
    public var fingerprint: String {
        var h = StableHash()
        for s in slots { h.add(s.name); h.add(s.shape.map(String.init).joined(separator: "x")); h.add(s.role.rawValue) }
        return h.hex
    }
}

/// `*` matches any run of characters; a pattern without `*` matches as a substring.
public struct NamePattern: Sendable {
    public let pattern: String
    public init(_ p: String) { pattern = p }
    public func matches(_ name: String) -> Bool {
        guard pattern.contains("*") else { return name.contains(pattern) }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(name)
        for (i, part) in parts.enumerated() {
            if part.isEmpty { continue }
            if i == 0 {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 {
                return rest.hasSuffix(part)
            } else {
                guard let r = rest.range(of: part) else { return false }
                rest = rest[r.upperBound...]
            }
        }
        return true
    }
}

/// FNV-1a 64-bit over bytes; deterministic across runs and platforms (Swift's Hasher is not).
public struct StableHash: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    public init() {}
    public mutating func add(bytes: UnsafeRawBufferPointer) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    }
    public mutating func add(_ s: String) {
        var s = s + "\u{1F}"
        s.withUTF8 { add(bytes: UnsafeRawBufferPointer($0)) }
    }
    public mutating func add<T: BLASScalar>(_ values: [T]) {
        values.withUnsafeBytes { add(bytes: $0) }
    }
    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
