// Curvature figure data of a study (see TIPlots/CurvatureFigures.swift): each QAT run's
// curvature.csv split into one file per objective (a curve per objective), and its
// minibatch-eigs.csv, under the study's curvature/ folder.
import Foundation
import TIData

extension FigureAssembly {
    /// Writes curvature/curvature-<mode>-<objective>.csv and curvature/minibatch-<mode>.csv for the
    /// runs that tracked curvature; files of an earlier collection are replaced. Returns the files written.
    @discardableResult
    public static func collectCurvature(runs: [(mode: String, dir: URL)], into study: URL) throws -> [URL] {
        let out = study.appendingPathComponent("curvature")
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: out.path)) ?? [] where name.hasSuffix(".csv") {
            try? fm.removeItem(at: out.appendingPathComponent(name))
        }
        var written: [URL] = []
        for (mode, dir) in runs {
            let curvature = dir.appendingPathComponent(CurvatureFiles.curvature)
            if fm.fileExists(atPath: curvature.path) {
                let table = try CSVTable.read(curvature)
                let objectives = try table.strings("objective")
                var seen: [String] = []
                for o in objectives where !seen.contains(o) { seen.append(o) }
                for objective in seen {
                    let rows = table.rows.indices.filter { objectives[$0] == objective }.map { table.rows[$0].joined(separator: ",") }
                    let url = out.appendingPathComponent("curvature-\(mode)-\(objective).csv")
                    try AtomicFile.write(([table.header.joined(separator: ",")] + rows).joined(separator: "\n") + "\n", to: url)
                    written.append(url)
                }
            }
            let minibatch = dir.appendingPathComponent(CurvatureFiles.minibatch)
            if fm.fileExists(atPath: minibatch.path) {
                let url = out.appendingPathComponent("minibatch-\(mode).csv")
                try AtomicFile.write(Data(contentsOf: minibatch), to: url)
                written.append(url)
            }
        }
        return written
    }
}
