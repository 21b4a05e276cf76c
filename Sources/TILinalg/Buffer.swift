// Scratch storage for activations inside one forward/backward pass. A trace owns its buffers and
// writes each one once, so reference semantics without copy-on-write are safe and keep the hot
// loops free of uniqueness checks; public APIs exchange plain `[T]` value arrays instead.
//
// The storage comes from the allocating thread's `ActivationArena` (recycled blocks of earlier
// passes) and goes back to it when the buffer is released; see ActivationArena.swift.

public final class Buffer<T: BLASScalar> {
    public let count: Int
    public let p: UnsafeMutablePointer<T>
    /// Where the storage returns on release; nil: the system allocator.
    private let arena: ActivationArena?

    public init(count: Int) {
        self.count = count
        (p, arena) = Self.storage(count)
        let p = self.p
        if count < 1 << 16 { p.initialize(repeating: 0, count: max(count, 1)); return }
        Parallel.rows(count, width: 1, minimumRows: 1 << 16) { r in (p + r.lowerBound).initialize(repeating: 0, count: r.count) }
    }

    /// Storage the caller overwrites completely before reading (forward outputs): skipping the
    /// zero fill saves a memory pass per activation. Recycled storage holds an earlier pass's values.
    public init(uninitialized count: Int) {
        self.count = count
        (p, arena) = Self.storage(count)
    }

    public convenience init(_ values: [T]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { p.update(from: b, count: values.count) }
        }
    }

    deinit {
        if let arena { arena.give(UnsafeMutableRawPointer(p), bytes: Self.bytes(count)) } else { p.deallocate() }
    }

    private static func bytes(_ count: Int) -> Int { max(count, 1) * MemoryLayout<T>.stride }

    private static func storage(_ count: Int) -> (UnsafeMutablePointer<T>, ActivationArena?) {
        guard let arena = ActivationArena.current else { return (.allocate(capacity: max(count, 1)), nil) }
        let block = arena.take(bytes: bytes(count))
        return (block.bindMemory(to: T.self, capacity: max(count, 1)), arena)
    }

    public var array: [T] { Array(UnsafeBufferPointer(start: p, count: count)) }

    public func zero() { p.update(repeating: 0, count: count) }

    public func copy() -> Buffer<T> {
        let b = Buffer<T>(uninitialized: count)
        b.p.update(from: p, count: count)
        return b
    }

    public subscript(i: Int) -> T {
        @inline(__always) get { p[i] }
        @inline(__always) set { p[i] = newValue }
    }

    /// self += other
    public func add(_ other: Buffer<T>) {
        precondition(other.count == count, "Buffer.add: \(other.count) vs \(count)")
        Parallel.rows(count, width: 1, minimumRows: 1 << 15) { r in  // elementwise: any split, same bits
            T.axpy(r.count, 1, other.p + r.lowerBound, p + r.lowerBound)
        }
    }

    /// self *= mask (elementwise)
    public func multiply(by mask: Buffer<T>) {
        precondition(mask.count == count)
        Parallel.rows(count, width: 1, minimumRows: 1 << 15) { r in
            T.multiply(p + r.lowerBound, by: mask.p + r.lowerBound, count: r.count)
        }
    }
}
