// Recycled activation storage must not change a single bit of a loss or gradient, must never hand
// one block to two live buffers, and must leave traces that are still held untouched.
import Foundation
import XCTest
import TICore
import TILinalg
import TITestSupport

final class ActivationArenaTests: XCTestCase {
    /// Loss and gradient bit patterns of one training evaluation; the trace is released on return,
    /// so its storage is free for the next pass.
    private static func step<T: BLASScalar>(_ obj: BertObjective<T>, _ θ: [T], teacher: ForwardTrace<T>?) -> [UInt64] {
        let r = obj.evaluate(θ, batch: Tiny.batch(), teacher: teacher, gradient: true, dropoutSeed: 7)
        return ([r.loss] + r.gradient!).map { Self.bits($0) }
    }

    private static func bits<T: BLASScalar>(_ x: T) -> UInt64 {
        withUnsafeBytes(of: x) { $0.count == 8 ? $0.load(as: UInt64.self) : UInt64($0.load(as: UInt32.self)) }
    }

    private static func parameters<T: BLASScalar>(_ model: BertModel, _: T.Type) -> (teacher: [T], student: [T]) {
        let teacher = Tiny.parameters(model, seed: 11)
        let student = Vec.adding(teacher, Tiny.direction(teacher.count, seed: 12), scaledBy: 2.0)
        return (teacher.map { T($0) }, student.map { T($0) })
    }

    /// Two consecutive passes through a poisoned arena (recycled blocks start as NaN bytes) against
    /// the same pass with every buffer fresh from the system allocator.
    private func checkRecycledPassesBitwise<T: BLASScalar>(_: T.Type, _ spec: ObjectiveSpec, file: StaticString = #filePath, line: UInt = #line) {
        let model = BertModel(config: Tiny.config())
        let obj = BertObjective<T>(model: model, spec: spec)
        let (teacherθ, θ) = Self.parameters(model, T.self)
        let fresh = ActivationArena.withThreadArena(nil) {
            Self.step(obj, θ, teacher: spec.needsTeacher ? obj.teacherTrace(teacher: teacherθ, batch: Tiny.batch()) : nil)
        }
        let arena = ActivationArena(poisonsBlocks: true)
        ActivationArena.withThreadArena(arena) {
            let teacher = spec.needsTeacher ? obj.teacherTrace(teacher: teacherθ, batch: Tiny.batch()) : nil
            let first = Self.step(obj, θ, teacher: teacher)
            let afterFirst = arena.statistics
            let second = Self.step(obj, θ, teacher: teacher)
            let afterSecond = arena.statistics
            XCTAssertEqual(first, fresh, "first pass through the arena, \(spec.loss)", file: file, line: line)
            XCTAssertEqual(second, fresh, "second pass (recycled storage), \(spec.loss)", file: file, line: line)
            XCTAssertGreaterThan(afterSecond.requests, afterFirst.requests, file: file, line: line)
            XCTAssertEqual(afterSecond.freshBlocks, afterFirst.freshBlocks, "the second pass should need no new block",
                           file: file, line: line)
        }
    }

    func testRecycledPassesMatchFreshAllocationsBitwise() {
        let specs = [
            ObjectiveSpec(quantization: .fullPrecision, loss: .task),
            ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, includeTaskLoss: true),
            ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: .map),
            ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: .output),
        ]
        for spec in specs {
            checkRecycledPassesBitwise(Double.self, spec)
            checkRecycledPassesBitwise(Float.self, spec)
        }
    }

    /// A trace that is still held keeps its storage: later passes of the same shape must not write into it.
    func testHeldTraceSurvivesLaterPasses() {
        let model = BertModel(config: Tiny.config())
        let (θ, other) = Self.parameters(model, Double.self)
        ActivationArena.withThreadArena(ActivationArena(poisonsBlocks: true)) {
            let kept = model.forward(effective: θ, batch: Tiny.batch(), options: ForwardOptions())
            let logits = kept.logits.array, scores = kept.layers[1].attention.scores.array
            for _ in 0..<3 { _ = model.forward(effective: other, batch: Tiny.batch(), options: ForwardOptions()) }
            XCTAssertEqual(kept.logits.array.map(Self.bits), logits.map(Self.bits))
            XCTAssertEqual(kept.layers[1].attention.scores.array.map(Self.bits), scores.map(Self.bits))
        }
    }

    /// Two threads running passes at the same time: each has its own arena, the storage of their live
    /// traces never overlaps, and each result is bitwise the serial one.
    func testConcurrentWorkersGetDisjointStorage() {
        let model = BertModel(config: Tiny.config())
        let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .task))
        let (a, b) = Self.parameters(model, Double.self)
        let inputs = [a, b]
        let serial = inputs.map { θ in ActivationArena.withThreadArena(nil) { Self.step(obj, θ, teacher: nil) } }

        let results = Locked<[Int: (arena: ObjectIdentifier?, ranges: [Range<UInt>], bits: [UInt64])]>([:])
        // Both workers count in before either starts, so neither can pass a barrier alone.
        let started = DispatchGroup(), bothHoldTraces = DispatchGroup(), done = DispatchGroup()
        for _ in 0..<2 { started.enter(); bothHoldTraces.enter(); done.enter() }
        for worker in 0..<2 {
            Thread {
                let θ = inputs[worker]
                started.leave()
                started.wait()
                var bits: [UInt64] = []
                for _ in 0..<4 { bits = Self.step(obj, θ, teacher: nil) }  // recycled storage from the second pass on
                let trace = model.forward(effective: θ, batch: Tiny.batch(), options: ForwardOptions(quantization: .ternaryW8A8))
                withExtendedLifetime(trace) {
                    bothHoldTraces.leave()
                    bothHoldTraces.wait()  // both traces are alive from here on
                    let arena = ActivationArena.current.map(ObjectIdentifier.init)
                    results.update { $0[worker] = (arena, Self.storageRanges(trace), bits) }
                }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success)
        let r = results.value
        XCTAssertNotNil(r[0]?.arena)
        XCTAssertNotEqual(r[0]?.arena, r[1]?.arena, "the two workers share an arena")
        for x in r[0]?.ranges ?? [] {
            for y in r[1]?.ranges ?? [] { XCTAssertFalse(x.overlaps(y), "workers share storage at \(x) and \(y)") }
        }
        XCTAssertEqual(r[0]?.bits, serial[0])
        XCTAssertEqual(r[1]?.bits, serial[1])
    }

    /// Address ranges of the trace tensors visible outside the model.
    private static func storageRanges(_ tr: ForwardTrace<Double>) -> [Range<UInt>] {
        var buffers = [tr.embeddings.output, tr.logits]
        for l in tr.layers {
            buffers += [l.attention.input, l.attention.scores, l.attention.probs, l.attention.context, l.attention.projected,
                        l.attention.blockOutput, l.feedForward.output]
        }
        return buffers.filter { $0.count > 0 }.map { b in
            let start = UInt(bitPattern: b.p)
            return start..<(start + UInt(b.count * MemoryLayout<Double>.stride))
        }
    }

    /// A size no longer requested goes back to the system after two to three trim windows.
    func testUnusedShapeIsReleased() {
        let model = BertModel(config: Tiny.config())
        let (θ, _) = Self.parameters(model, Double.self)
        let arena = ActivationArena()
        ActivationArena.withThreadArena(arena) {
            _ = model.forward(effective: θ, batch: Tiny.batch(), options: ForwardOptions())
            let small = Tiny.batch().slice(0..<1)
            _ = model.forward(effective: θ, batch: small, options: ForwardOptions())
            let heldWithBoth = arena.statistics.bytesHeld
            for _ in 0..<(3 * ActivationArena.trimInterval) {
                _ = model.forward(effective: θ, batch: small, options: ForwardOptions())
            }
            let heldAfter = arena.statistics.bytesHeld
            XCTAssertLessThan(heldAfter, heldWithBoth)
            // What stays is exactly one pass of the small shape: running it again allocates nothing.
            let before = arena.statistics.freshBlocks
            _ = model.forward(effective: θ, batch: small, options: ForwardOptions())
            XCTAssertEqual(arena.statistics.freshBlocks, before)
        }
    }
}

/// A value shared by test threads.
private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
    func update(_ body: (inout Value) -> Void) { lock.lock(); defer { lock.unlock() }; body(&stored) }
}
