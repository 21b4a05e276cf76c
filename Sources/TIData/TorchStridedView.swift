// A pickled tensor is a strided view of a storage: element (i0, i1, ...) lives at storage element
// offset + Σ i_k·stride_k. Views saved from transposes or slices are not contiguous, and several
// tensors may share one storage, so each view is validated against its storage (every addressed
// element inside it) and then materialised into row-major order.
import Foundation

struct TorchStridedView {
    /// Largest rank accepted; BERT tensors have at most 2 dimensions.
    static let maxRank = 32

    let shape: [Int]
    let strides: [Int]
    let offset: Int
    let elementSize: Int
    /// Number of elements of the view (the product of the shape).
    let count: Int

    /// Checks the view against a storage of `storageElements` elements: non-negative sizes and
    /// strides, overflow-free products, and every addressed element inside the storage.
    init(_ record: TorchTensorRecord, bad: (String) -> DataError) throws {
        let (shape, strides, offset) = (record.shape, record.strides, record.offset)
        guard shape.count == strides.count else {
            throw bad("size has \(shape.count) dimensions but stride has \(strides.count)")
        }
        guard shape.count <= Self.maxRank else { throw bad("\(shape.count) dimensions exceed the limit of \(Self.maxRank)") }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), offset >= 0 else {
            throw bad("size \(shape), stride \(strides) and offset \(offset) must be non-negative")
        }
        var count = 1, last = offset
        for (n, s) in zip(shape, strides) {
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            let (reach, o2) = max(n - 1, 0).multipliedReportingOverflow(by: s)
            let (l, o3) = last.addingReportingOverflow(reach)
            guard !o1, !o2, !o3 else { throw bad("size \(shape) with stride \(strides) overflows a 64-bit count") }
            (count, last) = (c, l)
        }
        let storage = record.storage
        if count > 0 {
            guard last < storage.elements else {
                throw bad("view (offset \(offset), size \(shape), stride \(strides)) reaches element \(last) of storage '\(storage.key)', which has \(storage.elements)")
            }
            // Overlapping views (stride 0 expansions) could inflate a small storage without bound.
            guard count <= storage.elements else {
                throw bad("view has \(count) elements but storage '\(storage.key)' only \(storage.elements) (overlapping views are not supported)")
            }
        }
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.elementSize = storage.dtype.byteSize
        self.count = count
    }

    /// Bytes of the materialised tensor; cannot overflow since count ≤ storage elements, whose
    /// byte size was checked against the archive.
    var byteCount: Int { count * elementSize }

    private var isRowMajor: Bool {
        var expected = 1
        for (n, s) in zip(shape, strides).reversed() where n != 1 {
            guard s == expected else { return false }
            expected *= n
        }
        return true
    }

    /// Copies the view out of `storage` into `out` (exactly `byteCount` bytes), row-major.
    func copy(from storage: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        guard count > 0 else { return }
        let size = elementSize
        if isRowMajor {
            out.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[(offset * size)..<((offset + count) * size)]))
            return
        }
        // Odometer over the outer dimensions; the innermost one is a strided run.
        let rank = shape.count
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var written = 0
        while written < byteCount {
            var start = offset
            for k in 0..<(rank - 1) { start += index[k] * strides[k] }
            for j in 0..<inner {
                let from = (start + j * innerStride) * size
                out.baseAddress!.advanced(by: written).copyMemory(from: storage.baseAddress!.advanced(by: from), byteCount: size)
                written += size
            }
            var k = rank - 2
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }
}
