// AdaRound over a whole BERT: every Linear weight (Q, K, V, O, FFN1, FFN2, pooler, classifier) is
// rounded from the calibration inputs it sees; embeddings, biases and LayerNorms stay as they are.
// Without asymmetric reconstruction all layers read full-precision inputs and are independent. With
// it (the seed's default `--adaround-asym`), layers are rounded in forward order, each from the inputs
// of the network in which the layers before it are already rounded (and the later ones still
// nearest-rounded, which cannot reach its input), against the full-precision output.
import TILinalg
import TIQuant
import TIModel
import TIData

extension AdaRound {
    /// Linears that read the same activation, in forward order.
    struct LinearGroup {
        let weights: [String]
        let cols: Int
        /// The shared input [rows, cols] in a trace of the batch.
        let input: (ForwardTrace<Float>, Batch) -> (x: Buffer<Float>, rows: Int)
    }

    static func linearGroups(_ c: BertConfig) -> [LinearGroup] {
        let h = c.hiddenSize
        var groups: [LinearGroup] = []
        for l in 0..<c.numLayers {
            let p = BertNames.layer(l)
            groups.append(LinearGroup(weights: ["query", "key", "value"].map { "\(p).attention.self.\($0).weight" }, cols: h) { tr, _ in
                (tr.layers[l].attention.input, tr.dims.rows)
            })
            groups.append(LinearGroup(weights: ["\(p).attention.output.dense.weight"], cols: h) { tr, _ in (tr.layers[l].attention.context, tr.dims.rows) })
            groups.append(LinearGroup(weights: ["\(p).intermediate.dense.weight"], cols: h) { tr, _ in (tr.layers[l].attention.blockOutput, tr.dims.rows) })
            groups.append(LinearGroup(weights: ["\(p).output.dense.weight"], cols: c.intermediateSize) { tr, _ in
                (tr.layers[l].feedForward.activated, tr.dims.rows)
            })
        }
        groups.append(LinearGroup(weights: ["bert.pooler.dense.weight"], cols: h) { tr, b in (tr.head.cls, b.size) })
        groups.append(LinearGroup(weights: ["classifier.weight"], cols: h) { tr, b in (tr.head.pooled, b.size) })
        return groups
    }

    /// Each group's input over all batches, [rows, cols] row-major, from full-precision forwards at θ.
    static func inputs(of groups: [LinearGroup], model: BertModel, parameters θ: [Float], batches: [Batch]) -> [(x: [Double], rows: Int)] {
        var xs = groups.map { _ in (x: [Double](), rows: 0) }
        for b in batches {
            let tr = model.forward(effective: θ, batch: b, options: ForwardOptions<Float>())
            for (k, g) in groups.enumerated() {
                let (x, rows) = g.input(tr, b)
                xs[k].x += (0..<(rows * g.cols)).map { Double(x.p[$0]) }
                xs[k].rows += rows
            }
        }
        return xs
    }

    /// AᵀB for row-major [rows, cols] A and B.
    public static func transposedProduct(_ a: [Double], _ b: [Double], rows: Int, cols: Int) -> [Double] {
        var c = [Double](repeating: 0, count: cols * cols)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Double.gemm(transA: true, transB: false, m: cols, n: cols, k: rows, alpha: 1, a: ap.baseAddress!, lda: cols,
                        b: bp.baseAddress!, ldb: cols, beta: 0, c: cp.baseAddress!, ldc: cols)
        } } }
        return c
    }

    /// Rounds the weights of one group from its inputs (in parallel: the weights are independent).
    static func round(_ g: LinearGroup, inputs: AdaRoundInputs, model: BertModel, θ: [Float], options: AdaRoundOptions, into out: inout [Float]) {
        let results = Parallel.map(g.weights.count) { i -> [Double] in
            let slot = model.layout.slot(g.weights[i])
            return roundLayer(θ[slot.range].map(Double.init), cols: g.cols, inputs: inputs, options: options).weight
        }
        for (name, r) in zip(g.weights, results) {
            for (i, v) in zip(model.layout.slot(name).range, r) { out[i] = Float(v) }
        }
    }

    /// `events` hear of every layer group rounded (10 000 iterations per layer by default: minutes each).
    public static func apply(model: BertModel, parameters θ: [Float], batches: [Batch], options: AdaRoundOptions,
                             events: RunEvents = .silent) -> [Float] {
        let groups = linearGroups(model.config)
        let progress = ProgressReporter("adaround layer groups", total: groups.count, events: events)
        let fp = inputs(of: groups, model: model, parameters: θ, batches: batches)
        var out = θ
        guard options.asymmetric else {
            for (k, (g, x)) in zip(groups, fp).enumerated() {
                let gram = transposedProduct(x.x, x.x, rows: x.rows, cols: g.cols)
                round(g, inputs: AdaRoundInputs(gram: gram, rows: x.rows), model: model, θ: θ, options: options, into: &out)
                progress.update(k + 1)
            }
            return out
        }
        // The quantized network before any layer is learned: every Linear nearest-rounded on its grid.
        for name in groups.flatMap(\.weights) {
            let slot = model.layout.slot(name), w = θ[slot.range].map(Double.init)
            for (i, v) in zip(slot.range, nearest(w, step: step(w, bits: options.bits), bits: options.bits)) { out[i] = Float(v) }
        }
        for (k, (g, x)) in zip(groups, fp).enumerated() {
            defer { progress.update(k + 1) }
            let xq = inputs(of: [g], model: model, parameters: out, batches: batches)[0]
            let q = AdaRoundInputs(gram: transposedProduct(xq.x, xq.x, rows: xq.rows, cols: g.cols),
                                   cross: transposedProduct(x.x, xq.x, rows: x.rows, cols: g.cols), rows: x.rows)
            round(g, inputs: q, model: model, θ: θ, options: options, into: &out)
        }
        return out
    }
}
