// `qat --track-oscillation`: per quantized weight tensor, after every step, the fraction of weights
// whose integer state changed, the mean oscillation frequency (OscillationCounters) and the share of
// weights near a threshold of their quantizer (WeightStates.swift) → oscillation.csv. The states
// come from the run's own weight quantizers on the student the step produced. The counters are
// saved with the run's resumable state, so a resumed run writes the file an uninterrupted one does.
import Foundation
import TILinalg
import TIData
import TIQuant

public final class OscillationTracker: QATObserver {
    public static let file = "oscillation.csv"
    public static let stateFile = "oscillation-state.safetensors"
    public static let header = ["step", "phase", "tensor", "changed_fraction", "oscillation_frequency", "near_threshold_share"]
    /// Default ε: ternary within 10 % of Δ, n-bit within a tenth of a step of a rounding midpoint.
    public static let defaultEpsilon = 0.1

    public let momentum: Double
    public let epsilon: Double
    struct Tensor {
        let slot: ParameterSlot
        let quantizer: WeightQuantizer
        let stepIndex: Int?   // LSQ's learned step in the parameter buffer
        var counters: OscillationCounters
    }
    var tensors: [Tensor] = []
    var log: CSVLog?
    var dir: URL?

    public init(momentum: Double = OscillationCounters.defaultMomentum, epsilon: Double = defaultEpsilon) {
        self.momentum = momentum; self.epsilon = epsilon
    }

    public func open(_ context: QATObserverContext, student: StudentState, quantization: QuantConfig) throws {
        guard context.communicator.isRoot else { return }  // no collective needed: rank 0 alone measures
        dir = context.dir
        let layout = student.model.layout
        tensors = layout.slots.compactMap { slot in
            guard let site = slot.weightSite, let q = quantization.weights[site] else { return nil }
            let step = layout.scale(of: .slot(slot.name))?.offset
            return Tensor(slot: slot, quantizer: q, stepIndex: step, counters: OscillationCounters(codes: [], momentum: momentum))
        }
        let states = measure(student.parameters)
        let saved = try context.resumedAt.flatMap { try readState(resumedAt: $0) }
        for i in tensors.indices { tensors[i].counters = saved?[i] ?? OscillationCounters(codes: states[i].codes, momentum: momentum) }
        log = try CSVLog(context.dir.appendingPathComponent(Self.file), header: Self.header, truncateAfter: context.resumedAt)
        if context.resumedAt == nil {
            let phase = context.phases.first?.number ?? 0
            for (t, s) in zip(tensors, states) { try append(step: 0, phase: phase, tensor: t.slot.name, changed: 0, frequency: 0, near: s.near) }
        }
    }

    public func observe(_ view: QATStepView) throws {
        guard log != nil else { return }
        let states = measure(view.student.parameters)
        for i in tensors.indices {
            let (changed, frequency) = tensors[i].counters.advance(to: states[i].codes)
            try append(step: view.step, phase: view.phase.number, tensor: tensors[i].slot.name, changed: changed,
                       frequency: frequency, near: states[i].near)
        }
    }

    public func checkpoint(step: Int) throws {
        guard let dir, log != nil else { return }
        var out: [SafeTensorsWriter.Tensor] = []
        for t in tensors {
            let n = t.counters.codes.count, name = t.slot.name
            out.append(.float32(name + "/codes", shape: [n], values: t.counters.codes.map(Float.init)))
            out.append(.int8(name + "/direction", shape: [n], values: t.counters.lastDirection))
            out.append(.float32(name + "/frequency", shape: [n], values: t.counters.frequency))
        }
        try SafeTensorsWriter.write(out, metadata: ["step": String(step), "momentum": String(momentum), "epsilon": String(epsilon)],
                                    to: dir.appendingPathComponent(Self.stateFile))
    }

    public func finish(student: StudentState, quantization: QuantConfig, step: Int) throws {
        guard let dir, log != nil else { return }
        try? FileManager.default.removeItem(at: dir.appendingPathComponent(Self.stateFile))
    }

    /// Each tensor's integer states and its count of weights near a threshold.
    func measure(_ θ: [Float]) -> [(codes: [Int32], near: Int)] {
        θ.withUnsafeBufferPointer { p in
            tensors.map { t in
                var codes = [Int32](repeating: 0, count: t.slot.count)
                let near = codes.withUnsafeMutableBufferPointer { c in
                    t.quantizer.integerStates(p.baseAddress! + t.slot.offset, rows: t.slot.rows, cols: t.slot.rowLength, epsilon: epsilon,
                                              learnedStep: t.stepIndex.map { p[$0] }, codes: c.baseAddress!)
                }
                return (codes, near)
            }
        }
    }

    func append(step: Int, phase: Int, tensor: String, changed: Double, frequency: Double, near: Int) throws {
        let count = Double(max(1, tensors.first { $0.slot.name == tensor }?.slot.count ?? 1))
        try log?.append([String(step), String(phase), tensor, Fmt.g(changed), Fmt.g(frequency), Fmt.g(Double(near) / count)])
    }

    /// The counters saved at the step the run resumes from; nil when the run was not tracked before.
    func readState(resumedAt step: Int) throws -> [OscillationCounters]? {
        guard let dir else { return nil }
        let url = dir.appendingPathComponent(Self.stateFile)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let f = try SafeTensorsFile.read(url: url)
        guard f.metadata["step"] == String(step), f.metadata["momentum"] == String(momentum), f.metadata["epsilon"] == String(epsilon) else {
            throw DataError.mismatch(file: url.path, reason: "saved at step \(f.metadata["step"] ?? "?") with momentum \(f.metadata["momentum"] ?? "?") and epsilon \(f.metadata["epsilon"] ?? "?"), the run resumes at step \(step) with momentum \(momentum) and epsilon \(epsilon); remove the file or keep the options")
        }
        return try tensors.map { t in
            let codes = try f.values(t.slot.name + "/codes", as: Float.self).map { Int32($0) }
            let direction = try f.intValues(t.slot.name + "/direction").map { Int8($0) }
            let frequency = try f.values(t.slot.name + "/frequency", as: Float.self)
            guard codes.count == t.slot.count, direction.count == t.slot.count, frequency.count == t.slot.count else {
                throw DataError.mismatch(file: url.path, reason: "\(t.slot.name) holds \(codes.count) states, the tensor \(t.slot.count) weights")
            }
            return OscillationCounters(codes: codes, lastDirection: direction, frequency: frequency, momentum: momentum)
        }
    }
}
