// Directions span the 2-D slice of parameter space a landscape is drawn on. Random Gaussian
// directions are meaningless at the raw scale of a network (a row with small weights would be
// swamped), so each one is rescaled per filter to the size of the weights it perturbs; that is
// what makes plots of different models (KD vs TI) comparable on one axis.
import Foundation
import TIData
import TILinalg

/// How a direction is rescaled against the weights θ.
public enum DirectionNormalization: String, Codable, Sendable, CaseIterable {
    /// Each row (filter) of a matrix/embedding gets the norm of the same row of θ.
    case filter
    /// Each tensor as a whole gets the norm of the same tensor of θ.
    case layer
    /// Left as drawn (or as given).
    case none
}

/// Which tensors the direction leaves at zero.
public enum DirectionIgnore: String, Codable, Sendable, CaseIterable {
    /// Biases, LayerNorm gain/bias and quantizer scales stay fixed (the common "biasbn" choice).
    case biasbn
    /// Every tensor is perturbed.
    case none
}

/// What happens to 1-D tensors when they are included (`ignore: .none`); they have no rows,
/// so row-wise filter normalization does not apply to them.
public enum OneDimensionalRule: String, Codable, Sendable, CaseIterable {
    /// Rescale the whole vector to the norm of the weight vector (filter norm applied to one "row").
    case vectorNorm
    /// Use the weights themselves as the direction for that tensor (radial move along θ).
    case copyWeights
}

public struct DirectionOptions: Codable, Sendable, Equatable {
    public var normalization: DirectionNormalization
    public var ignore: DirectionIgnore
    public var oneDimensional: OneDimensionalRule

    public init(normalization: DirectionNormalization = .filter, ignore: DirectionIgnore = .biasbn,
                oneDimensional: OneDimensionalRule = .vectorNorm) {
        self.normalization = normalization
        self.ignore = ignore
        self.oneDimensional = oneDimensional
    }

    /// Short label for metadata, e.g. "filter/biasbn" or "filter/none/vectorNorm".
    public var label: String {
        ignore == .biasbn ? "\(normalization.rawValue)/biasbn"
            : "\(normalization.rawValue)/none/\(oneDimensional.rawValue)"
    }
}

/// One or two direction vectors in the flat parameter layout.
public struct LandscapeDirections: Sendable, Equatable {
    public let vectors: [[Float]]
    public let options: DirectionOptions
    /// Seed the vectors were drawn from; nil when they were given (e.g. Hessian eigenvectors).
    public let seed: UInt64?
    public let layoutFingerprint: String

    /// Fingerprint of the vectors' bits (and how many there are); goes into the landscape config,
    /// so a grid run can never be resumed against different directions. Stored, not computed on
    /// demand: hashing BERT-sized vectors byte by byte is too slow to repeat casually.
    public let hash: String

    public init(vectors: [[Float]], options: DirectionOptions, seed: UInt64?, layoutFingerprint: String) {
        precondition(!vectors.isEmpty && vectors.count <= 2, "LandscapeDirections: need 1 or 2 vectors")
        precondition(vectors.allSatisfy { $0.count == vectors[0].count }, "LandscapeDirections: length mismatch")
        self.vectors = vectors
        self.options = options
        self.seed = seed
        self.layoutFingerprint = layoutFingerprint
        var h = StableHash()
        h.add("directions")
        h.add(String(vectors.count))
        h.add(String(vectors[0].count))
        for v in vectors { h.add(v) }
        self.hash = h.hex
    }

    public var count: Int { vectors.count }
    public var dimension: Int { vectors[0].count }

    /// Two (or `count`) seeded Gaussian directions, normalized against `weights`.
    /// Direction k draws from the stream `seed.derived("direction-k")`, so direction 0 is the same
    /// whether one or two are requested.
    public static func random(weights: [Float], layout: ParameterLayout, seed: UInt64, count: Int = 2,
                              options: DirectionOptions = DirectionOptions()) -> LandscapeDirections {
        precondition(weights.count == layout.count, "directions: weights have \(weights.count) entries, layout \(layout.count)")
        let base = SeededRandom(seed: seed)
        let vectors: [[Float]] = (0..<count).map { k in
            var rng = base.derived("direction-\(k)")
            let raw: [Float] = rng.normalVector(layout.count)
            return DirectionNormalizer(layout: layout, options: options).normalize(raw, weights: weights)
        }
        return LandscapeDirections(vectors: vectors, options: options, seed: seed, layoutFingerprint: layout.fingerprint)
    }

    /// `--dir-file`: loads the directions stored at `url` if the file exists (checking layout, seed,
    /// count and options agree with the request), otherwise draws them and saves them there. Every
    /// shard of a grid can call this; concurrent creators write identical bytes atomically.
    public static func loadOrCreate(at url: URL, weights: [Float], layout: ParameterLayout, seed: UInt64,
                                    count: Int = 2, options: DirectionOptions = DirectionOptions()) throws -> LandscapeDirections {
        if FileManager.default.fileExists(atPath: url.path) {
            let d = try DirectionFile.read(url, layout: layout)
            guard d.count == count, d.options == options, d.seed == seed else {
                throw DataError.mismatch(file: url.path, reason: "holds \(d.count) direction(s), seed \(d.seed.map(String.init) ?? "none"), \(d.options.label); requested \(count), seed \(seed), \(options.label)")
            }
            return d
        }
        let d = random(weights: weights, layout: layout, seed: seed, count: count, options: options)
        try DirectionFile.write(d, to: url)
        return d
    }

    /// Directions from given vectors (e.g. top Hessian eigenvectors). With `normalization: nil` they
    /// are used exactly as given; otherwise they are normalized like random directions (e.g.
    /// `DirectionOptions()` for filter/biasbn, so eigenvector and random landscapes share a scale).
    /// Double vectors (as Lanczos/LAPACK return them) are rounded to Float once, before normalizing.
    public static func fromVectors<T: BLASScalar>(_ vectors: [[T]], weights: [Float], layout: ParameterLayout,
                                                  normalization: DirectionOptions? = nil) -> LandscapeDirections {
        precondition(vectors.allSatisfy { $0.count == layout.count }, "directions: vector length differs from layout")
        precondition(weights.count == layout.count, "directions: weights have \(weights.count) entries, layout \(layout.count)")
        let floats: [[Float]] = vectors.map { v in v.map { Float($0) } }
        guard let options = normalization else {
            return LandscapeDirections(vectors: floats, options: DirectionOptions(normalization: .none, ignore: .none),
                                       seed: nil, layoutFingerprint: layout.fingerprint)
        }
        let normalizer = DirectionNormalizer(layout: layout, options: options)
        return LandscapeDirections(vectors: floats.map { normalizer.normalize($0, weights: weights) }, options: options,
                                   seed: nil, layoutFingerprint: layout.fingerprint)
    }
}

/// Applies DirectionOptions to one raw vector, tensor by tensor.
public struct DirectionNormalizer: Sendable {
    public let layout: ParameterLayout
    public let options: DirectionOptions

    public init(layout: ParameterLayout, options: DirectionOptions) {
        self.layout = layout
        self.options = options
    }

    public func normalize(_ raw: [Float], weights: [Float]) -> [Float] {
        precondition(raw.count == layout.count && weights.count == layout.count, "normalize: length mismatch")
        var d = raw
        for slot in layout.slots {
            if slot.role.isOneDimensional {
                switch (options.ignore, options.oneDimensional) {
                case (.biasbn, _):
                    for i in slot.range { d[i] = 0 }
                case (.none, .copyWeights):
                    for i in slot.range { d[i] = weights[i] }
                case (.none, .vectorNorm):
                    if options.normalization != .none { rescale(&d, weights, slot.range) }
                }
                continue
            }
            switch options.normalization {
            case .filter:
                let len = slot.rowLength
                for r in 0..<slot.rows {
                    let start = slot.offset + r * len
                    rescale(&d, weights, start..<(start + len))
                }
            case .layer:
                rescale(&d, weights, slot.range)
            case .none:
                break
            }
        }
        return d
    }

    /// Scales d[range] so its norm equals ‖θ[range]‖. Norms are accumulated in Double so wide rows
    /// (an embedding row of 768, a 30k-row vocabulary) keep their norm to Float precision.
    /// A zero weight row, or a zero direction row, gives a zero direction row.
    private func rescale(_ d: inout [Float], _ w: [Float], _ range: Range<Int>) {
        var dd = 0.0, ww = 0.0
        for i in range {
            dd += Double(d[i]) * Double(d[i])
            ww += Double(w[i]) * Double(w[i])
        }
        let scale = (dd > 0 && ww > 0) ? (ww / dd).squareRoot() : 0
        for i in range { d[i] = Float(Double(d[i]) * scale) }
    }
}
