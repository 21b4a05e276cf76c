// `--quant-config FILE`: per-tensor weight precisions read from an allocation.json (as `tianalyze
// sensitivity` writes it, or written by hand). Only `blocks[].name`, `shape` and `precision` are read.
// The file is decoded when the command line is checked; its names and shapes are checked against the
// model's layout once the model is known, each fault as one line naming the file and the field.
import Foundation
import TILinalg
import TIData
import TICore

public struct QuantConfigFile: Sendable {
    public struct Entry: Codable, Sendable {
        public var name: String
        public var shape: [Int]
        public var precision: WeightPrecision
    }
    private struct Document: Codable { var blocks: [Entry] }

    public let path: String
    public let entries: [Entry]

    /// Reads and decodes the file (a missing field or a bad precision names the field).
    public init(path: String) throws {
        self.path = path
        entries = try InputFile.decodeJSON(Document.self, from: URL(fileURLWithPath: path), limit: 64 << 20).blocks
        guard !entries.isEmpty else { throw DataError.malformed(file: path, reason: "field 'blocks': empty; expected one entry per tensor") }
        var seen = Set<String>()
        for (i, e) in entries.enumerated() where !seen.insert(e.name).inserted {
            throw DataError.malformed(file: path, reason: "field 'blocks[\(i)].name': '\(e.name)' appears twice")
        }
    }

    /// The tensors whose precision a mixed-precision scheme may set: the weights TernaryBERT quantizes
    /// (Q, K, V, O, FFN1, FFN2, the pooler, the word embeddings).
    public static func quantizableTensors(_ layout: ParameterLayout) -> [ParameterSlot] {
        let sites = Set(QuantConfig.ternaryW8A8.weights.keys)
        return layout.slots.filter { $0.weightSite.map(sites.contains) ?? false }
    }

    /// The precisions, each name and shape checked against `layout`.
    public func precisions(for layout: ParameterLayout) throws -> WeightPrecisions {
        let allowed = Set(Self.quantizableTensors(layout).map(\.name))
        var table: [String: WeightPrecision] = [:]
        for (i, e) in entries.enumerated() {
            guard let slot = layout[e.name] else {
                throw DataError.mismatch(file: path, reason: "field 'blocks[\(i)].name': '\(e.name)' is not a parameter of this model")
            }
            guard allowed.contains(e.name) else {
                throw DataError.mismatch(file: path, reason: "field 'blocks[\(i)].name': '\(e.name)' is not a quantized weight tensor (expected a Linear weight or the word embeddings)")
            }
            guard e.shape == slot.shape else {
                throw DataError.mismatch(file: path, reason: "field 'blocks[\(i)].shape': \(e.shape) for '\(e.name)', the model's is \(slot.shape)")
            }
            table[e.name] = e.precision
        }
        return WeightPrecisions(table)
    }

    /// Refuses a scheme the precisions cannot apply to (learned steps, MSE ranges, a full-precision scheme).
    public func check(appliesTo scheme: QuantConfig, mode: QATMode) throws {
        guard !scheme.weights.isEmpty, scheme.acceptsWeightPrecisions else {
            throw OptionValueError(option: .weightPrecisions, value: path,
                                   reason: "\(mode.rawValue)'s scheme (\(scheme.name)) has no ternary or uniform weight quantizers for the precisions to replace")
        }
    }
}
