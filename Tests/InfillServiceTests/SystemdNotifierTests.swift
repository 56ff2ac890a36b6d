import Foundation
import Synchronization
import Testing
@testable import InfillService
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notify socket, drained on its own thread (as
/// systemd does) so the notify socket's small queue never fills.
final class NotifySocketListener: @unchecked Sendable {
    let fd: Int32
    /// The `$NOTIFY_SOCKET` value for it.
    let address: String
    private let received = Mutex<[String]>([])
    private let open = Atomic<Bool>(true)

    init(abstract: Bool, folder: TemporaryFolder) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        fd = descriptor
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let name = abstract ? "infill-test-\(UUID().uuidString.prefix(8))" : folder.path + "/notify.sock"
        var bytes = Array(name.utf8)
        if abstract { bytes.insert(0, at: 0) }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(2 + bytes.count + (abstract ? 0 : 1))
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        address = abstract ? "@" + name : name
        guard result == 0 else { throw SystemError("bind", name) }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while self.open.load(ordering: .relaxed) {
                let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    let message = String(decoding: buffer[0..<n], as: UTF8.self)
                    self.received.withLock { $0.append(message) }
                }
            }
            close(descriptor)
        }
        thread.start()
    }

    deinit { open.store(false, ordering: .relaxed) }

    /// Every datagram received so far (after a short pause for stragglers).
    func receive() -> [String] {
        usleep(150_000)
        return received.withLock { $0 }
    }
}

@Suite struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsDatagramsToPathAndAbstractSockets(abstract: Bool) throws {
        let folder = TemporaryFolder()
        let listener = try NotifySocketListener(abstract: abstract, folder: folder)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        #expect(notifier.isEnabled)
        notifier.ready(status: "queued 0")
        notifier.reloading()
        notifier.stopping()
        let messages = listener.receive()
        #expect(messages.count == 3)
        #expect(messages.first == "READY=1\nSTATUS=queued 0")
        #expect(messages.dropFirst().first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true)
        #expect(messages.last == "STOPPING=1")
    }

    @Test func doesNothingOutsideSystemd() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.send("READY=1"))
        #expect(notifier.watchdogIntervalMicroseconds == nil)
    }

    @Test func watchdogIntervalIsHalfTheTimeoutAndOnlyForThisProcess() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000"]).watchdogIntervalMicroseconds == 2_000_000)
        let mine = SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(mine.watchdogIntervalMicroseconds == 2_000_000)
        let other = SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"])
        #expect(other.watchdogIntervalMicroseconds == nil)
    }
}

@Suite struct ServiceLogHandlerTests {
    @Test func oneLineWithTheDocumentFirstAndQuotedValues() {
        let line = ServiceLogHandler.render(
            level: .info, message: "document done",
            metadata: ["seconds": "1.20", "result": "done", "document": "a b.md", "pipeline": "brief", "output": "a.md"],
            timestamp: nil)
        #expect(line == "info document done document=\"a b.md\" pipeline=brief result=done seconds=1.20 output=a.md")
    }
}
