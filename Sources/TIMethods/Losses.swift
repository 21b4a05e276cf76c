// Loss functions returning the value and the gradient seed at their input.
import TILinalg
import TIQuant
import TIModel

public enum Losses {
    /// Mean cross-entropy over the batch; returns (loss, dLogits).
    public static func crossEntropy<T: BLASScalar>(logits: Buffer<T>, labels: [Int], classes c: Int) -> (T, Buffer<T>) {
        let b = labels.count
        let grad = Buffer<T>(count: b * c)
        var loss: T = 0
        let inv = 1 / T(b)
        for i in 0..<b {
            Softmax.logSoftmaxRow(logits.p + i * c, width: c, out: grad.p + i * c)
            loss -= grad.p[i * c + labels[i]]
            for j in 0..<c { grad.p[i * c + j] = T.expm(grad.p[i * c + j]) * inv }
            grad.p[i * c + labels[i]] -= inv
        }
        return (loss * inv, grad)
    }

    /// Soft cross-entropy −Σ p_teacher·log p_student (temperature 1), mean over the batch.
    public static func softCrossEntropy<T: BLASScalar>(student: Buffer<T>, teacher: Buffer<T>, rows b: Int, classes c: Int) -> (T, Buffer<T>) {
        let grad = Buffer<T>(count: b * c)
        let logS = Buffer<T>(count: c), logT = Buffer<T>(count: c)
        var loss: T = 0
        let inv = 1 / T(b)
        for i in 0..<b {
            Softmax.logSoftmaxRow(student.p + i * c, width: c, out: logS.p)
            Softmax.logSoftmaxRow(teacher.p + i * c, width: c, out: logT.p)
            for j in 0..<c {
                let pt = T.expm(logT.p[j])
                loss -= pt * logS.p[j]
                grad.p[i * c + j] = (T.expm(logS.p[j]) - pt) * inv
            }
        }
        return (loss * inv, grad)
    }

    /// Mean squared error over all entries (PyTorch's MSELoss default). Returns (loss, d/dstudent);
    /// the gradient is nil when not asked for (loss-only evaluation).
    public static func meanSquaredError<T: BLASScalar>(_ s: Buffer<T>, _ t: Buffer<T>, gradient: Bool = true) -> (T, Buffer<T>?) {
        precondition(s.count == t.count, "meanSquaredError: \(s.count) vs \(t.count)")
        let n = s.count
        let inv = 1 / T(n)
        // Float: a vectorized sum accumulated in double (a Float running sum loses digits).
        var sum: T = 0
        if T.self == Float.self {
            sum = T(FloatKernels.sumSquaredDifference(s.p, t.p, count: n))
        } else {
            for i in 0..<n { let diff = s.p[i] - t.p[i]; sum += diff * diff }
        }
        guard gradient else { return (sum * inv, nil) }
        let grad = Buffer<T>(uninitialized: n)
        for i in 0..<n { grad.p[i] = 2 * (s.p[i] - t.p[i]) * inv }
        return (sum * inv, grad)
    }

    /// The masked-score term: MSE over [B, nh, T, T] pre-softmax scores with the entries at padded
    /// keys set to 0 in both tensors first (as TernaryBERT), so they add nothing but still count in
    /// the mean. `keyMask` is the batch's [B, T] attention mask.
    public static func maskedScoreError<T: BLASScalar>(_ s: Buffer<T>, _ t: Buffer<T>, keyMask: [Int], heads: Int, seq tt: Int,
                                                       gradient: Bool = true) -> (T, Buffer<T>?) {
        precondition(s.count == t.count && s.count == keyMask.count * heads * tt,
                     "maskedScoreError: \(s.count) vs \(t.count) scores for \(keyMask.count) key positions")
        let n = s.count, inv = 1 / T(n)
        let grad = gradient ? Buffer<T>(count: n) : nil
        var loss: T = 0
        for row in 0..<(n / tt) {
            let keys = (row / (heads * tt)) * tt, base = row * tt
            for j in 0..<tt where keyMask[keys + j] != 0 {
                let diff = s.p[base + j] - t.p[base + j]
                loss += diff * diff
                grad?.p[base + j] = 2 * diff * inv
            }
        }
        return (loss * inv, grad)
    }

    /// Regression head: MSE between the single output and the target.
    public static func regression<T: BLASScalar>(logits: Buffer<T>, targets: [Double]) -> (T, Buffer<T>) {
        let (l, g) = meanSquaredError(logits, Buffer(targets.map { T($0) }))
        return (l, g!)
    }
}
