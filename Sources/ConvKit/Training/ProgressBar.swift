import Foundation
import Synchronization

/// A one-line terminal progress bar for training: epoch, bar, loss, accuracy, throughput, ETA.
public struct ProgressBar: Sendable {
    /// Characters in the bar itself.
    public var width: Int

    public init(width: Int = 24) { self.width = width }

    /// The line for a batch, e.g.
    /// `epoch 2/5 [██████████░░░░░░░░░░░░░░]  40/63 loss 0.1432 acc 95.3% 812 img/s ETA 0:42`.
    public func line(for p: BatchProgress) -> String {
        let filled = p.batchesPerEpoch == 0 ? width : width * p.batch / p.batchesPerEpoch
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let digits = String(p.batchesPerEpoch).count
        let batch = String(repeating: " ", count: Swift.max(digits - String(p.batch).count, 0)) + String(p.batch)
        return "epoch \(p.epoch)/\(p.totalEpochs) [\(bar)] \(batch)/\(p.batchesPerEpoch) "
            + String(format: "loss %.4f acc %5.1f%% %.0f img/s ETA %@", p.loss, p.accuracy * 100, p.samplesPerSecond,
                     Self.duration(p.secondsRemaining))
    }

    /// "m:ss" or "h:mm:ss".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// An event handler that redraws the bar on standard error (when it is a terminal) and
    /// ends each epoch with a summary line (validation accuracy when there is one).
    public static func terminal(width: Int = 24) -> (TrainingEvent) -> Void {
        let bar = ProgressBar(width: width)
        let interactive = isatty(2) != 0  // in logs (CI, pipes) only the epoch lines are written
        return { event in
            switch event {
            case let .batch(p):
                guard interactive else { return }
                FileHandle.standardError.write(Data(("\r" + bar.line(for: p) + "\u{1B}[K").utf8))
            case let .epoch(r):
                var text = String(format: (interactive ? "\r" : "") + "epoch %d: loss %.4f, train accuracy %.2f%%", r.epoch, r.trainLoss, r.trainAccuracy * 100)
                if let v = r.validation { text += String(format: ", test loss %.4f, test accuracy %.2f%%", v.loss, v.accuracy * 100) }
                FileHandle.standardError.write(Data((text + String(format: " (%.1f s)", r.seconds) + (interactive ? "\u{1B}[K" : "") + "\n").utf8))
            }
        }
    }

    /// A download's line, e.g. `resnet18-f37072fd.pth [██████░░░░]  11.2/44.7 MB`.
    public func line(name: String, received: Int64, total: Int64?) -> String {
        let mb = { (bytes: Int64) in String(format: "%.1f", Double(bytes) / 1_000_000) }
        guard let total, total > 0 else { return "\(name) \(mb(received)) MB" }
        let filled = Int(Swift.min(Swift.max(Double(received) / Double(total), 0), 1) * Double(width))
        return "\(name) [" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] \(mb(received))/\(mb(total)) MB"
    }

    /// A progress handler for a download that redraws on standard error when it is a terminal
    /// (at most every 1 %, so a fast local transfer does not flood it).
    public static func downloading(_ name: String, width: Int = 24) -> @Sendable (Int64, Int64?) -> Void {
        let bar = ProgressBar(width: width)
        guard isatty(2) != 0 else { return { _, _ in } }
        let last = Mutex(-1)
        return { received, total in
            let step = total.map { Int(received * 100 / Swift.max($0, 1)) } ?? Int(received >> 20)
            guard last.withLock({ let changed = $0 != step; $0 = step; return changed }) else { return }
            FileHandle.standardError.write(Data(("\r" + bar.line(name: name, received: received, total: total) + "\u{1B}[K").utf8))
        }
    }
}
