import Foundation
import TIData
import XCTest

enum Fixture {
    static func url(_ relative: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(relative)
    }

    static func data(_ relative: String) throws -> Data { try Data(contentsOf: url(relative)) }

    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tidata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Asserts `body` throws a DataError whose one-line description contains every fragment.
func assertDataError<R>(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> R) {
    do {
        _ = try body()
        XCTFail("expected DataError containing \(fragments)", file: file, line: line)
    } catch let e as DataError {
        let text = e.description
        XCTAssertFalse(text.contains("\n"), "error is not one line: \(text)", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(text.contains(f), "'\(text)' does not mention '\(f)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected DataError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}
