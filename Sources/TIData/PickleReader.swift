// A restricted unpickler: a small stack machine that understands only the opcodes a plain
// PyTorch state_dict uses (protocols 2 to 4) and never executes anything. GLOBAL names are
// checked against an allow-list, REDUCE is recorded as a `.call` object rather than called, and
// BUILD states are recorded rather than applied. Every read is bounds-checked and the mark
// depth, stack height, integer width and memo are limited, so a hostile pickle ends in one
// DataError line.
import Foundation

/// Which globals a pickle may name and which of them REDUCE may apply.
public struct PicklePolicy: Sendable {
    /// "module.name" of every global the pickle may mention.
    public var globals: Set<String>
    /// Globals that REDUCE may apply (recorded as `.call`).
    public var callables: Set<String>
    /// Callables whose REDUCE with no arguments builds an empty dict (`collections.OrderedDict`),
    /// which SETITEMS may then fill.
    public var dictTypes: Set<String>

    public init(globals: Set<String>, callables: Set<String>, dictTypes: Set<String>) {
        self.globals = globals
        self.callables = callables
        self.dictTypes = dictTypes
    }
}

public enum PickleReader {
    /// Nested MARKs; a state_dict needs three.
    public static let maxMarkDepth = 100
    /// Objects on the stack at once; a state_dict batches at most 1000 items (2000 entries).
    public static let maxStackHeight = 1 << 20
    /// Bytes of a LONG1 integer; torch's largest is the 10-byte legacy magic number.
    public static let maxLongBytes = 32

    /// Parses one pickle starting at byte `start` of `data`; returns it and the offset just past
    /// its STOP. The bytes are read in place (checkpoints are large); the result owns its strings.
    public static func parse(_ data: Data, from start: Int = 0, name: String,
                             policy: PicklePolicy) throws -> (pickle: Pickle, end: Int) {
        try data.withUnsafeBytes { raw in
            var machine = PickleMachine(bytes: raw, position: start, name: name, policy: policy)
            let root = try machine.run()
            return (Pickle(objects: machine.objects, root: root, states: machine.states), machine.position)
        }
    }
}

private struct PickleMachine {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let name: String
    let policy: PicklePolicy
    var objects: [PickleObject] = []
    var stack: [Int] = []
    var marks: [Int] = []
    var memo: [UInt32: Int] = [:]
    var states: [Int: Int] = [:]
    /// Offset and byte of the opcode being executed, for error messages.
    var opcodeStart = 0
    var opcode: UInt8?

    init(bytes: UnsafeRawBufferPointer, position: Int, name: String, policy: PicklePolicy) {
        self.bytes = bytes
        self.position = position
        self.name = name
        self.policy = policy
    }

    func bad(_ reason: String) -> DataError {
        .malformed(file: name, reason: "pickle byte \(opcodeStart) (\(opcode.map(PickleOpcode.name) ?? "start")): \(reason)")
    }

    /// Runs opcodes until STOP and returns the index of the object left on the stack.
    mutating func run() throws -> Int {
        while true {
            opcodeStart = position
            opcode = nil
            let op = try byte()
            opcode = op
            if op == PickleOpcode.stop {
                guard marks.isEmpty, stack.count == 1 else {
                    throw bad("STOP with \(stack.count) objects and \(marks.count) open marks on the stack (expected exactly one object)")
                }
                return stack[0]
            }
            try execute(op)
        }
    }

    private mutating func execute(_ op: UInt8) throws {
        switch op {
        case 0x80: try checkProtocol()                                            // PROTO
        case 0x95: _ = try take(8)                                                // FRAME: framing only
        case 0x28: try mark()                                                     // MARK
        case 0x4E: try push(.none)                                                // NONE
        case 0x88: try push(.bool(true))                                          // NEWTRUE
        case 0x89: try push(.bool(false))                                         // NEWFALSE
        case 0x4B: try push(.int(Int(try byte())))                                // BININT1
        case 0x4D: try push(.int(Int(try littleEndian(2))))                       // BININT2
        case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
        case 0x8A: try push(try long1())                                          // LONG1
        case 0x58: try push(.string(try text(length: Int(try littleEndian(4)))))  // BINUNICODE
        case 0x8C: try push(.string(try text(length: Int(try byte()))))           // SHORT_BINUNICODE
        case 0x29: try push(.tuple([]))                                           // EMPTY_TUPLE
        case 0x5D: try push(.list([]))                                            // EMPTY_LIST
        case 0x7D: try push(.dict([]))                                            // EMPTY_DICT
        case 0x85, 0x86, 0x87: try push(.tuple(try pop(Int(op - 0x84))))         // TUPLE1..3
        case 0x74: try push(.tuple(try popToMark()))                              // TUPLE
        case 0x61: try append(try pop(1))                                         // APPEND
        case 0x65: try append(try popToMark())                                    // APPENDS
        case 0x73: try setItems(try pop(2))                                       // SETITEM
        case 0x75: try setItems(try popToMark())                                  // SETITEMS
        case 0x63: try global(try line(), try line())                             // GLOBAL
        case 0x93: try stackGlobal()                                              // STACK_GLOBAL
        case 0x51: try push(.persistent(id: try pop(1)[0]))                       // BINPERSID
        case 0x52: try reduce()                                                   // REDUCE
        case 0x62: try build()                                                    // BUILD
        case 0x71: try put(UInt32(try byte()))                                    // BINPUT
        case 0x72: try put(UInt32(try littleEndian(4)))                           // LONG_BINPUT
        case 0x94: try put(UInt32(truncatingIfNeeded: memo.count))                // MEMOIZE
        case 0x68: try get(UInt32(try byte()))                                    // BINGET
        case 0x6A: try get(UInt32(try littleEndian(4)))                           // LONG_BINGET
        default:
            throw bad("opcode 0x\(String(op, radix: 16)) is not one a PyTorch state_dict uses; the restricted reader refuses it")
        }
    }

    // MARK: - Reading the byte stream

    private mutating func take(_ count: Int) throws -> Slice<UnsafeRawBufferPointer> {
        guard count >= 0, position >= 0, position <= bytes.count, count <= bytes.count - position else {
            throw bad("needs \(count) more bytes but the pickle ends at byte \(bytes.count) (truncated)")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    private mutating func byte() throws -> UInt8 {
        let slice = try take(1)
        return slice[slice.startIndex]
    }

    private mutating func littleEndian(_ width: Int) throws -> UInt32 {
        try take(width).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    private mutating func text(length: Int) throws -> String {
        guard let s = String(validating: try take(length), as: UTF8.self) else { throw bad("string is not valid UTF-8") }
        return s
    }

    /// A newline-terminated ASCII line (GLOBAL's module and name), at most 256 bytes.
    private mutating func line() throws -> String {
        let end = bytes[position..<min(bytes.count, position + 257)].firstIndex(of: 0x0A)
        guard let end else {
            throw bad(bytes.count - position <= 256 ? "GLOBAL name runs to the end of the pickle (truncated)"
                                                    : "GLOBAL name has no newline within 256 bytes")
        }
        let raw = try take(end - position)
        position += 1
        guard raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), let s = String(validating: raw, as: UTF8.self) else {
            throw bad("GLOBAL name is not printable ASCII")
        }
        return s
    }

    private mutating func checkProtocol() throws {
        let version = try byte()
        guard (2...5).contains(version) else { throw bad("pickle protocol \(version) (expected 2 to 5)") }
    }

    /// LONG1: a little-endian two's-complement integer of the given byte count.
    private mutating func long1() throws -> PickleObject {
        let count = Int(try byte())
        guard count <= PickleReader.maxLongBytes else {
            throw bad("\(count)-byte integer exceeds the \(PickleReader.maxLongBytes)-byte limit")
        }
        let raw = Array(try take(count))
        guard count <= 8 else { return .bigInt(raw) }
        guard let last = raw.last else { return .int(0) }
        var v: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for b in raw.reversed() { v = v << 8 | UInt64(b) }
        return .int(Int(Int64(bitPattern: v)))
    }
}

// MARK: - Stack, memo and container operations

extension PickleMachine {
    fileprivate mutating func push(_ object: PickleObject) throws {
        objects.append(object)
        try pushIndex(objects.count - 1)
    }

    private mutating func pushIndex(_ index: Int) throws {
        guard stack.count < PickleReader.maxStackHeight else {
            throw bad("stack grows past \(PickleReader.maxStackHeight) objects")
        }
        stack.append(index)
    }

    fileprivate mutating func mark() throws {
        guard marks.count < PickleReader.maxMarkDepth else {
            throw bad("MARKs nest deeper than \(PickleReader.maxMarkDepth)")
        }
        marks.append(stack.count)
    }

    /// The top `count` objects, oldest first; never reaches below the innermost mark.
    fileprivate mutating func pop(_ count: Int) throws -> [Int] {
        let floor = marks.last ?? 0
        guard stack.count - floor >= count else {
            throw bad("needs \(count) objects but only \(stack.count - floor) are on the stack")
        }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    fileprivate mutating func popToMark() throws -> [Int] {
        guard let m = marks.popLast() else { throw bad("no MARK to pop to") }
        defer { stack.removeSubrange(m...) }
        return Array(stack[m...])
    }

    private mutating func top() throws -> Int {
        guard let t = stack.last, stack.count > (marks.last ?? 0) else { throw bad("no object on the stack to modify") }
        return t
    }

    fileprivate mutating func append(_ items: [Int]) throws {
        let target = try top()
        guard case .list(var list) = objects[target] else {
            throw bad("appends to a \(objects[target].kind), expected a list")
        }
        objects[target] = .none  // release the array so the append below does not copy it
        list += items
        objects[target] = .list(list)
    }

    fileprivate mutating func setItems(_ flat: [Int]) throws {
        guard flat.count % 2 == 0 else { throw bad("odd number (\(flat.count)) of keys and values") }
        let target = try top()
        guard case .dict(var items) = objects[target] else {
            throw bad("sets items on a \(objects[target].kind), expected a dict")
        }
        objects[target] = .none
        for i in stride(from: 0, to: flat.count, by: 2) { items.append(PickleItem(key: flat[i], value: flat[i + 1])) }
        objects[target] = .dict(items)
    }

    fileprivate mutating func put(_ key: UInt32) throws {
        memo[key] = try top()
    }

    fileprivate mutating func get(_ key: UInt32) throws {
        guard let index = memo[key] else { throw bad("memo index \(key) was never stored (\(memo.count) entries)") }
        try pushIndex(index)
    }
}

// MARK: - Globals, REDUCE and BUILD

extension PickleMachine {
    fileprivate mutating func global(_ module: String, _ attribute: String) throws {
        let full = "\(module).\(attribute)"
        guard policy.globals.contains(full) else {
            throw bad("global '\(full)' is not allowed (accepted: \(policy.globals.sorted().joined(separator: ", ")))")
        }
        try push(.global(module: module, name: attribute))
    }

    fileprivate mutating func stackGlobal() throws {
        let pair = try pop(2)
        guard case .string(let module) = objects[pair[0]], case .string(let attribute) = objects[pair[1]] else {
            throw bad("STACK_GLOBAL needs two strings, found \(objects[pair[0]].kind) and \(objects[pair[1]].kind)")
        }
        try global(module, attribute)
    }

    fileprivate mutating func reduce() throws {
        let pair = try pop(2)
        let (callable, arguments) = (pair[0], pair[1])
        guard case .global(let module, let attribute) = objects[callable] else {
            throw bad("REDUCE applies a \(objects[callable].kind), expected an allowed global")
        }
        let full = "\(module).\(attribute)"
        guard policy.callables.contains(full) else { throw bad("REDUCE of '\(full)' is not allowed") }
        guard case .tuple(let args) = objects[arguments] else {
            throw bad("REDUCE of '\(full)' with a \(objects[arguments].kind) of arguments, expected a tuple")
        }
        if policy.dictTypes.contains(full) {
            guard args.isEmpty else { throw bad("'\(full)' built from \(args.count) arguments; only the empty form is supported") }
            try push(.dict([]))
        } else {
            try push(.call(callable: callable, arguments: arguments))
        }
    }

    fileprivate mutating func build() throws {
        let state = try pop(1)[0]
        let target = try top()
        guard states[target] == nil else { throw bad("object receives a second BUILD state") }
        states[target] = state
    }
}

enum PickleOpcode {
    static let stop: UInt8 = 0x2E

    private static let names: [UInt8: String] = [
        0x80: "PROTO", 0x95: "FRAME", 0x2E: "STOP", 0x28: "MARK", 0x4E: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
        0x4B: "BININT1", 0x4D: "BININT2", 0x4A: "BININT", 0x8A: "LONG1", 0x58: "BINUNICODE",
        0x8C: "SHORT_BINUNICODE", 0x29: "EMPTY_TUPLE", 0x5D: "EMPTY_LIST", 0x7D: "EMPTY_DICT", 0x85: "TUPLE1",
        0x86: "TUPLE2", 0x87: "TUPLE3", 0x74: "TUPLE", 0x61: "APPEND", 0x65: "APPENDS", 0x73: "SETITEM",
        0x75: "SETITEMS", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x51: "BINPERSID", 0x52: "REDUCE", 0x62: "BUILD",
        0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x68: "BINGET", 0x6A: "LONG_BINGET",
    ]

    static func name(_ op: UInt8) -> String { names[op] ?? "opcode 0x" + String(op, radix: 16) }
}
