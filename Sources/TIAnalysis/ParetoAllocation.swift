// Exact choice of one option per block (a bit width per layer) minimising the summed cost (HAWQ-V2's
// Σ Ω) under a budget on the summed size: a multiple-choice knapsack, solved exactly by carrying the
// Pareto frontier of (size, cost) over the blocks seen so far. Any assignment whose first k choices
// are dominated (no smaller, no cheaper) by another prefix can be improved by swapping that prefix
// in, so pruning dominated prefixes loses no optimum; the frontier after the last block is the exact
// trade-off curve, and the best allocation under a budget is its cheapest point that fits. Sizes are
// integers (bytes), so the budget comparison is exact.

/// One option of a block: its size and its cost.
public struct AllocationOption: Equatable, Sendable {
    public var size: Int
    public var cost: Double
    public init(size: Int, cost: Double) { self.size = size; self.cost = cost }
}

/// A non-dominated assignment: total size, total cost, and the option index chosen for each block.
public struct ParetoPoint: Equatable, Sendable {
    public var size: Int
    public var cost: Double
    public var choice: [Int]
    public init(size: Int, cost: Double, choice: [Int]) { self.size = size; self.cost = cost; self.choice = choice }
}

public enum ParetoAllocation {
    /// The exact Pareto frontier over all assignments, ascending in size and strictly descending in cost.
    public static func frontier(_ options: [[AllocationOption]]) -> [ParetoPoint] {
        precondition(options.allSatisfy { !$0.isEmpty }, "ParetoAllocation: every block needs at least one option")
        precondition(options.allSatisfy { $0.allSatisfy { $0.cost.isFinite } }, "ParetoAllocation: costs must be finite")
        // Each level keeps its points with a back-pointer (previous level's point, option), so an
        // assignment is rebuilt once at the end instead of copied at every merge.
        struct Node { var size: Int; var cost: Double; var parent: Int; var option: Int }
        var levels: [[Node]] = []
        var current = [Node(size: 0, cost: 0, parent: -1, option: -1)]
        for block in options {
            var merged: [Node] = []
            merged.reserveCapacity(current.count * block.count)
            for (p, node) in current.enumerated() {
                for (o, opt) in block.enumerated() {
                    merged.append(Node(size: node.size + opt.size, cost: node.cost + opt.cost, parent: p, option: o))
                }
            }
            merged.sort { ($0.size, $0.cost, $0.parent, $0.option) < ($1.size, $1.cost, $1.parent, $1.option) }
            // Ascending size: a point survives only if it is cheaper than every smaller one (a same-size
            // point that is not cheaper than the first of its size falls out too).
            var kept: [Node] = []
            for n in merged where kept.last.map({ n.cost < $0.cost }) ?? true { kept.append(n) }
            levels.append(current)
            current = kept
        }
        return current.map { end in
            var choice = [Int](repeating: 0, count: options.count)
            var node = end, level = options.count
            while level > 0 {
                choice[level - 1] = node.option
                level -= 1
                node = levels[level][node.parent]
            }
            return ParetoPoint(size: end.size, cost: end.cost, choice: choice)
        }
    }

    /// The cheapest frontier point whose size is at most `budget`; nil when even the smallest exceeds it.
    public static func best(on frontier: [ParetoPoint], budget: Int) -> ParetoPoint? {
        frontier.last { $0.size <= budget }
    }
}
