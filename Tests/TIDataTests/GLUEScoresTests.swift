// GLUE scores against values sklearn 1.9.1 / scipy 1.17.1 computed (matthews_corrcoef, f1_score,
// accuracy_score, pearsonr, spearmanr), committed as numbers, and against hand computation.
import TIData
import XCTest

final class GLUEScoresTests: XCTestCase {
    /// Labels and predictions laid out from a confusion matrix (rows: true class, columns: predicted).
    private func fromConfusion(_ c: [[Int]]) -> (labels: [Int], predictions: [Int]) {
        var labels: [Int] = [], predictions: [Int] = []
        for (i, row) in c.enumerated() {
            for (j, n) in row.enumerated() {
                labels += [Int](repeating: i, count: n); predictions += [Int](repeating: j, count: n)
            }
        }
        return (labels, predictions)
    }

    func testMulticlassMatthewsIsGorodkinsRK() {
        let (y, p) = fromConfusion([[5, 2, 1], [1, 6, 3], [2, 0, 4]])
        // By hand: s = 24, c = 15, t = (8, 10, 6), p = (8, 8, 8):
        // (15·24 − 192) / √((576 − 192)(576 − 200)) = 168 / √(384·376).
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: p, labels: y), 168 / (384.0 * 376).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: p, labels: y), 0.4421297585599225, accuracy: 1e-15)  // sklearn
        let (y4, p4) = fromConfusion([[3, 1, 0, 2], [0, 4, 1, 0], [2, 0, 0, 1], [1, 1, 0, 5]])
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: p4, labels: y4), 0.40591863859305716, accuracy: 1e-15)
        // A class that is never predicted (column 2 all zero).
        let (y5, p5) = fromConfusion([[3, 1, 0, 2], [0, 4, 0, 1], [2, 0, 0, 1], [1, 1, 0, 5]])
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: p5, labels: y5), 0.4039065831975391, accuracy: 1e-15)
        // The multiclass scores of MNLI's three classes carry it (and no F1).
        let s = GLUEMetric.classification(predictions: p, labels: y, numLabels: 3)
        XCTAssertEqual(Set(s.keys), [.accuracy, .matthews])
        XCTAssertEqual(s[.matthews]!, 0.4421297585599225, accuracy: 1e-15)
        XCTAssertEqual(s[.accuracy]!, 15.0 / 24, accuracy: 1e-15)
    }

    func testF1WithoutPositives() {
        // sklearn f1_score (zero_division default): 0.0 in all three.
        XCTAssertEqual(Metrics.f1(predictions: [0, 0, 0], labels: [0, 0, 0]), 0)  // no positives anywhere
        XCTAssertEqual(Metrics.f1(predictions: [0, 0, 0], labels: [1, 1, 0]), 0)  // none predicted
        XCTAssertEqual(Metrics.f1(predictions: [1, 0, 0], labels: [0, 0, 0]), 0)  // none true
        let s = GLUEMetric.classification(predictions: [0, 0, 0], labels: [0, 0, 0], numLabels: 2)
        XCTAssertEqual(s[.f1], 0)
        XCTAssertEqual(s[.accAndF1], 0.5)  // (1 + 0) / 2
        XCTAssertEqual(s[.matthews], 0)    // constant marginals: undefined, reported as 0 like sklearn
    }

    func testAccuracyF1AndTheirMean() {
        let labels = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1], predictions = [1, 0, 0, 1, 1, 0, 1, 0, 0, 1]
        let s = GLUEMetric.classification(predictions: predictions, labels: labels, numLabels: 2)
        XCTAssertEqual(Set(s.keys), [.accuracy, .f1, .accAndF1, .matthews])
        XCTAssertEqual(s[.accuracy]!, 0.7, accuracy: 1e-15)
        XCTAssertEqual(s[.f1]!, 0.7272727272727273, accuracy: 1e-15)       // tp 4, fp 1, fn 2: 8/11
        XCTAssertEqual(s[.accAndF1]!, 0.7136363636363636, accuracy: 1e-15)
        // Binary MCC by the two-class formula: (4·3 − 1·2)/√(5·6·4·5) = 10/√600.
        XCTAssertEqual(s[.matthews]!, 10 / 600.0.squareRoot(), accuracy: 1e-15)
    }

    func testPearsonSpearmanWithTiesAndTheirMean() {
        let x: [Double] = [0.5, 2.0, 2.0, 3.5, 1.0, 2.0, 4.0, 0.5], t: [Double] = [1.0, 2.5, 1.5, 4.0, 1.0, 3.0, 4.0, 0.0]
        let s = GLUEMetric.regression(outputs: x, targets: t)
        XCTAssertEqual(Set(s.keys), [.pearson, .spearman, .corr])
        XCTAssertEqual(s[.pearson]!, 0.9358965963312348, accuracy: 1e-14)   // scipy pearsonr
        XCTAssertEqual(s[.spearman]!, 0.9504755800871905, accuracy: 1e-14)  // scipy spearmanr (ties in x and t)
        XCTAssertEqual(s[.corr]!, 0.9431860882092127, accuracy: 1e-14)
    }

    func testReportedScoresAndHeadlines() {
        XCTAssertEqual(GLUEMetric.reported(numLabels: 1), [.pearson, .spearman, .corr])
        XCTAssertEqual(GLUEMetric.reported(numLabels: 2), [.accuracy, .f1, .accAndF1, .matthews])
        XCTAssertEqual(GLUEMetric.reported(numLabels: 3), [.accuracy, .matthews])
        // The seeds' names for the combined scores.
        XCTAssertEqual([GLUEMetric.accAndF1, .corr, .matthews].map(\.rawValue), ["acc_and_f1", "corr", "mcc"])
        // Every task's headline is among the scores its head computes.
        for task in GLUETask.allCases {
            XCTAssertTrue(task.metrics.allSatisfy(GLUEMetric.reported(numLabels: task.numLabels).contains), "\(task)")
        }
    }
}
