import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the inbox watcher saw.
public enum WatchEvent: Sendable, Equatable {
    /// A file was moved in or closed after writing (a hint: confirm with a settle check).
    case file(String)
    /// A file was opened (for reading or writing: inotify does not say which).
    case opened(String)
    /// A file was closed (after writing or not).
    case closed(String)
    /// A file was moved out or removed.
    case gone(String)
    /// Events were lost (the kernel queue overflowed): rescan the whole folder.
    case rescan
}

/// An inotify watch on one folder (moves in and out, opens, closes, removals), read on its own
/// thread with poll(2) so ``stop()`` takes effect within a fraction of a second.
///
/// inotify is a hint, not the truth: the caller scans after ``start(_:)`` returns and rescans
/// periodically; events for ignored names (dotfiles, `*.tmp`, `*.part`) are dropped here.
public final class InotifyWatcher: Sendable {
    public let directory: String
    private let descriptor: Int32
    private let stopped = Atomic<Bool>(false)

    /// Adds the watch. Throws a ``SpoolError/setup(_:)`` when inotify is unavailable (then use
    /// `watch: poll`), including ENOSPC at the `max_user_watches` limit.
    public init(directory: String) throws(SpoolError) {
        self.directory = directory
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            throw SpoolError.setup("inotify is not available (\(SystemError("inotify_init1", directory).description)); set 'watch: poll'")
        }
        let mask = UInt32(IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_ONLYDIR)
        if inotify_add_watch(fd, directory, mask) < 0 {
            let error = SystemError("inotify_add_watch", directory)
            close(fd)
            throw SpoolError.setup("cannot watch the inbox (\(error.description)); set 'watch: poll' or raise fs.inotify.max_user_watches")
        }
        self.descriptor = fd
    }

    /// Starts the reader thread; `handler` is called on it for every event.
    public func start(_ handler: @escaping @Sendable (WatchEvent) -> Void) {
        let thread = Thread { [self] in
            self.readLoop(handler)
        }
        thread.name = "infill-inotify"
        thread.start()
    }

    /// Stops the reader thread and closes the inotify descriptor.
    public func stop() {
        stopped.store(true, ordering: .releasing)
    }

    private func readLoop(_ handler: @Sendable (WatchEvent) -> Void) {
        defer { close(descriptor) }
        // Room for many events; each is a 16-byte header plus a NUL-padded name of up to NAME_MAX.
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        let headerSize = MemoryLayout<inotify_event>.size
        while !stopped.load(ordering: .acquiring) {
            var pfd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 200)
            if ready <= 0 { continue }
            let count = read(descriptor, buffer, capacity)
            if count <= 0 {
                if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                handler(.rescan)
                return
            }
            var offset = 0
            while offset + headerSize <= count {
                let header = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                let nameLength = Int(header.len)
                if header.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    handler(.rescan)
                } else if nameLength > 0, offset + headerSize + nameLength <= count {
                    let bytes = UnsafeRawBufferPointer(start: buffer + offset + headerSize, count: nameLength)
                    let end = bytes.firstIndex(of: 0) ?? nameLength
                    let name = String(decoding: bytes[0..<end], as: UTF8.self)
                    if !SpoolLayout.isIgnored(name) {
                        for event in Self.events(header.mask, name) { handler(event) }
                    }
                }
                offset += headerSize + nameLength
            }
        }
    }

    /// The events one inotify record stands for, in order.
    static func events(_ mask: UInt32, _ name: String) -> [WatchEvent] {
        var events: [WatchEvent] = []
        if mask & UInt32(IN_OPEN) != 0 { events.append(.opened(name)) }
        if mask & UInt32(IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) != 0 { events.append(.closed(name)) }
        if mask & UInt32(IN_MOVED_FROM | IN_DELETE) != 0 { events.append(.gone(name)) }
        if mask & UInt32(IN_MOVED_TO | IN_CLOSE_WRITE) != 0 { events.append(.file(name)) }
        return events
    }
}
