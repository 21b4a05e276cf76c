// Packed int8 codes of ternary weight matrices, reused while a matrix is unchanged.
//
// Detecting that W = α·T is ternary and packing T for the int8 GEMM reads W twice and writes the
// codes and the tiles on every Linear call. The same matrix is multiplied many times between
// parameter changes (every batch of a landscape point, every Hessian-vector product), so the codes
// are kept, keyed by the weight's address and shape. The key only finds a candidate: a hit is
// accepted when W[i] == α·T[i] for every i (tia_ternary_codes_match_f32), one read of W and of the
// 1-byte codes. That check is exact, so a changed matrix (optimizer step, new landscape point, a
// freed buffer reused at the same address) is never served stale codes; it is detected and packed
// again. No fingerprint, no generation number from the caller.
import CKernels
import Foundation

public final class TernaryWeightCache: @unchecked Sendable {  // mutable state behind `lock`
    /// The cache Linear layers use; 512 MiB holds BERT-base's linear weights twice over.
    public static let shared = TernaryWeightCache(capacityBytes: 512 << 20)

    private struct Key: Hashable {
        let address: Int, n: Int, k: Int
    }

    private final class Entry: @unchecked Sendable {  // immutable after init except lastUse (under lock)
        let codes: [Int8]
        let alpha: Float
        let packed: Int8GEMM.PackedWeight
        var lastUse: UInt64 = 0
        var bytes: Int { codes.count + Int8GEMM.PackedWeight.byteCount(n: packed.n, k: packed.k) }
        init(codes: [Int8], alpha: Float, packed: Int8GEMM.PackedWeight) {
            self.codes = codes
            self.alpha = alpha
            self.packed = packed
        }
    }

    public let capacityBytes: Int
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private var heldBytes = 0
    private var hitCount = 0, packCount = 0
    /// Calls answered from the cache.
    public var hits: Int { lock.withLock { hitCount } }
    /// Calls that ran the ternary detection (and packed when it was ternary).
    public var packs: Int { lock.withLock { packCount } }

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    /// (packed T, α) when w, n × k row-major, is α·T with T ternary; nil when it is not ternary.
    public func packed(_ w: UnsafePointer<Float>, n: Int, k: Int) -> (weight: Int8GEMM.PackedWeight, alpha: Float)? {
        let key = Key(address: Int(bitPattern: w), n: n, k: k)
        if let e = candidate(key),
           e.codes.withUnsafeBufferPointer({ tia_ternary_codes_match_f32(w, n * k, $0.baseAddress!, e.alpha) }) == 1 {
            lock.withLock { hitCount += 1 }
            return (e.packed, e.alpha)
        }
        var codes = [Int8](repeating: 0, count: n * k)
        let alpha = codes.withUnsafeMutableBufferPointer { FloatKernels.ternaryCodes(w, count: n * k, codes: $0.baseAddress!) }
        guard let alpha else {
            lock.withLock { packCount += 1; remove(key) }
            return nil
        }
        let entry = Entry(codes: codes, alpha: alpha, packed: Int8GEMM.PackedWeight(codes, n: n, k: k))
        lock.withLock {
            packCount += 1
            insert(entry, for: key)
        }
        return (entry.packed, alpha)
    }

    /// Drops every entry (the counters stay).
    public func removeAll() {
        lock.withLock {
            entries.removeAll()
            heldBytes = 0
        }
    }

    private func candidate(_ key: Key) -> Entry? {
        lock.withLock {
            guard let e = entries[key] else { return nil }
            clock += 1
            e.lastUse = clock
            return e
        }
    }

    // Callers hold the lock.
    private func remove(_ key: Key) {
        if let old = entries.removeValue(forKey: key) { heldBytes -= old.bytes }
    }

    // Callers hold the lock. Least recently used entries go first; one entry larger than the whole
    // capacity is still kept alone, so that a single huge layer is not packed on every call.
    private func insert(_ entry: Entry, for key: Key) {
        remove(key)
        while heldBytes + entry.bytes > capacityBytes, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            remove(oldest.key)
        }
        clock += 1
        entry.lastUse = clock
        entries[key] = entry
        heldBytes += entry.bytes
    }
}
