// `eval --json FILE`: what `eval` prints, as one JSON object (scores, the int8 export's comparisons).
import Foundation
import TIData
import TICore

extension CheckpointEvaluation: Encodable {
    enum CodingKeys: String, CodingKey {
        case kind, location, split, evaluation, notes, reference, maxLogitDifference, integerArithmetic
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.description, forKey: .kind)
        try c.encode(location.path, forKey: .location)
        try c.encode(split.rawValue, forKey: .split)
        try c.encode(evaluation, forKey: .evaluation)
        try c.encode(notes, forKey: .notes)
        try c.encodeIfPresent(reference, forKey: .reference)
        try c.encodeIfPresent(maxLogitDifference, forKey: .maxLogitDifference)
        try c.encodeIfPresent(integer, forKey: .integerArithmetic)
    }
}
