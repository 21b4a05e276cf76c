// Per-thread recycling of activation storage. A forward and backward pass allocates the same
// buffers, in the same sizes, every time the batch shape repeats; taking them from this thread's
// free blocks instead of malloc/mmap saves the allocator calls and the page faults of fresh memory.
// In steady state a pass allocates no storage: each worker keeps one pass's worth of blocks per shape.
//
// Reuse is decided by ownership, not by position in a pass (unlike a bump arena reset at the next
// pass): a block returns to its arena only when the last `Buffer` holding it is released. A trace
// kept across passes (the teacher traces a trainer or a landscape caches, a frozen point's
// recordings) therefore keeps its storage, and no two live buffers ever share a block. Each thread
// allocates from its own arena, so concurrent workers neither share blocks nor wait for each other;
// the lock only matters when a buffer is released on another thread than the one that made it.
//
// Blocks are keyed by byte size, so Float and Double buffers of equal size share blocks.
import Foundation

public final class ActivationArena: @unchecked Sendable {
    /// Counters for tests and measurements.
    public struct Statistics: Equatable, Sendable {
        /// Blocks asked for (one per `Buffer`).
        public var requests = 0
        /// Those that had to come from the system allocator.
        public var freshBlocks = 0
        /// Bytes of all blocks this arena owns, free or in use.
        public var bytesHeld = 0
    }

    /// The blocks of one byte size: those free, how many are in use, and recent peaks of that.
    private struct Bucket {
        var free: [UnsafeMutableRawPointer] = []
        var inUse = 0
        var peak = 0
        var previousPeak = 0
    }

    /// New blocks start on a cache line, whole vectors for every SIMD width in use.
    static let alignment = 64
    /// Forward passes between trims of unused blocks.
    public static let trimInterval = 8

    private let lock = NSLock()
    private var buckets: [Int: Bucket] = [:]
    private var passes = 0
    private var stats = Statistics()
    /// For tests: every block handed out is first filled with 0xFF bytes (NaN as Float and as
    /// Double), so a read before the first write shows in the results.
    private let poisonsBlocks: Bool

    public init(poisonsBlocks: Bool = false) {
        self.poisonsBlocks = poisonsBlocks
    }

    deinit {
        for b in buckets.values { for block in b.free { block.deallocate() } }
    }

    public var statistics: Statistics {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    /// A block of `bytes` bytes, a free one when there is one.
    func take(bytes: Int) -> UnsafeMutableRawPointer {
        lock.lock()
        stats.requests += 1
        let recycled: UnsafeMutableRawPointer? = update(bytes) { b in
            b.inUse += 1
            b.peak = max(b.peak, b.inUse)
            return b.free.popLast()
        }
        if recycled == nil { stats.freshBlocks += 1; stats.bytesHeld += bytes }
        lock.unlock()
        let block = recycled ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        if poisonsBlocks { block.initializeMemory(as: UInt8.self, repeating: 0xFF, count: bytes) }
        return block
    }

    /// Takes a block back; any thread may call this.
    func give(_ block: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        update(bytes) { b in
            b.inUse -= 1
            b.free.append(block)
        }
    }

    /// Called at the start of every forward pass. Every `trimInterval` passes, each size keeps only
    /// as many free blocks as its peak use in the current and the previous window needs; a size
    /// (a batch shape) unused for two to three windows, or the blocks of a released cache of
    /// traces, go back to the system.
    public func beginPass() {
        lock.lock(); defer { lock.unlock() }
        passes += 1
        guard passes % Self.trimInterval == 0 else { return }
        for bytes in Array(buckets.keys) {
            let (released, empty) = update(bytes) { b -> (Int, Bool) in
                let keep = max(0, max(b.peak, b.previousPeak) - b.inUse)
                let released = max(0, b.free.count - keep)
                for _ in 0..<released { b.free.removeLast().deallocate() }
                b.previousPeak = b.peak
                b.peak = b.inUse
                return (released, b.free.isEmpty && b.inUse == 0 && b.previousPeak == 0)
            }
            stats.bytesHeld -= released * bytes
            if empty { buckets[bytes] = nil }
        }
    }

    /// In-place access to a bucket (no copy of its free list); caller holds the lock.
    private func update<R>(_ bytes: Int, _ body: (inout Bucket) -> R) -> R {
        body(&buckets[bytes, default: Bucket()])
    }
}

extension ActivationArena {
    /// This thread's arena, made on first use and released with the thread; nil inside
    /// `withThreadArena(nil)`.
    public static var current: ActivationArena? { ThreadSlot.this.arena }

    /// Runs `body` with `arena` as this thread's arena; nil gives every buffer fresh storage from
    /// the system allocator (the reference the arena is tested against).
    public static func withThreadArena<R>(_ arena: ActivationArena?, _ body: () throws -> R) rethrows -> R {
        let slot = ThreadSlot.this
        let saved = slot.arena
        slot.arena = arena
        defer { slot.arena = saved }
        return try body()
    }
}

/// The per-thread cell behind `ActivationArena.current`, kept in POSIX thread-specific storage so
/// that it is released when its thread exits (dispatch worker threads come and go).
private final class ThreadSlot {
    var arena: ActivationArena? = ActivationArena()

    static var this: ThreadSlot {
        if let raw = pthread_getspecific(threadSlotKey) {
            return Unmanaged<ThreadSlot>.fromOpaque(raw).takeUnretainedValue()
        }
        let slot = ThreadSlot()
        pthread_setspecific(threadSlotKey, Unmanaged.passRetained(slot).toOpaque())
        return slot
    }
}

private let threadSlotKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { raw in releaseThreadSlot(raw) }
    precondition(status == 0, "ActivationArena: pthread_key_create failed with \(status)")
    return key
}()

private func releaseThreadSlot(_ raw: UnsafeMutableRawPointer?) {
    if let raw { Unmanaged<ThreadSlot>.fromOpaque(raw).release() }
}
