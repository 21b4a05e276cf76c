// The parameter path of a training run, saved compactly: the start θ₀ once in float32, then one
// entry per saved step holding θ(step) − θ₀ in float16 (half the bytes of the parameters; the
// deltas are small, so half precision loses about 5e-4 of each delta, far below what a landscape
// plot resolves). Entries are fixed-size and appended with one write each, each with its own CRC,
// so a killed writer leaves at most a torn tail, and a resumed run drops entries past its step.
//
//   header: "TITRAJ01" · count n (UInt64) · every K (UInt32) · 0 (UInt32) · θ₀ (n × Float32) · CRC32
//   entry:  step (UInt32) · n × float16 delta · CRC32 of step and deltas            (little endian)
import Foundation

public struct Trajectory: Sendable {
    public let every: Int
    public let origin: [Float]
    /// Saved steps, strictly increasing (step 0 is the origin itself and is not stored).
    public let steps: [Int]
    /// Float16 bits of θ(step) − θ₀, one array per saved step.
    public let deltas: [[UInt16]]
    /// Bytes after the last whole entry (a write cut short by a kill), ignored.
    public let tornBytes: Int

    /// θ(steps[k]) decoded from its float16 delta.
    public func point(_ k: Int) -> [Float] {
        let d = deltas[k]
        return origin.indices.map { origin[$0] + HalfPrecision.float(fromHalf: d[$0]) }
    }
}

public enum TrajectoryFile {
    public static let name = "trajectory.bin"
    static let magic = Array("TITRAJ01".utf8)

    static func headerSize(_ n: Int) -> Int { 24 + 4 * n + 4 }
    static func entrySize(_ n: Int) -> Int { 4 + 2 * n + 4 }

    public static func header(origin: [Float], every: Int) -> [UInt8] {
        var b = magic
        append(UInt64(origin.count), to: &b)
        append(UInt32(every), to: &b)
        append(UInt32(0), to: &b)
        b.reserveCapacity(headerSize(origin.count))
        for v in origin { append(v.bitPattern, to: &b) }
        append(b.withUnsafeBytes { CRC32.checksum($0) }, to: &b)
        return b
    }

    public static func entry(step: Int, parameters: [Float], origin: [Float]) -> [UInt8] {
        precondition(parameters.count == origin.count, "trajectory entry: \(parameters.count) parameters, origin \(origin.count)")
        var b: [UInt8] = []
        b.reserveCapacity(entrySize(origin.count))
        append(UInt32(step), to: &b)
        for i in origin.indices { append(HalfPrecision.half(from: parameters[i] - origin[i]), to: &b) }
        append(b.withUnsafeBytes { CRC32.checksum($0) }, to: &b)
        return b
    }

    /// Reads and checks a trajectory: magic, sizes, every checksum, increasing steps.
    public static func read(_ url: URL) throws -> Trajectory {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw DataError.io(file: url.path, reason: "cannot read the trajectory (\(error.localizedDescription)); was the run trained with --save-trajectory?")
        }
        return try data.withUnsafeBytes { raw in try parse(raw, file: url.path) }
    }

    static func parse(_ raw: UnsafeRawBufferPointer, file: String) throws -> Trajectory {
        func bad(_ reason: String) -> DataError { .malformed(file: file, reason: reason) }
        guard raw.count >= 24, Array(raw[0..<8]) == magic else { throw bad("not a tianalyze trajectory (expected the TITRAJ01 header)") }
        let n64 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        let every = Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian)
        guard n64 > 0, n64 <= UInt64(raw.count / 4), every > 0 else {
            throw bad("header names \(n64) parameters saved every \(every) steps, which the file's \(raw.count) bytes cannot hold")
        }
        let n = Int(n64), h = headerSize(n), e = entrySize(n)
        guard raw.count >= h else { throw bad("header cut short: \(raw.count) bytes, expected at least \(h)") }
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(h - 4)])) == load32(raw, h - 4) else {
            throw bad("header checksum mismatch (θ₀ was changed or damaged)")
        }
        let origin = (0..<n).map { Float(bitPattern: load32(raw, 24 + 4 * $0)) }
        var steps: [Int] = [], deltas: [[UInt16]] = []
        let whole = (raw.count - h) / e
        for k in 0..<whole {
            let at = h + k * e
            guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[at..<(at + e - 4)])) == load32(raw, at + e - 4) else {
                throw bad("entry \(k + 1) (byte \(at)): checksum mismatch (the entry was changed or damaged)")
            }
            let step = Int(load32(raw, at))
            guard step > (steps.last ?? 0) else {
                throw bad("entry \(k + 1): step \(step) does not follow step \(steps.last ?? 0) (steps must increase)")
            }
            steps.append(step)
            deltas.append((0..<n).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4 + 2 * $0, as: UInt16.self)) })
        }
        return Trajectory(every: every, origin: origin, steps: steps, deltas: deltas, tornBytes: raw.count - h - whole * e)
    }

    /// The byte length that keeps the header and the entries up to `step` (what a run resumed at
    /// `step` continues from); the entries past it and any torn tail are cut.
    public static func length(keepingThrough step: Int, of trajectory: Trajectory) -> Int {
        let n = trajectory.origin.count
        return headerSize(n) + trajectory.steps.prefix { $0 <= step }.count * entrySize(n)
    }

    static func load32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
