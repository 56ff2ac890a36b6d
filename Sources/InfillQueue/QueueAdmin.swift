import Foundation
import InfillService
import Logging
import PostgresNIO

/// What `infill queue status` shows: jobs by state, the leases held, and the dead letters.
package struct QueueReport: Sendable, Equatable {
    package var queued = 0
    /// Queued jobs whose retry delay has not passed yet.
    package var waitingForRetry = 0
    package var running = 0
    /// Running jobs whose lease ran out (their worker is gone; the next claim takes them).
    package var expired = 0
    package var doneUnexported = 0
    package var done = 0
    package var failedUnexported = 0
    package var failed = 0
    /// Leases held, by daemon (`host:pid`).
    package var workers: [String: Int] = [:]
    /// The newest dead letters.
    package var deadLetters: [DeadLetter] = []

    /// A job that failed for good, with the error it was dead-lettered for.
    package struct DeadLetter: Sendable, Equatable {
        package var id: Int64
        package var name: String
        package var error: String
    }

    /// The report as the lines `infill queue status` prints.
    package var lines: [String] {
        var lines = [
            "queued \(queued)" + (waitingForRetry > 0 ? " (\(waitingForRetry) waiting to retry)" : ""),
            "running \(running)" + (expired > 0 ? " (\(expired) with an expired lease)" : ""),
            "done \(done)" + (doneUnexported > 0 ? " (\(doneUnexported) not exported yet)" : ""),
            "failed \(failed)" + (failedUnexported > 0 ? " (\(failedUnexported) not exported yet)" : ""),
        ]
        for (owner, count) in workers.sorted(by: { $0.key < $1.key }) { lines.append("worker \(owner): \(count) running") }
        for letter in deadLetters { lines.append("dead letter \(letter.id) \(letter.name): \(letter.error)") }
        return lines
    }
}

/// The operators' commands (`infill queue status|retry|purge`), each one short connection.
package enum QueueAdmin {
    /// Counts by state, leases by daemon, and the newest `limit` dead letters.
    package static func status(_ address: QueueAddress, limit: Int = 20, logger: Logger) async throws(ConfigurationError) -> QueueReport {
        try await withLink(address, logger: logger) { connection in
            var report = QueueReport()
            let counts = try await connection.query("""
                SELECT state, exported_at IS NOT NULL, run_after > now(), coalesce(lease_until < now(), false), count(*)
                FROM infill_jobs GROUP BY 1, 2, 3, 4
                """, logger: logger)
            for try await (state, exported, later, expired, count) in counts.decode((String, Bool, Bool, Bool, Int64).self) {
                let n = Int(count)
                switch state {
                case "queued":
                    report.queued += n
                    if later { report.waitingForRetry += n }
                case "running":
                    report.running += n
                    if expired { report.expired += n }
                case "done":
                    report.done += n
                    if !exported { report.doneUnexported += n }
                default:
                    report.failed += n
                    if !exported { report.failedUnexported += n }
                }
            }
            let leases = try await connection.query(
                "SELECT lease_owner, count(*) FROM infill_jobs WHERE state = 'running' AND lease_until >= now() GROUP BY 1",
                logger: logger)
            for try await (owner, count) in leases.decode((String, Int64).self) { report.workers[owner] = Int(count) }
            let letters = try await connection.query(
                "SELECT id, name, coalesce(error, '') FROM infill_jobs WHERE state = 'failed' ORDER BY id DESC LIMIT \(limit)",
                logger: logger)
            for try await (id, name, error) in letters.decode((Int64, String, String).self) {
                report.deadLetters.append(QueueReport.DeadLetter(id: id, name: name, error: error))
            }
            return report
        }
    }

    /// Queues dead letters again with fresh attempts: those named (document names or job ids), or
    /// all of them when `selection` is empty. Returns how many.
    package static func retry(_ address: QueueAddress, selection: [String], logger: Logger) async throws(ConfigurationError) -> Int {
        let ids = selection.compactMap { Int64($0) }
        let all = selection.isEmpty
        return try await withLink(address, logger: logger) { connection in
            let rows = try await connection.query("""
                UPDATE infill_jobs
                SET state = 'queued', attempts = 0, lost = 0, run_after = now(), error = NULL, error_report = NULL,
                    finished_at = NULL, finished_by = NULL, exported_at = NULL, exported_as = NULL
                WHERE state = 'failed' AND (\(all) OR name = ANY(\(selection)) OR id = ANY(\(ids)))
                RETURNING id
                """, logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            return count
        }
    }

    /// Deletes exported jobs (done and dead letters, their results are in the outbox and failed/);
    /// with `everything`, every job, exported or not. Returns how many.
    package static func purge(_ address: QueueAddress, everything: Bool, logger: Logger) async throws(ConfigurationError) -> Int {
        try await withLink(address, logger: logger) { connection in
            let rows = try await connection.query(
                "DELETE FROM infill_jobs WHERE \(everything) OR exported_at IS NOT NULL RETURNING id", logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            return count
        }
    }

    private static func withLink<T: Sendable>(
        _ address: QueueAddress, logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(ConfigurationError) -> T {
        try await QueueService.prepare(address, logger: logger)
        let link = QueueLink(address: address, logger: logger)
        do {
            let result = try await link.run(body)
            await link.close()
            return result
        } catch {
            await link.close()
            throw ConfigurationError(
                file: "queue \(address)", message: QueueDiagnosis.describe(error), hint: QueueDiagnosis.hint(error, address: address))
        }
    }
}
