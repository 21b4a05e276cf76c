// Reads GLUE train/dev TSVs the way the GLUE scripts write them: tab-separated, no quoting
// (csv.QUOTE_NONE), so quotes and backslashes are ordinary text and a stray tab shows up as a
// wrong column count. Header rows are checked by name, which catches a file from the wrong task.
import Foundation

public enum GLUEReader {
    /// Reads `<dataDir>/<split>.tsv` (or `<dataDir>/<Task dir>/<split>.tsv` when dataDir is the
    /// glue_data root). Bad rows throw with file and line unless `skipBadRows`, which counts them.
    public static func read(task: GLUETask, split: String, dataDir: URL, skipBadRows: Bool = false) throws
        -> (examples: [TextExample], skipped: Int)
    {
        guard task.splits.contains(split) else {
            throw DataError.mismatch(file: dataDir.path, reason: "\(task.rawValue) has no split '\(split)' (expected one of \(task.splits.joined(separator: ", ")))")
        }
        let fileName = (task == .mnli && split == "dev" ? "dev_matched" : split) + ".tsv"
        var url = dataDir.appendingPathComponent(fileName)
        let nested = dataDir.appendingPathComponent(task.directoryName).appendingPathComponent(fileName)
        if !FileManager.default.fileExists(atPath: url.path) && FileManager.default.fileExists(atPath: nested.path) {
            url = nested
        }
        let data = try InputFile.read(url)
        let parsed = try parse(task: task, data: data, file: url.path, skipBadRows: skipBadRows)
        // A split without examples would train on nothing or report a metric over nothing.
        guard !parsed.examples.isEmpty else {
            let why = parsed.skipped > 0 ? "all \(parsed.skipped) rows were malformed and skipped" : "only a header"
            throw DataError.malformed(file: url.path, reason: "no examples (\(why))")
        }
        return parsed
    }

    /// Parses TSV contents already in memory; `file` labels errors.
    public static func parse(task: GLUETask, data: Data, file: String, skipBadRows: Bool = false) throws
        -> (examples: [TextExample], skipped: Int)
    {
        guard !data.isEmpty else { throw DataError.malformed(file: file, reason: "file is empty") }
        // MNLI's train file is hundreds of MB of parse trees nobody reads: rows are cut into byte
        // ranges first and only the text and label columns are decoded.
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            try parseRows(task: task, bytes: raw.bindMemory(to: UInt8.self), file: file, skipBadRows: skipBadRows)
        }
    }

    private static func parseRows(task: GLUETask, bytes: UnsafeBufferPointer<UInt8>, file: String, skipBadRows: Bool) throws
        -> (examples: [TextExample], skipped: Int)
    {
        let layout = Layout(task)
        var examples: [TextExample] = []
        var skipped = 0
        var columnCount = layout.columnCount
        var lineNumber = 0
        var lineStart = 0
        var columns: [Range<Int>] = []
        while lineStart < bytes.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd + 1
            var s = lineStart, e = lineEnd
            if lineNumber == 1, e - s >= 3, bytes[s] == 0xEF, bytes[s + 1] == 0xBB, bytes[s + 2] == 0xBF { s += 3 }
            if e > s, bytes[e - 1] == 0x0D { e -= 1 }
            columns.removeAll(keepingCapacity: true)
            var c = s
            for i in s..<e where bytes[i] == 0x09 {
                columns.append(c..<i)
                c = i + 1
            }
            columns.append(c..<e)
            lineStart = next

            let row = Row(bytes: bytes, columns: columns)
            do {
                if layout.hasHeader && lineNumber == 1 {
                    try layout.checkHeader(row)
                    columnCount = columns.count
                    continue
                }
                examples.append(try layout.example(row, columnCount: columnCount, task: task))
            } catch let reason as RowError {
                if skipBadRows && !(layout.hasHeader && lineNumber == 1) { skipped += 1; continue }
                throw DataError.malformed(file: file, reason: "line \(lineNumber): \(reason.message)")
            }
        }
        return (examples, skipped)
    }

    /// One line cut into column byte ranges; fields are decoded (and UTF-8 checked) on demand.
    struct Row {
        let bytes: UnsafeBufferPointer<UInt8>
        let columns: [Range<Int>]
        var count: Int { columns.count }

        func field(_ i: Int) throws -> String {
            guard let s = String(validating: UnsafeBufferPointer(rebasing: bytes[columns[i]]), as: UTF8.self) else {
                throw RowError(message: "column \(i + 1) is not valid UTF-8")
            }
            return s
        }
    }

    struct RowError: Error { let message: String }

    /// Column positions of one task's train/dev files. A negative index counts from the end.
    struct Layout {
        var hasHeader = true
        var columnCount: Int? = nil
        var header: [(index: Int, name: String)] = []
        var textA = 0
        var textB: Int? = nil
        var label = -1

        init(_ task: GLUETask) {
            switch task {
            case .cola:
                hasHeader = false; columnCount = 4; textA = 3; label = 1
            case .sst2:
                header = [(0, "sentence"), (1, "label")]; textA = 0; label = 1
            case .mrpc:
                header = [(0, "Quality"), (3, "#1 String"), (4, "#2 String")]; textA = 3; textB = 4; label = 0
            case .stsb:
                header = [(7, "sentence1"), (8, "sentence2"), (9, "score")]; textA = 7; textB = 8; label = 9
            case .qqp:
                header = [(3, "question1"), (4, "question2"), (5, "is_duplicate")]; textA = 3; textB = 4; label = 5
            case .mnli:
                header = [(8, "sentence1"), (9, "sentence2"), (-1, "gold_label")]; textA = 8; textB = 9; label = -1
            case .qnli:
                header = [(1, "question"), (2, "sentence"), (-1, "label")]; textA = 1; textB = 2; label = -1
            case .rte, .wnli:
                header = [(1, "sentence1"), (2, "sentence2"), (-1, "label")]; textA = 1; textB = 2; label = -1
            }
        }

        private func resolve(_ i: Int, _ count: Int) -> Int { i < 0 ? count + i : i }

        func checkHeader(_ row: Row) throws {
            for (i, name) in header {
                let j = resolve(i, row.count)
                guard j >= 0, j < row.count else {
                    throw RowError(message: "expected header column \(j + 1) to be '\(name)', found only \(row.count) columns")
                }
                let found = try row.field(j)
                guard found == name else {
                    throw RowError(message: "expected header column \(j + 1) to be '\(name)', found '\(found)'")
                }
            }
        }

        func example(_ row: Row, columnCount: Int?, task: GLUETask) throws -> TextExample {
            let n = columnCount ?? row.count
            guard row.count == n else { throw RowError(message: "expected \(n) tab-separated columns, found \(row.count)") }
            var ex = TextExample(textA: try row.field(textA), textB: try textB.map { try row.field($0) })
            let raw = try row.field(resolve(label, n))
            if task.isRegression {
                guard let v = Double(raw), v.isFinite else { throw RowError(message: "score '\(raw)' is not a finite number") }
                ex.target = v
            } else {
                guard let i = task.labels.firstIndex(of: raw) else {
                    throw RowError(message: "unknown label '\(raw)' (expected \(task.labels.joined(separator: ", ")))")
                }
                ex.label = i
            }
            return ex
        }
    }
}
