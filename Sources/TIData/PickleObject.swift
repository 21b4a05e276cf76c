// What the restricted unpickler builds. Objects live in one arena and refer to each other by
// index: that keeps Python's identity semantics (a dict stored in the memo and filled afterwards
// is the same dict when fetched again), makes cycles harmless (no reference counting, no
// recursive teardown), and bounds storage by the pickle's length, since every object and every
// container slot is paid for by at least one opcode byte.
import Foundation

public enum PickleObject: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits, as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case string(String)
    case tuple([Int])
    case list([Int])
    case dict([PickleItem])
    /// A module-level name, e.g. `torch._utils._rebuild_tensor_v2`; never resolved or imported.
    case global(module: String, name: String)
    /// BINPERSID: a reference the loader supplies (for torch, a storage); `id` indexes the
    /// pickled persistent id.
    case persistent(id: Int)
    /// REDUCE of an allowed callable, recorded instead of executed.
    case call(callable: Int, arguments: Int)

    public var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .string: return "str"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let m, let n): return "global \(m).\(n)"
        case .persistent: return "persistent reference"
        case .call: return "call"
        }
    }
}

public struct PickleItem: Sendable, Equatable {
    public let key: Int
    public let value: Int
}

/// A parsed pickle: the arena, the root object, and the BUILD states (recorded, never applied,
/// because applying one means running the object's `__setstate__`).
public struct Pickle: Sendable {
    public let objects: [PickleObject]
    public let root: Int
    /// Object index to the index of the state BUILD gave it.
    public let states: [Int: Int]

    public subscript(_ index: Int) -> PickleObject { objects[index] }

    /// The object as a Swift value when it is a plain string / int / bool, else nil.
    public func string(_ index: Int) -> String? {
        if case .string(let s) = objects[index] { return s }
        return nil
    }

    public func int(_ index: Int) -> Int? {
        if case .int(let v) = objects[index] { return v }
        return nil
    }

    public func tuple(_ index: Int) -> [Int]? {
        if case .tuple(let items) = objects[index] { return items }
        return nil
    }

    /// A tuple of plain ints (sizes, strides), else nil.
    public func intTuple(_ index: Int) -> [Int]? {
        guard let items = tuple(index) else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for i in items {
            guard let v = int(i) else { return nil }
            out.append(v)
        }
        return out
    }

    /// "module.name" when the object is a global, else nil.
    public func globalName(_ index: Int) -> String? {
        if case .global(let m, let n) = objects[index] { return "\(m).\(n)" }
        return nil
    }
}
