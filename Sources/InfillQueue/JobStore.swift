import Foundation
import InfillService
import Logging
import PostgresNIO

/// A job a worker claimed: the input and how often it was started before.
package struct ClaimedJob: Sendable, Equatable {
    package var id: Int64
    package var name: String
    package var contents: [UInt8]
    package var pipeline: String
    /// Starts so far, this one included.
    package var attempts: Int
    /// Starts whose lease expired (the worker was killed or cut off), this one's predecessors.
    package var lost: Int
    /// This claim's lease; only its holder may renew it or store a result.
    package var token: UUID
}

/// A finished job waiting for the exporter.
struct ExportableJob: Sendable {
    var id: Int64
    var name: String
    var failed: Bool
    var contents: [UInt8]
    var outputName: String?
    var document: [UInt8]?
    var report: [UInt8]?
    var errorReport: [UInt8]?
    var pipeline: String
    /// Dead-lettered for killing its workers: exported to the quarantine folder, not `failed/`.
    var quarantined: Bool
}

/// Every statement the daemons and `infill queue` run against `infill_jobs`.
///
/// Claims are `SELECT … FOR UPDATE SKIP LOCKED` inside one `UPDATE`, so concurrent workers never
/// wait for each other or take the same job; a claim whose lease ran out is claimable again. Every
/// later change of a claimed job names its lease token, so a worker whose lease was taken over
/// changes nothing.
enum JobStore {
    /// Inserts a job for an inbox file; false when that very file version is already queued.
    static func enqueue(
        _ connection: PostgresConnection, name: String, contents: [UInt8], stamp: FileStamp, pipeline: String,
        by owner: String, logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO infill_jobs (name, contents, size, modified_ns, sha256, pipeline, enqueued_by)
            SELECT v.name, v.contents, v.size, v.modified, encode(sha256(v.contents), 'hex'), v.pipeline, v.owner
            FROM (VALUES (\(name), \(Data(contents)), \(stamp.size), \(stamp.modified), \(pipeline), \(owner)))
                AS v(name, contents, size, modified, pipeline, owner)
            ON CONFLICT (name, size, modified_ns, sha256) DO NOTHING
            RETURNING id
            """, logger: logger)
        var inserted = false
        for try await _ in rows.decode(Int64.self) { inserted = true }
        return inserted
    }

    /// Claims the oldest job that is due, or whose lease expired, for `lease` seconds.
    static func claim(_ connection: PostgresConnection, owner: String, lease: Double, logger: Logger) async throws -> ClaimedJob? {
        let token = UUID()
        let rows = try await connection.query("""
            WITH next AS (
                SELECT id FROM infill_jobs
                WHERE (state = 'queued' AND run_after <= now()) OR (state = 'running' AND lease_until < now())
                ORDER BY id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            )
            UPDATE infill_jobs AS j
            SET state = 'running', attempts = j.attempts + 1,
                lost = j.lost + CASE WHEN j.state = 'running' THEN 1 ELSE 0 END,
                lease_token = \(token), lease_owner = \(owner), lease_until = now() + \(lease) * interval '1 second'
            FROM next
            WHERE j.id = next.id
            RETURNING j.id, j.name, j.contents, j.pipeline, j.attempts, j.lost
            """, logger: logger)
        for try await (id, name, contents, pipeline, attempts, lost) in rows.decode((Int64, String, Data, String, Int32, Int32).self) {
            return ClaimedJob(
                id: id, name: name, contents: Array(contents), pipeline: pipeline, attempts: Int(attempts),
                lost: Int(lost), token: token)
        }
        return nil
    }

    /// Extends a claim by `lease` seconds; false when the claim is no longer this worker's.
    static func renew(_ connection: PostgresConnection, _ job: ClaimedJob, lease: Double, logger: Logger) async throws -> Bool {
        try await changed(connection.query("""
            UPDATE infill_jobs SET lease_until = now() + \(lease) * interval '1 second'
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """, logger: logger))
    }

    /// Stores the filled document and marks the job done, in one statement; false when the claim
    /// was lost (another worker has the job now, and its result will be stored instead).
    static func complete(
        _ connection: PostgresConnection, _ job: ClaimedJob, _ document: ProcessedDocument, by owner: String, logger: Logger
    ) async throws -> Bool {
        try await changed(connection.query("""
            UPDATE infill_jobs
            SET state = 'done', output_name = \(document.outputName), document = \(Data(document.document)),
                report = \(document.report.map { Data($0) }), pipeline = \(document.pipeline),
                error = NULL, error_report = NULL, finished_at = now(), finished_by = \(owner),
                lease_token = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """, logger: logger))
    }

    /// Puts a job back for another attempt after `delay` milliseconds (a transient failure).
    static func retry(
        _ connection: PostgresConnection, _ job: ClaimedJob, delayMilliseconds delay: Int, error: String, logger: Logger
    ) async throws -> Bool {
        try await changed(connection.query("""
            UPDATE infill_jobs
            SET state = 'queued', run_after = now() + \(Double(delay)) * interval '1 millisecond', error = \(error),
                lease_token = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """, logger: logger))
    }

    /// Gives a claim back unfinished (shutdown), without counting the start.
    static func release(_ connection: PostgresConnection, _ job: ClaimedJob, logger: Logger) async throws -> Bool {
        try await changed(connection.query("""
            UPDATE infill_jobs
            SET state = 'queued', attempts = greatest(0, attempts - 1), run_after = now(),
                lease_token = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """, logger: logger))
    }

    /// Dead-letters a job: its error report is stored and the exporter moves it to `failed/`.
    static func fail(
        _ connection: PostgresConnection, _ job: ClaimedJob, _ failure: DocumentFailure, attempts: Int, by owner: String,
        quarantined: Bool = false, logger: Logger
    ) async throws -> Bool {
        let report = failure.errorReport(document: job.name, attempts: attempts)
        return try await changed(connection.query("""
            UPDATE infill_jobs
            SET state = 'failed', error = \(failure.description), error_report = \(Data(report)), quarantined = \(quarantined),
                finished_at = now(), finished_by = \(owner),
                lease_token = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """, logger: logger))
    }

    /// The oldest finished job not exported yet, locked until the surrounding transaction ends
    /// (another exporter skips it meanwhile).
    static func nextExport(_ connection: PostgresConnection, logger: Logger) async throws -> ExportableJob? {
        let rows = try await connection.query("""
            SELECT id, name, state, contents, output_name, document, report, error_report, pipeline, quarantined
            FROM infill_jobs
            WHERE state IN ('done', 'failed') AND exported_at IS NULL
            ORDER BY id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        for try await (id, name, state, contents, outputName, document, report, errorReport, pipeline, quarantined)
            in rows.decode((Int64, String, String, Data, String?, Data?, Data?, Data?, String, Bool).self) {
            return ExportableJob(
                id: id, name: name, failed: state == "failed", contents: Array(contents), outputName: outputName,
                document: document.map(Array.init), report: report.map(Array.init),
                errorReport: errorReport.map(Array.init), pipeline: pipeline, quarantined: quarantined)
        }
        return nil
    }

    /// Records where a job's result was written.
    static func markExported(_ connection: PostgresConnection, id: Int64, as name: String, logger: Logger) async throws {
        try await connection.query(
            "UPDATE infill_jobs SET exported_at = now(), exported_as = \(name) WHERE id = \(id)", logger: logger)
    }

    /// Jobs not finished and exported yet (queued, running, or waiting for the exporter).
    static func pending(_ connection: PostgresConnection, logger: Logger) async throws -> (unfinished: Int, unexported: Int) {
        let rows = try await connection.query("""
            SELECT count(*) FILTER (WHERE state IN ('queued', 'running')),
                   count(*) FILTER (WHERE state IN ('done', 'failed') AND exported_at IS NULL)
            FROM infill_jobs
            """, logger: logger)
        for try await (unfinished, unexported) in rows.decode((Int64, Int64).self) {
            return (Int(unfinished), Int(unexported))
        }
        return (0, 0)
    }

    /// Jobs due now, and jobs waiting for a retry's backoff.
    static func waiting(_ connection: PostgresConnection, logger: Logger) async throws -> (queued: Int, retrying: Int) {
        let rows = try await connection.query("""
            SELECT count(*) FILTER (WHERE run_after <= now()), count(*) FILTER (WHERE run_after > now())
            FROM infill_jobs WHERE state = 'queued'
            """, logger: logger)
        for try await (queued, retrying) in rows.decode((Int64, Int64).self) {
            return (Int(queued), Int(retrying))
        }
        return (0, 0)
    }

    private static func changed(_ rows: PostgresRowSequence) async throws -> Bool {
        var any = false
        for try await _ in rows.decode(Int64.self) { any = true }
        return any
    }
}
