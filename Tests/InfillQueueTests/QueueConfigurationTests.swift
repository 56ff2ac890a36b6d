import InfillService
import Testing

/// `queue:`, `roles:` and `queue_lease_s:` in infill.yaml, and the URL parser (no server needed).
@Suite struct QueueConfigurationTests {
    @Test func absentQueueMeansTheLocalSpoolWithAllRoles() throws {
        let configuration = try ConfigurationLoader.parse("workers: 2\n", file: "infill.yaml")
        #expect(configuration.queue == nil)
        #expect(configuration.roles == Set(DaemonRole.allCases))
        #expect(configuration.queueLeaseSeconds == 30)
    }

    @Test func queueRolesAndLeaseAreRead() throws {
        let configuration = try ConfigurationLoader.parse("""
            queue: postgresql://infill:s%40cret@db.example:6543/jobs?sslmode=require
            roles: [work, export]
            queue_lease_s: 5
            """, file: "infill.yaml")
        let address = try #require(configuration.queue)
        #expect(address == QueueAddress(host: "db.example", port: 6543, user: "infill", password: "s@cret", database: "jobs", tls: .require))
        #expect(configuration.roles == [.work, .export])
        #expect(configuration.queueLeaseSeconds == 5)
        // The password never shows.
        #expect(address.description == "postgresql://infill@db.example:6543/jobs?sslmode=require")
        #expect(try ConfigurationLoader.parse("roles: watch\n", file: "f").roles == [.watch])
        #expect(try ConfigurationLoader.parse("queue: off\n", file: "f").queue == nil)
    }

    @Test func defaultsFollowLibpq() throws {
        let address = try QueueAddress(parsing: "postgres://infill@localhost/infill")
        #expect(address.port == 5432)
        #expect(address.tls == .prefer)
        #expect(address.password == nil)
    }

    @Test(arguments: [
        ("mysql://u@h/d", "must start with postgresql://"),
        ("postgresql://h/d", "names no user"),
        ("postgresql://u@h", "names no database"),
        ("postgresql://u@h/d?sslmode=always", "sslmode must be disable, prefer or require"),
        ("postgresql://u@h/d?timeout=3", "unknown parameter 'timeout'"),
    ])
    func badURLsAreRefusedWithTheirLine(url: String, reason: String) {
        #expect {
            _ = try ConfigurationLoader.parse("workers: 1\nqueue: \(url)\n", file: "infill.yaml")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.line == 2 && error.description.contains(reason)
                && error.description.contains("postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
    }

    @Test func unknownRoleGetsASuggestion() {
        #expect {
            _ = try ConfigurationLoader.parse("roles: [watch, wrok]\n", file: "infill.yaml")
        } throws: { error in
            "\(error)".contains("not 'wrok'") && "\(error)".contains("did you mean 'work'?")
        }
    }
}
