// Figures a landscape folder holds besides its surfaces: the trajectory over the contours
// (`trajectory-path.dat`, or a `trajectory-panels.txt` listing runs that share θ₀, drawn side by
// side) and the roughness bars (`roughness-bars.dat`, mean and 95 % interval per mode).
import Foundation
import TIData

extension FigureSpec {
    /// Contours of each panel's loss grid with its path drawn over them (one colour scale).
    public static func landscapeTrajectory(name: String, gridFiles: [URL], paths: [URL], titles: [String],
                                           title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: gridFiles, titles: titles)
        guard paths.count == gridFiles.count else { throw PlotError.noData(figure: name, reason: "\(paths.count) paths for \(gridFiles.count) grids") }
        v["paths"] = try paths.map { try path($0, figure: name) }.joined(separator: " ")
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "landscape-trajectory.gp", variables: v)
    }

    /// Roughness metrics per mode as bars with their intervals.
    public static func roughness(name: String, data: URL, title: String? = nil) throws -> FigureSpec {
        var v = ["data": try path(data, figure: name)]
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "roughness.gp", variables: v)
    }
}

extension RunDirectoryScan {
    /// The trajectory and roughness figures of landscape folder `name`.
    func landscapeExtras(_ name: String, dir: URL, modes: [String]?) -> [Result<FigureSpec, SkippedFigure>] {
        var out: [Result<FigureSpec, SkippedFigure>] = []
        if fm.fileExists(atPath: dir.appendingPathComponent("roughness-bars.dat").path) {
            out.append(catching("\(name)-roughness") { try FigureSpec.roughness(name: "\(name)-roughness", data: dir.appendingPathComponent("roughness-bars.dat")) })
        }
        let panelList = dir.appendingPathComponent("trajectory-panels.txt")
        var panels: [URL] = []
        if fm.fileExists(atPath: panelList.path) {
            let text = (try? String(contentsOf: panelList, encoding: .utf8)) ?? ""
            panels = text.split(whereSeparator: \.isNewline).map { URL(fileURLWithPath: String($0)) }
        } else if fm.fileExists(atPath: dir.appendingPathComponent("trajectory-path.dat").path) {
            panels = [dir]
        }
        guard !panels.isEmpty else { return out }
        out.append(catching("\(name)-trajectory") {
            let grids = try panels.map { panel -> URL in
                let mode = try modes.flatMap(\.first) ?? panelMode(panel)
                let grid = panel.appendingPathComponent("grid-\(mode)-loss.dat")
                guard fm.fileExists(atPath: grid.path), fm.fileExists(atPath: panel.appendingPathComponent("trajectory-path.dat").path) else {
                    throw SkippedFigure(reason: "\(name)-trajectory: \(panel.lastPathComponent) has no finished loss grid and path yet")
                }
                return grid
            }
            return try FigureSpec.landscapeTrajectory(name: "\(name)-trajectory", gridFiles: grids,
                                                      paths: panels.map { $0.appendingPathComponent("trajectory-path.dat") },
                                                      titles: panels.map(panelTitle))
        })
        return out
    }

    /// The run a panel draws: "landscape-count-trajectory-qat-count-KD-seed1" → "qat-count-KD-seed1".
    private func panelTitle(_ dir: URL) -> String {
        let name = dir.lastPathComponent
        return name.range(of: "-trajectory-").map { String(name[$0.upperBound...]) } ?? name
    }

    /// The first mode of a panel's landscape (its grid files are named by it).
    private func panelMode(_ dir: URL) throws -> String {
        struct Modes: Decodable { struct Config: Decodable { var modes: [String] }; var config: Config }
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("landscape.json")),
              let first = (try? JSONDecoder().decode(Modes.self, from: data))?.config.modes.first else {
            throw SkippedFigure(reason: "\(dir.lastPathComponent): no readable landscape.json")
        }
        return first
    }
}
