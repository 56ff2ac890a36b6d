#if canImport(Glibc)
import Glibc
#endif

/// Sends `sd_notify` messages (READY=1, STATUS=…, WATCHDOG=1, RELOADING=1, STOPPING=1) to
/// `$NOTIFY_SOCKET` as single datagrams, without libsystemd.
///
/// A leading `/` names a path socket; a leading `@` an abstract one (the `@` becomes a NUL byte and
/// the address length covers exactly the name, as the kernel requires). When the variable is unset
/// every send does nothing; send errors are ignored, as systemd's own client does, and a send never
/// blocks (a full socket queue drops the message rather than stalling the daemon).
public struct SystemdNotifier: Sendable {
    /// The socket address as given in `$NOTIFY_SOCKET`, or nil when not run under systemd.
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC` (when set for this process): how often to send WATCHDOG=1.
    public let watchdogIntervalMicroseconds: UInt64?

    /// Reads `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path.flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
        var interval: UInt64?
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].flatMap(Int32.init).map { $0 == getpid() } ?? true
            if forUs { interval = usec / 2 }
        }
        watchdogIntervalMicroseconds = interval
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Sends one message (several `KEY=value` lines joined by newlines); returns whether it was sent.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        var nameBytes = Array(socketPath.utf8)
        if nameBytes.first == UInt8(ascii: "@") { nameBytes[0] = 0 }
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path socket needs room for its terminating NUL; an abstract name does not.
        guard nameBytes.count < capacity || (nameBytes.first == 0 && nameBytes.count <= capacity) else { return false }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: nameBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        // Abstract: exactly family + name; path: family + name + NUL.
        let length = socklen_t(pathOffset + nameBytes.count + (nameBytes.first == 0 ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let payload = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), socketAddress, length) }
            }
        }
        return sent == payload.count
    }

    /// READY=1 with a status line.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func watchdog() { send("WATCHDOG=1") }
    /// RELOADING=1 with the CLOCK_MONOTONIC timestamp newer systemd needs to match the reload.
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())") }
    public func stopping() { send("STOPPING=1") }

    /// CLOCK_MONOTONIC in microseconds.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
