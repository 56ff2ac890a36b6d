import Foundation
import InfillService
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL server for one test: `initdb` in a temporary folder, `pg_ctl start` on
/// a free port of 127.0.0.1, stopped and removed at the end.
///
/// initdb refuses to run as root, so under root (CI) the cluster belongs to `nobody` and every
/// server command runs through `runuser -u nobody`. The binaries are looked for in
/// `$INFILL_PG_BIN` (only there when it is set), else `/usr/lib/postgresql/*/bin` (newest first)
/// and `$PATH`.
final class PostgresCluster: @unchecked Sendable {
    let root: String
    let port: Int
    private let bin: String
    private var running = false

    /// The folder holding initdb, pg_ctl and postgres, or nil when there is none.
    static let binaries: String? = {
        // $INFILL_PG_BIN, when set, is the only place looked in (also a way to check the skip).
        if let env = ProcessInfo.processInfo.environment["INFILL_PG_BIN"] {
            return ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: env + "/" + $0) } ? env : nil
        }
        var candidates: [String] = []
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return candidates.first { folder in
            ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: folder + "/" + $0) }
        }
    }()

    /// Why the queue tests are skipped, when they are.
    static let skipReason: Comment =
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in $INFILL_PG_BIN, /usr/lib/postgresql/*/bin or $PATH: install Debian's postgresql package (make deps does) to run the queue tests"

    /// True when a cluster can be started here.
    static var available: Bool { binaries != nil }

    /// Creates and starts a cluster; the commands wait on their own thread, not the test's.
    static func start() async throws -> PostgresCluster {
        try await offThread { try PostgresCluster() }
    }

    /// Creates and starts a cluster (blocking).
    private init() throws {
        guard let bin = Self.binaries else { throw ClusterError("no PostgreSQL binaries") }
        self.bin = bin
        // Under root the server runs as nobody, who must reach the folder: /tmp, not a private TMPDIR.
        let base = geteuid() == 0 ? "/tmp" : FileManager.default.temporaryDirectory.path
        root = base + "/infill-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)
        if geteuid() == 0, let nobody = getpwnam("nobody") {
            chown(root, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
        }
        port = try Self.freePort()
        try serverCommand("initdb", ["-D", root + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        try startBlocking()
        running = true
    }

    deinit { stop() }

    /// `postgresql://postgres@127.0.0.1:PORT/DATABASE`.
    func url(database: String = "postgres", user: String = "postgres") -> String {
        "postgresql://\(user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    func address(database: String = "postgres", user: String = "postgres") -> QueueAddress {
        try! QueueAddress(parsing: url(database: database, user: user))
    }

    /// Starts the server again after ``stopServer()`` and waits until it accepts connections.
    func start() async throws {
        try await Self.offThread { try self.startBlocking() }
        running = true
    }

    private func startBlocking() throws {
        try serverCommand("pg_ctl", [
            "-D", root + "/data", "-l", root + "/server.log", "-w", "-t", "60",
            "-o", "-p \(port) -k \(root) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start",
        ])
    }

    /// Stops the server (fast shutdown: connections are cut, as in a restart).
    func stopServer() async throws {
        try await Self.offThread { try self.serverCommand("pg_ctl", ["-D", self.root + "/data", "-m", "fast", "-w", "stop"]) }
        running = false
    }

    /// Stops the server and removes the cluster.
    func stop() {
        if running { try? serverCommand("pg_ctl", ["-D", root + "/data", "-m", "immediate", "-w", "stop"]) }
        running = false
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs SQL with `psql` as the superuser (creating databases and roles for a test).
    func psql(_ sql: String, database: String = "postgres") async throws {
        let psql = bin + "/psql"
        let tool = FileManager.default.isExecutableFile(atPath: psql) ? psql : "psql"
        let port = self.port
        try await Self.offThread { try self.run(tool, ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                asServerUser: false) }
    }

    /// Runs blocking work (a command and its waitpid) on a thread of its own, so the few threads
    /// of Swift's cooperative pool stay free for the daemons under test.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// The server's log (for failure messages).
    var log: String { (try? String(contentsOfFile: root + "/server.log", encoding: .utf8)) ?? "" }

    private func serverCommand(_ tool: String, _ arguments: [String]) throws {
        try run(bin + "/" + tool, arguments, asServerUser: true)
    }

    /// Runs a command to completion with posix_spawn and waitpid (Foundation's Process can miss
    /// the exit of a command whose children live on, as pg_ctl's server does), output to a file.
    private func run(_ tool: String, _ arguments: [String], asServerUser: Bool) throws {
        var argv = asServerUser && geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "nobody", "--", tool] + arguments : [tool] + arguments
        if !argv[0].hasPrefix("/") { argv.insert("/usr/bin/env", at: 0) }
        let output = root + "/.command-\(UUID().uuidString.prefix(6)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw ClusterError("cannot start \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: output)
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exited == 0 else {
            throw ClusterError("\(tool) \(arguments.joined(separator: " ")) exited \(exited): \(text)\n\(log)")
        }
    }

    /// A port of 127.0.0.1 that nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ClusterError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A cluster command that failed.
struct ClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

