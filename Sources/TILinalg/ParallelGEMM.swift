// One GEMM over several threads, with results that do not depend on how many. The output is cut
// into blocks of rows (or of columns, when it is wider than tall) and each block is one
// single-threaded BLAS call; the cut depends on the shape alone, so 1, 2 or 64 threads compute
// every block, and so every entry, by the same calls. The inner dimension is never split: that
// would change the order of each entry's sum.
//
// Blocks have at least `minimumBlockWork` multiply-adds, so a block amortizes the wake-up of a
// thread and the packing of the other operand (which each block repeats), and at least
// `minimumBlockWidth` rows or columns, so the BLAS kernel runs on whole register tiles.
public enum GEMMBlocks {
    public static let minimumBlockWork = 1 << 21
    public static let minimumBlockWidth = 32
    public static let maximumBlocks = 64

    /// Block size along the split dimension `extent` for a product of `work` multiply-adds.
    public static func blockSize(extent: Int, work: Int) -> Int {
        let byWork = work / minimumBlockWork, byWidth = extent / minimumBlockWidth
        let blocks = max(1, min(byWork, byWidth, maximumBlocks))
        let size = (extent + blocks - 1) / blocks
        return (size + 7) / 8 * 8
    }
}

extension Parallel {
    /// C = alpha·op(A)·op(B) + beta·C, row-major, as `T.gemm`, split into shape-determined blocks
    /// that run on the calling thread's budget.
    public static func gemm<T: BLASScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        beta: T, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        let work = m * n * k
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let size = GEMMBlocks.blockSize(extent: extent, work: work)
        let blocks = (extent + size - 1) / size
        if blocks <= 1 {
            T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
            return
        }
        forEach(blocks) { i in
            let start = i * size, width = min(size, extent - start)
            if splitRows {
                // Rows start..<start+width of op(A): row `start` of A, or its column `start` when transposed.
                let aBlock = transA ? a + start : a + start * lda
                T.gemm(transA: transA, transB: transB, m: width, n: n, k: k, alpha: alpha, a: aBlock, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c + start * ldc, ldc: ldc)
            } else {
                let bBlock = transB ? b + start * ldb : b + start
                T.gemm(transA: transA, transB: transB, m: m, n: width, k: k, alpha: alpha, a: a, lda: lda,
                       b: bBlock, ldb: ldb, beta: beta, c: c + start, ldc: ldc)
            }
        }
    }
}
