import InfillService
import PostgresNIO

/// Renders what went wrong with the queue's database as one line, and says what to do about it.
enum QueueDiagnosis {
    /// The innermost error: a transaction's failing step, not the transaction wrapper.
    static func unwrap(_ error: any Error) -> any Error {
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.beginError ?? transaction.closureError ?? transaction.commitError {
                return unwrap(inner)
            }
        }
        return error
    }

    /// The server's SQLSTATE, when the server answered with an error.
    static func sqlState(_ error: any Error) -> String? {
        (unwrap(error) as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// One line: the server's message (with its detail and hint) or the connection problem.
    static func describe(_ error: any Error) -> String {
        let error = unwrap(error)
        if let schema = error as? QueueSchemaTooNew { return schema.description }
        guard let psql = error as? PSQLError else { return "\(error)" }
        if let info = psql.serverInfo, let message = info[.message] {
            var text = message
            if let detail = info[.detail] { text += ": \(detail)" }
            if let state = info[.sqlState] { text += " (SQLSTATE \(state))" }
            return text
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            if let underlying = psql.underlying {
                let text = "\(underlying)"
                for (needle, reason) in [("Connection refused", "connection refused"), ("timed out", "timed out"),
                                         ("No route", "no route to host"), ("resolve", "the host name does not resolve")]
                where text.contains(needle) {
                    return "cannot connect: \(reason)"
                }
                return "cannot connect: \(text)"
            }
            return "the connection was closed"
        case .sslUnsupported: return "the server does not offer TLS (sslmode=require)"
        case .authMechanismRequiresPassword: return "the server asks for a password and the URL has none"
        default:
            if let underlying = psql.underlying { return "\(psql.code): \(underlying)" }
            return "\(psql.code)"
        }
    }

    /// What to do about a start-up failure, for the error's hint.
    static func hint(_ error: any Error, address: QueueAddress) -> String {
        let state = sqlState(error) ?? ""
        if state.hasPrefix("28") { return "check the user and password in 'queue:'" }
        if state.hasPrefix("3D") { return "create the database first: createdb -O \(address.user) \(address.database)" }
        if state == "42501" {
            return "the user needs CREATE on the database's public schema once (GRANT CREATE ON SCHEMA public TO \(address.user)), "
                + "then SELECT, INSERT, UPDATE, DELETE on infill_jobs and infill_schema"
        }
        if unwrap(error) is QueueSchemaTooNew { return "every daemon sharing a queue must run the same or a newer infill" }
        return "check the host and port in 'queue:' and that PostgreSQL is running and reachable from this machine"
    }
}
