import TIData
import XCTest

final class MetricsTests: XCTestCase {
    // preds [1,0,1,1,0] vs labels [1,1,0,1,0]: tp=2 fp=1 fn=1 tn=1.
    let preds = [1, 0, 1, 1, 0]
    let labels = [1, 1, 0, 1, 0]

    func testAccuracy() {
        XCTAssertEqual(Metrics.accuracy(predictions: preds, labels: labels), 0.6, accuracy: 1e-15)
        XCTAssertEqual(Metrics.accuracy(predictions: [], labels: []), 0)
    }

    func testF1() {
        XCTAssertEqual(Metrics.f1(predictions: preds, labels: labels), 4.0 / 6.0, accuracy: 1e-15)
        // Positive class 0: tp=1 fp=1 fn=1.
        XCTAssertEqual(Metrics.f1(predictions: preds, labels: labels, positive: 0), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Metrics.f1(predictions: [0, 0], labels: [0, 0]), 0)
    }

    func testMatthews() {
        // (tp·tn − fp·fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = (2−1)/sqrt(3·3·2·2) = 1/6.
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: preds, labels: labels), 1.0 / 6.0, accuracy: 1e-15)
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: labels, labels: labels), 1, accuracy: 1e-15)
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: labels.map { 1 - $0 }, labels: labels), -1, accuracy: 1e-15)
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: [1, 1, 1, 1, 1], labels: labels), 0)
        XCTAssertEqual(Metrics.matthewsCorrelation(predictions: [], labels: []), 0)
    }

    func testPearson() {
        // sxy=11, sxx=5, syy=26.
        XCTAssertEqual(Metrics.pearson([1, 2, 3, 4], [2, 4, 5, 9]), 11 / (130.0).squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(Metrics.pearson([1, 2, 3], [6, 4, 2]), -1, accuracy: 1e-15)
        XCTAssertEqual(Metrics.pearson([1, 1, 1], [1, 2, 3]), 0)
    }

    func testSpearmanWithTies() {
        XCTAssertEqual(Metrics.averageRanks([10, 20, 20, 5, 20]), [2, 4, 4, 1, 4])
        // Ranks x=[1,2.5,2.5,4], y=[1,3,2,4] → 4.5/sqrt(22.5) (scipy: 0.9486832980505138).
        XCTAssertEqual(Metrics.spearman([1, 2, 2, 3], [1, 3, 2, 4]), 0.9486832980505138, accuracy: 1e-14)
        // Monotone but non-linear: Spearman 1, Pearson below 1.
        let x: [Double] = [1, 2, 3, 4, 5], y = x.map { $0 * $0 * $0 }
        XCTAssertEqual(Metrics.spearman(x, y), 1, accuracy: 1e-15)
        XCTAssertLessThan(Metrics.pearson(x, y), 0.99)
    }
}
