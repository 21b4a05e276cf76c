// Interprets a restricted-unpickled PyTorch state_dict: a dict from parameter names to tensors,
// each tensor `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, meta])`
// over a persistent storage reference ('storage', torch.<Type>Storage, key, location, numel).
// Only the shape of that description is accepted; nothing is called or imported.
import Foundation

/// One tensor as the pickle describes it: a strided view into a storage.
struct TorchTensorRecord: Equatable {
    let name: String
    let storage: TorchStorageRecord
    /// Element offset of the view's first element within the storage.
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// A storage reference: the key naming its bytes in the archive, its element type and count.
struct TorchStorageRecord: Equatable {
    let key: String
    let dtype: TensorDType
    let elements: Int
}

enum TorchStateDict {
    /// Storage classes are inert element-type tags. Integer ones are accepted because BERT
    /// checkpoints of the transformers 3/4 era carry an int64 `embeddings.position_ids` buffer.
    static let storageTypes: [String: TensorDType] = [
        "torch.FloatStorage": .f32, "torch.HalfStorage": .f16, "torch.BFloat16Storage": .bf16,
        "torch.DoubleStorage": .f64, "torch.LongStorage": .i64, "torch.IntStorage": .i32,
        "torch.ShortStorage": .i16, "torch.CharStorage": .i8, "torch.ByteStorage": .u8, "torch.BoolStorage": .bool,
    ]
    static let rebuildTensor = "torch._utils._rebuild_tensor_v2"
    static let rebuildParameter = "torch._utils._rebuild_parameter"
    static let orderedDict = "collections.OrderedDict"

    static let policy = PicklePolicy(
        globals: Set(storageTypes.keys).union([rebuildTensor, rebuildParameter, orderedDict]),
        callables: [rebuildTensor, rebuildParameter, orderedDict],
        dictTypes: [orderedDict])

    /// The tensors of the pickled state_dict, in the dict's order.
    static func records(_ pickle: Pickle, file: String) throws -> [TorchTensorRecord] {
        func bad(_ reason: String) -> DataError { .malformed(file: file, reason: reason) }
        guard case .dict(let items) = pickle[pickle.root] else {
            throw bad("the pickled object is a \(pickle[pickle.root].kind), expected a state_dict (a dict of tensors)")
        }
        var records: [TorchTensorRecord] = []
        var seen = Set<String>()
        var storages: [String: TorchStorageRecord] = [:]
        for item in items {
            guard let name = pickle.string(item.key) else {
                throw bad("state_dict key is a \(pickle[item.key].kind), expected a string")
            }
            guard seen.insert(name).inserted else { throw bad("state_dict key '\(name)' appears twice") }
            let record = try tensor(pickle, item.value, name: name, bad: { bad("tensor '\(name)': \($0)") })
            // One storage key must always mean the same bytes of the same element type.
            if let previous = storages[record.storage.key], previous != record.storage {
                throw bad("tensor '\(name)': storage '\(record.storage.key)' is declared as \(record.storage.elements) \(record.storage.dtype.rawValue) here but \(previous.elements) \(previous.dtype.rawValue) earlier")
            }
            storages[record.storage.key] = record.storage
            records.append(record)
        }
        return records
    }

    /// A `_rebuild_tensor_v2` call, or a `_rebuild_parameter` wrapping one.
    private static func tensor(_ p: Pickle, _ index: Int, name: String, bad: (String) -> DataError) throws -> TorchTensorRecord {
        guard case .call(let callable, let arguments) = p[index], let args = p.tuple(arguments) else {
            throw bad("value is a \(p[index].kind), expected a tensor")
        }
        switch p.globalName(callable) {
        case rebuildParameter:
            // (data, requires_grad, backward_hooks): the data is the tensor itself.
            guard args.count == 3, case .call(let inner, _) = p[args[0]], p.globalName(inner) == rebuildTensor else {
                throw bad("_rebuild_parameter needs (tensor, requires_grad, hooks), found \(args.count) arguments")
            }
            try checkHooks(p, args[2], bad: bad)
            return try tensor(p, args[0], name: name, bad: bad)
        case rebuildTensor:
            guard args.count == 6 || args.count == 7 else {
                throw bad("_rebuild_tensor_v2 takes 6 or 7 arguments, found \(args.count)")
            }
            let storage = try storageReference(p, args[0], bad: bad)
            guard let offset = p.int(args[1]) else { throw bad("storage offset is a \(p[args[1]].kind), expected an int") }
            guard let shape = p.intTuple(args[2]) else { throw bad("size is not a tuple of ints") }
            guard let strides = p.intTuple(args[3]) else { throw bad("stride is not a tuple of ints") }
            try checkHooks(p, args[5], bad: bad)
            return TorchTensorRecord(name: name, storage: storage, offset: offset, shape: shape, strides: strides)
        default:
            throw bad("value is a call of \(p.globalName(callable) ?? p[callable].kind), expected a tensor")
        }
    }

    /// Backward hooks would be callables; a saved state_dict carries only an empty dict.
    private static func checkHooks(_ p: Pickle, _ index: Int, bad: (String) -> DataError) throws {
        guard case .dict(let hooks) = p[index], hooks.isEmpty else {
            throw bad("backward hooks must be an empty dict, found a \(p[index].kind)")
        }
    }

    /// ('storage', torch.<Type>Storage, key, location, numel), plus a trailing view_metadata of
    /// None in the legacy format.
    private static func storageReference(_ p: Pickle, _ index: Int, bad: (String) -> DataError) throws -> TorchStorageRecord {
        guard case .persistent(let id) = p[index] else {
            throw bad("storage is a \(p[index].kind), expected a persistent storage reference")
        }
        guard let fields = p.tuple(id), fields.count == 5 || fields.count == 6 else {
            throw bad("persistent id is not a 5-tuple ('storage', type, key, location, numel)")
        }
        guard p.string(fields[0]) == "storage" else { throw bad("persistent id does not start with 'storage'") }
        guard let typeName = p.globalName(fields[1]), let dtype = storageTypes[typeName] else {
            throw bad("storage type is a \(p[fields[1]].kind), expected one of \(storageTypes.keys.sorted().joined(separator: ", "))")
        }
        guard let key = p.string(fields[2]) else { throw bad("storage key is a \(p[fields[2]].kind), expected a string") }
        guard p.string(fields[3]) != nil else { throw bad("storage location is a \(p[fields[3]].kind), expected a string") }
        guard let elements = p.int(fields[4]), elements >= 0 else {
            throw bad("storage '\(key)' element count is not a non-negative int")
        }
        if fields.count == 6, p[fields[5]] != .none {
            throw bad("storage '\(key)' is a view of another storage (legacy view_metadata), which is not supported")
        }
        return TorchStorageRecord(key: key, dtype: dtype, elements: elements)
    }
}
