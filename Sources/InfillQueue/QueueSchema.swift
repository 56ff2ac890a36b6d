import Logging
import PostgresNIO

/// The shared queue's tables, created and migrated by whichever daemon starts first.
///
/// `infill_schema` holds the version; each migration runs in one transaction under an advisory
/// lock, so daemons starting together migrate once. A database whose schema is newer than this
/// build is refused (an older daemon must not write rows it does not understand).
package enum QueueSchema {
    /// The newest schema version this build knows.
    package static let version = 1

    /// The key of the advisory lock taken while migrating (`infill` in ASCII).
    static let migrationLock: Int64 = 0x696e_6669_6c6c

    /// Migration N (1-based) takes the schema from version N-1 to N.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE infill_jobs (
                id bigserial PRIMARY KEY,
                name text NOT NULL,
                contents bytea NOT NULL,
                size bigint NOT NULL,
                modified_ns bigint NOT NULL,
                sha256 text NOT NULL,
                pipeline text NOT NULL,
                state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
                attempts integer NOT NULL DEFAULT 0,
                lost integer NOT NULL DEFAULT 0,
                run_after timestamptz NOT NULL DEFAULT now(),
                lease_token uuid,
                lease_owner text,
                lease_until timestamptz,
                output_name text,
                document bytea,
                report bytea,
                error text,
                error_report bytea,
                quarantined boolean NOT NULL DEFAULT false,
                enqueued_at timestamptz NOT NULL DEFAULT now(),
                enqueued_by text NOT NULL,
                finished_at timestamptz,
                finished_by text,
                exported_at timestamptz,
                exported_as text
            )
            """,
            // One job per inbox file version: a watcher that died between its insert and taking
            // the file inserts nothing the second time.
            "CREATE UNIQUE INDEX infill_jobs_source ON infill_jobs (name, size, modified_ns, sha256)",
            "CREATE INDEX infill_jobs_claimable ON infill_jobs (id) WHERE state IN ('queued', 'running')",
            "CREATE INDEX infill_jobs_unexported ON infill_jobs (id) WHERE state IN ('done', 'failed') AND exported_at IS NULL",
        ],
    ]

    /// Creates or migrates the tables to ``version``; returns the version found before.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS infill_schema (version integer NOT NULL)", logger: logger)
            var found = 0
            for try await version in try await connection.query("SELECT version FROM infill_schema", logger: logger).decode(Int.self) {
                found = max(found, version)
            }
            guard found <= version else { throw QueueSchemaTooNew(found: found) }
            for step in found..<version {
                for statement in migrations[step] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            if found < version {
                try await connection.query("DELETE FROM infill_schema", logger: logger)
                try await connection.query("INSERT INTO infill_schema (version) VALUES (\(version))", logger: logger)
            }
            return found
        }
    }
}

/// The database holds a schema newer than this build.
struct QueueSchemaTooNew: Error, CustomStringConvertible {
    var found: Int
    var description: String {
        "the queue's schema is version \(found), newer than this infill's (\(QueueSchema.version)): upgrade infill on this machine"
    }
}
