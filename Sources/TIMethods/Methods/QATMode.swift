// A QAT/PTQ method's name as runs, metadata and the command line spell it. The name is only an
// identity: what the method does is its `QATMethod`, found in the registry (MethodRegistry.swift).
// Each method file declares its own name as a static constant next to its behaviour.

public struct QATMode: RawRepresentable, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// Only registered names make a mode, so an unknown name from a file or a flag is refused at once.
    public init?(rawValue: String) {
        guard MethodRegistry.method(named: rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    /// For the method files' own constants; the registry checks that each name is registered once.
    init(registered name: String) { rawValue = name }

    public var description: String { rawValue }

    /// Every registered method, in registry order.
    public static var allCases: [QATMode] { MethodRegistry.all.map(\.mode) }

    /// What this method does.
    public var method: any QATMethod { MethodRegistry.method(named: rawValue)! }

    /// The names of the methods with a property, comma-separated, in registry order: the "applies to
    /// …" part of the message that refuses an option to the other methods.
    public static func names(where property: (any QATMethod) -> Bool) -> String {
        allCases.filter { property($0.method) }.map(\.rawValue).joined(separator: ", ")
    }

    // Encoded as the bare name, as the enum it replaces was, so the config hashes of existing runs hold.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let m = QATMode(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown QAT method '\(name)'")
        }
        self = m
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
