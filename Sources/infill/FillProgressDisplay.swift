import Foundation
import InfillDocuments
import InfillModel
import InfillService
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The progress line `infill fill` redraws in place on a terminal: the fields being filled,
/// fields done, steps done/total, forward passes and an ETA.
///
/// Drawn on stderr only when it is a terminal (and `--quiet` is not given); at most every
/// ``interval`` seconds, so a fast model does not flood the terminal. ``finish()`` erases it.
final class FillProgressDisplay: Sendable {
    /// Seconds between redraws.
    static let interval = 0.1

    private struct State {
        var lastDraw = -Double.infinity
        var drawn = false
    }

    private let started = ContinuousClock.now
    private let state = Mutex(State())
    private let columns: Int

    /// A display when stderr is a terminal and not `quiet`; nil otherwise (nothing is drawn).
    static func forStandardError(quiet: Bool) -> FillProgressDisplay? {
        guard !quiet, isatty(2) == 1 else { return nil }
        var size = winsize()
        let columns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return FillProgressDisplay(columns: columns)
    }

    init(columns: Int) {
        self.columns = max(20, columns)
    }

    /// Redraws the line for `update` (unless the last redraw was too recent; the last step of a
    /// canvas is always drawn).
    func show(_ update: FillProgress) {
        let elapsed = seconds(since: started)
        let last = update.step >= update.totalSteps
        let due = state.withLock { state -> Bool in
            guard last || elapsed - state.lastDraw >= Self.interval else { return false }
            state.lastDraw = elapsed
            state.drawn = true
            return true
        }
        guard due else { return }
        let line = Self.line(update, elapsed: elapsed)
        Self.write("\r\u{1B}[K" + String(line.prefix(columns - 1)))
    }

    /// Erases the line, so the summary (or an error) starts on a clean one.
    func finish() {
        let drawn = state.withLock { state in
            defer { state.drawn = false }
            return state.drawn
        }
        if drawn { Self.write("\r\u{1B}[K") }
    }

    /// `infill: step 12/32 · fields 1/3 · 57 forward passes · 3.1 s, ETA 6 s · body, closing`: the
    /// field names last, as a narrow terminal cuts the line's end.
    static func line(_ update: FillProgress, elapsed: Double) -> String {
        let progress = DocumentProgress(
            fields: update.fields, fieldsDone: update.fieldsDone, fieldsTotal: update.fieldsTotal,
            step: update.step, totalSteps: update.totalSteps, forwardPasses: update.forwardPasses)
        let fraction = progress.fraction
        var parts = [
            "infill: step \(update.step)/\(update.totalSteps)",
            "fields \(update.fieldsDone)/\(update.fieldsTotal)",
            "\(update.forwardPasses) forward passes",
        ]
        var time = String(format: "%.1f s", elapsed)
        if fraction > 0, fraction < 1 {
            time += ", ETA " + duration(elapsed * (1 - fraction) / fraction)
        }
        parts.append(time)
        parts.append(update.fields.joined(separator: ", "))
        return parts.joined(separator: " · ")
    }

    /// `6 s`, `2 min 5 s`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole < 60 ? "\(whole) s" : "\(whole / 60) min \(whole % 60) s"
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).inSeconds
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
