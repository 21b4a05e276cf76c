import Foundation
import TILandscape
import TILandscapeToy
import TILinalg
import XCTest

final class DirectionTests: XCTestCase {
    private func rowNorm(_ v: [Float], _ start: Int, _ len: Int) -> Double {
        (start..<(start + len)).reduce(0.0) { $0 + Double(v[$1]) * Double(v[$1]) }.squareRoot()
    }

    func testFilterNormalizationMatchesWeightRowsAndZeroesOneDimensionalTensors() {
        let w = Toy.weights
        let dirs = Toy.directions()
        XCTAssertEqual(dirs.count, 2)
        XCTAssertNotEqual(dirs.vectors[0], dirs.vectors[1], "the two directions must be independent draws")
        for d in dirs.vectors {
            for slot in Toy.layout.slots {
                if slot.role.isOneDimensional {
                    XCTAssertTrue(slot.range.allSatisfy { d[$0] == 0 }, "\(slot.name) must be zero under biasbn")
                    continue
                }
                for r in 0..<slot.rows {
                    let start = slot.offset + r * slot.rowLength
                    let wn = rowNorm(w, start, slot.rowLength), dn = rowNorm(d, start, slot.rowLength)
                    if wn == 0 {
                        XCTAssertEqual(dn, 0, "\(slot.name) row \(r): zero weight row needs a zero direction row")
                    } else {
                        XCTAssertEqual(dn, wn, accuracy: 1e-5 * wn, "\(slot.name) row \(r)")
                    }
                }
            }
        }
    }

    func testDirectionsAreReproducibleFromTheSeed() {
        XCTAssertEqual(Toy.directions(seed: 3), Toy.directions(seed: 3))
        XCTAssertNotEqual(Toy.directions(seed: 3).hash, Toy.directions(seed: 4).hash)
    }

    func testIncludedOneDimensionalTensorsGetVectorNormOrWeights() {
        let w = Toy.weights
        let vn = LandscapeDirections.random(weights: w, layout: Toy.layout, seed: 1, count: 1,
                                            options: DirectionOptions(ignore: .none, oneDimensional: .vectorNorm))
        let cw = LandscapeDirections.random(weights: w, layout: Toy.layout, seed: 1, count: 1,
                                            options: DirectionOptions(ignore: .none, oneDimensional: .copyWeights))
        for slot in Toy.layout.slots where slot.role.isOneDimensional {
            let wn = rowNorm(w, slot.offset, slot.count)
            XCTAssertEqual(rowNorm(vn.vectors[0], slot.offset, slot.count), wn, accuracy: 1e-5 * wn, slot.name)
            XCTAssertEqual(Array(cw.vectors[0][slot.range]), Array(w[slot.range]), slot.name)
        }
        // Matrices are treated the same way under both rules.
        let m = Toy.layout.slot("dense.weight")
        XCTAssertEqual(Array(vn.vectors[0][m.range]), Array(cw.vectors[0][m.range]))
    }

    func testLayerNormalizationScalesWholeTensor() {
        let w = Toy.weights
        let d = LandscapeDirections.random(weights: w, layout: Toy.layout, seed: 2, count: 1,
                                           options: DirectionOptions(normalization: .layer)).vectors[0]
        for slot in Toy.layout.slots where !slot.role.isOneDimensional {
            let wn = rowNorm(w, slot.offset, slot.count)
            XCTAssertEqual(rowNorm(d, slot.offset, slot.count), wn, accuracy: 1e-5 * wn, slot.name)
        }
    }

    func testGivenVectorsAreNormalizedOrKept() {
        let w = Toy.weights
        let v: [Float] = (0..<Toy.layout.count).map { Float($0 % 7) - 3 }
        let kept = LandscapeDirections.fromVectors([v], weights: w, layout: Toy.layout)
        XCTAssertEqual(kept.vectors[0], v)
        XCTAssertNil(kept.seed)
        let asDouble = v.map { Double($0) }
        let normed = LandscapeDirections.fromVectors([asDouble, asDouble], weights: w, layout: Toy.layout,
                                                     normalization: DirectionOptions())
        XCTAssertEqual(normed.count, 2)
        let m = Toy.layout.slot("embed")
        for r in 0..<m.rows {
            let start = m.offset + r * m.rowLength
            XCTAssertEqual(rowNorm(normed.vectors[1], start, m.rowLength), rowNorm(w, start, m.rowLength), accuracy: 1e-5)
        }
        XCTAssertEqual(normed.vectors[0][Toy.layout.slot("dense.bias").offset], 0)
        XCTAssertNotEqual(normed.hash, kept.hash)
    }

    func testZeroRowsStayZero() {
        // A zero direction row (or zero weight row) stays zero instead of becoming NaN.
        var layout = ParameterLayout()
        layout.append("w", shape: [2, 2], role: .matrix)
        let d = DirectionNormalizer(layout: layout, options: DirectionOptions()).normalize([0, 0, 1, 1], weights: [1, 1, 0, 0])
        XCTAssertEqual(d, [0, 0, 0, 0])
    }

    func testDirectionFileRoundTripAndCorruptionIsDetected() throws {
        let dir = Toy.tempDir("dirfile")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("dirs.bin")
        let dirs = Toy.directions()
        try DirectionFile.write(dirs, to: url)
        let back = try DirectionFile.read(url, layout: Toy.layout)
        XCTAssertEqual(back, dirs)
        XCTAssertEqual(try DirectionFile.readHeader(url).hash, dirs.hash)
        // Seeds use all 64 bits; JSON must not round them through Double.
        let bigSeed = LandscapeDirections.random(weights: Toy.weights, layout: Toy.layout, seed: UInt64.max - 12)
        try DirectionFile.write(bigSeed, to: url)
        XCTAssertEqual(try DirectionFile.read(url).seed, UInt64.max - 12)
        try DirectionFile.write(dirs, to: url)

        var other = ParameterLayout()
        other.append("w", shape: [Toy.layout.count], role: .bias)
        XCTAssertThrowsError(try DirectionFile.read(url, layout: other)) { error in
            XCTAssertTrue("\(error)".contains("layout"), "\(error)")
        }

        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 2] ^= 0x40  // flip one bit in the last float
        try bytes.write(to: url)
        XCTAssertThrowsError(try DirectionFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("hash"), "\(error)")
        }
        try bytes.prefix(bytes.count - 4).write(to: url)
        XCTAssertThrowsError(try DirectionFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("payload"), "\(error)")
        }
    }

    func testLoadOrCreateReusesTheFileAndRefusesADifferentRequest() throws {
        let dir = Toy.tempDir("loadorcreate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("dirs.bin")
        let first = try LandscapeDirections.loadOrCreate(at: url, weights: Toy.weights, layout: Toy.layout, seed: 5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path))
        // Different weights: the stored directions are still used (the file wins, by design).
        let again = try LandscapeDirections.loadOrCreate(at: url, weights: Toy.weights.map { $0 * 2 }, layout: Toy.layout, seed: 5)
        XCTAssertEqual(again, first)
        XCTAssertThrowsError(try LandscapeDirections.loadOrCreate(at: url, weights: Toy.weights, layout: Toy.layout, seed: 6)) {
            XCTAssertTrue("\($0)".contains("seed 6"), "\($0)")
        }
        XCTAssertThrowsError(try LandscapeDirections.loadOrCreate(at: url, weights: Toy.weights, layout: Toy.layout, seed: 5,
                                                                  options: DirectionOptions(ignore: .none)))
    }
}
