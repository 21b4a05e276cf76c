import Foundation
import TILandscape
import TILandscapeToy
import XCTest

final class GridTests: XCTestCase {
    func testSquareGridIncludesEndpointsAndExactZero() throws {
        let g = try LandscapeGrid.parse("41")
        XCTAssertEqual(g.pointCount, 41 * 41)
        let xs = g.x.coordinates
        XCTAssertEqual(xs.first, -1)
        XCTAssertEqual(xs.last, 1)
        XCTAssertEqual(xs[20], 0)
        XCTAssertEqual(xs[20].sign, .plus)
        XCTAssertEqual(g.y, g.x)
    }

    func testZeroIsSnappedWhenArithmeticMissesIt() throws {
        // -0.3 + 3·(0.1) is not exactly 0 in floating point.
        let a = try GridAxis(parsing: "-0.3:0.7:11")
        XCTAssertEqual(a.coordinate(3), 0)
        XCTAssertEqual(a.coordinates.last, 0.7)
        XCTAssertEqual(a.coordinates.filter { $0 == 0 }.count, 1)
    }

    func testNonSquareGridOneDimensionalAndSinglePointAxes() throws {
        let g = try LandscapeGrid.parse("-2:1:4,-0.5:0.5:3")
        XCTAssertEqual(g.x.coordinates, [-2, -1, 0, 1])
        XCTAssertEqual(g.y?.coordinates, [-0.5, 0, 0.5])
        XCTAssertEqual(g.pointCount, 12)
        XCTAssertTrue(g.coordinates(of: 5) == (-1, 0))

        let single = try GridAxis(parsing: "0.25:0.25:1")
        XCTAssertEqual(single.coordinates, [0.25])

        let line = try LandscapeGrid.parse("-1:1:5", oneDimensional: true)
        XCTAssertNil(line.y)
        XCTAssertEqual(line.pointCount, 5)

        let interp = try LandscapeGrid.parse("11", kind: .interpolation)
        XCTAssertEqual(interp.x.coordinates.first, 0)
        XCTAssertEqual(interp.x.coordinates.last, 1)
        XCTAssertNil(interp.y)
    }

    func testBadGridsAreRejected() {
        for bad in ["0", "1:-1:5", "a:b:c", "1:2", "3,4,5", "-1:1:0"] {
            XCTAssertThrowsError(try LandscapeGrid.parse(bad), bad)
        }
        XCTAssertThrowsError(try LandscapeGrid.parse("5,5", kind: .interpolation))
    }

    /// Sizes that would overflow or exhaust memory, and ranges too narrow for their points, are
    /// refused with what was expected; a record on disk is decoded through the same checks.
    func testHostileGridsAreRefusedWithTheLimit() throws {
        let cases: [(String, ClosedRange<Double>, String)] = [
            ("3037000500", -1...1, "expected 1...100001 points per axis, got 3037000500"),
            ("100000", -1...1, "expected at most 1002001 points in all, got 100000 × 100000"),
            ("41", -1e-300...1e-300, "expected distinct coordinates: 41 points over -1e-300:1e-300 collide (at 0.0)"),
        ]
        for (text, range, reason) in cases {
            XCTAssertThrowsError(try LandscapeGrid.parse(text, range: range)) { XCTAssertTrue(($0 as? GridError)?.reason.hasPrefix(reason) ?? false, "\($0)") }
        }
        XCTAssertEqual(try LandscapeGrid.parse("1001").pointCount, 1_002_001)
        XCTAssertEqual(try LandscapeGrid.parse("3", range: -1e-9...1e-9).x.coordinates, [-1e-9, 0, 1e-9])
        let hostile = Data(#"{"kind": "directions", "x": {"min": -1, "max": 1, "num": 3037000500}}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(LandscapeGrid.self, from: hostile)) { XCTAssertTrue("\($0)".contains("points per axis"), "\($0)") }
    }

    func testInterpolationEndpointsReproduceTheVectorsExactly() {
        let a: [Float] = [1, 2, 3.3], b: [Float] = [-1, 0.5, 7.1]
        let space = LandscapeSpace.between(a, b)
        XCTAssertEqual(space.parameters(x: 0, y: nil), a)
        XCTAssertEqual(space.parameters(x: 1, y: nil), b)
        XCTAssertEqual(space.parameters(x: 0.5, y: nil), [0, 1.25, 5.2])
    }

    func testCentreOfDirectionSpaceIsTheCheckpoint() {
        let space = LandscapeSpace.around(Toy.weights, directions: Toy.directions())
        XCTAssertEqual(space.parameters(x: 0, y: 0), Toy.weights)
        let p = space.parameters(x: 1, y: 0)
        let d = Toy.directions().vectors[0]
        for i in p.indices { XCTAssertEqual(p[i], Toy.weights[i] + d[i], accuracy: 1e-6) }
    }
}
