// Labelled token sequences and their packing into padded batches.
import TILinalg
import TIQuant

/// One example: token ids (with [CLS]/[SEP]), token types, and a class label or regression target.
public struct Example: Codable, Equatable, Sendable {
    public var tokens: [Int]
    public var tokenTypes: [Int]
    public var label: Int
    public var target: Double

    public init(tokens: [Int], tokenTypes: [Int], label: Int = 0, target: Double = 0) {
        self.tokens = tokens; self.tokenTypes = tokenTypes; self.label = label; self.target = target
    }
}

/// A task's splits and shape: what a trainer, evaluator or analysis needs to know.
public struct TaskData: Sendable {
    public var name: String
    public var numLabels: Int          // 1 = regression
    public var seqLen: Int             // padded length T
    public var vocabSize: Int
    public var train: [Example]
    public var dev: [Example]
    public var metricName: String      // "accuracy", "mcc", "pearson", ...
    /// MNLI's second dev set (dev_mismatched), scored beside `dev` as GLUE reports MNLI; empty for
    /// every other task.
    public var devMismatched: [Example] = []

    public init(name: String, numLabels: Int, seqLen: Int, vocabSize: Int, train: [Example], dev: [Example], metricName: String) {
        self.name = name; self.numLabels = numLabels; self.seqLen = seqLen; self.vocabSize = vocabSize
        self.train = train; self.dev = dev; self.metricName = metricName
    }

    public var isRegression: Bool { numLabels == 1 }

    /// Refuses a task with no training or no dev examples: training on nothing "succeeds" with the
    /// initial weights, and a metric over nothing is 0 (files are refused earlier, by name).
    public func requireExamples() throws {
        for (split, examples) in [("train", train), ("dev", dev)] where examples.isEmpty {
            throw ModelError.invalidTask("task '\(name)' has no \(split) examples")
        }
    }

    /// Fingerprint of the data (goes into run metadata).
    public var hash: String {
        var h = StableHash()
        h.add(name)
        for e in train + dev { h.add(e.tokens.map(String.init).joined(separator: ",")); h.add("\(e.label):\(e.target)") }
        // Only a task that has the second dev set hashes it, so every other task keeps its fingerprint.
        if !devMismatched.isEmpty { h.add("dev_mismatched") }
        for e in devMismatched { h.add(e.tokens.map(String.init).joined(separator: ",")); h.add("\(e.label):\(e.target)") }
        return h.hex
    }
}

public enum Batching {
    /// Packs examples into one padded batch of length `seqLen` (truncating longer sequences).
    public static func batch(_ examples: ArraySlice<Example>, seqLen t: Int, regression: Bool) -> Batch {
        let b = examples.count
        var tokens = [Int](repeating: 0, count: b * t), types = tokens, mask = tokens
        for (i, e) in examples.enumerated() {
            for j in 0..<min(t, e.tokens.count) {
                tokens[i * t + j] = e.tokens[j]; types[i * t + j] = e.tokenTypes[j]; mask[i * t + j] = 1
            }
        }
        return Batch(size: b, seqLen: t, tokens: tokens, tokenTypes: types, attentionMask: mask,
                     labels: regression ? [] : examples.map(\.label),
                     targets: regression ? examples.map(\.target) : [])
    }

    /// Consecutive batches in the given order (the last one may be smaller).
    public static func batches(_ examples: [Example], batchSize: Int, seqLen: Int, regression: Bool) -> [Batch] {
        stride(from: 0, to: examples.count, by: batchSize).map {
            batch(examples[$0..<min($0 + batchSize, examples.count)], seqLen: seqLen, regression: regression)
        }
    }
}
