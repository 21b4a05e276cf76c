// What quant-report shows: for every weight tensor and every activation site, its range, bits and
// signal-to-quantization-noise ratio on calibration batches, plus per-hidden-dimension activation
// ranges (the structured outliers of the FFN residual sum that motivate PEG).
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData


public struct QuantSiteReport: Codable, Sendable {
    public var kind: String        // "weight" or "activation"
    public var name: String        // parameter name, or "site.layer"
    public var quantizer: String   // label, "none" when not quantized
    public var bits: Int?
    public var lo: Double, hi: Double
    /// 10·log10(Σx²/Σ(x − x̂)²); +∞ when not quantized.
    public var sqnrDB: Double
    public var count: Int
}

public struct DimensionRange: Codable, Sendable {
    public var site: String
    public var dim: Int
    public var lo: Double, hi: Double
}

public enum QuantReport {
    static func sqnr(_ signal: Double, _ noise: Double) -> Double { noise > 0 ? 10 * log10(signal / noise) : .infinity }

    static func bits(_ q: WeightQuantizer) -> Int? {
        switch q {
        case .ternary: return nil
        case .uniform(let b, _, _), .symmetricMSE(let b, _), .lsq(let b): return b
        }
    }

    /// Weight statistics from θ and θ̂, activation statistics from one evaluation-mode forward per batch.
    public static func measure(model: BertModel, parameters θ: [Float], quantization: QuantConfig, batches: [Batch])
        -> (sites: [QuantSiteReport], dims: [DimensionRange]) {
        var rows: [QuantSiteReport] = []
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: quantization)
        for slot in model.layout.slots {
            guard slot.weightSite != nil else { continue }
            let w = θ[slot.range].map(Double.init), wq = q.effective[slot.range].map(Double.init)
            let noise = zip(w, wq).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            let wqz = quantization.weightQuantizer(for: slot)
            rows.append(QuantSiteReport(kind: "weight", name: slot.name, quantizer: wqz?.label ?? "none", bits: wqz.flatMap(bits),
                                        lo: w.min() ?? 0, hi: w.max() ?? 0, sqnrDB: sqnr(w.map { $0 * $0 }.reduce(0, +), noise),
                                        count: slot.count))
        }
        let inspector = ActivationInspector()
        for b in batches {
            _ = model.forward(effective: q.effective, batch: b, options: ForwardOptions<Float>(quantization: quantization, inspector: inspector))
        }
        var dims: [DimensionRange] = []
        for key in inspector.order {
            let s = inspector.sites[key]!
            rows.append(QuantSiteReport(kind: "activation", name: key, quantizer: s.quantizer?.label ?? "none", bits: s.quantizer?.bits,
                                        lo: s.lo, hi: s.hi, sqnrDB: sqnr(s.signal, s.noise), count: s.count))
            if let lo = s.dimLo, let hi = s.dimHi {
                for j in lo.indices { dims.append(DimensionRange(site: key, dim: j, lo: lo[j], hi: hi[j])) }
            }
        }
        return (rows, dims)
    }

    /// `quant-sites.csv` (kind,name,quantizer,bits,lo,hi,sqnr_db,count) and `quant-dims.csv`
    /// (site,dim,lo,hi,range) for gnuplot.
    public static func write(sites: [QuantSiteReport], dims: [DimensionRange], to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var a = "kind,name,quantizer,bits,lo,hi,sqnr_db,count\n"
        for r in sites {
            // Labels such as "asym8(peg,ngp6)" hold commas; gnuplot's CSV reading splits quoted fields on
            // them too, so they become ';' and every row keeps its eight columns for plots/quant-ranges.gp.
            let quantizer = r.quantizer.replacingOccurrences(of: ",", with: ";")
            a += [r.kind, r.name, "\"\(quantizer)\"", r.bits.map(String.init) ?? "", Fmt.g(r.lo), Fmt.g(r.hi),
                  r.sqnrDB.isInfinite ? "inf" : Fmt.g(r.sqnrDB), String(r.count)].joined(separator: ",") + "\n"
        }
        try AtomicFile.write(Data(a.utf8), to: dir.appendingPathComponent("quant-sites.csv"))
        var b = "site,dim,lo,hi,range\n"
        for d in dims { b += "\(d.site),\(d.dim),\(Fmt.g(d.lo)),\(Fmt.g(d.hi)),\(Fmt.g(d.hi - d.lo))\n" }
        try AtomicFile.write(Data(b.utf8), to: dir.appendingPathComponent("quant-dims.csv"))
    }
}
