import InfillService
import Logging
import Synchronization

/// The `watch` role: every tick, lists the inbox; a file whose size and mtime stayed the same for
/// the settle time is read and inserted as a job, and removed from the inbox only once that insert
/// has committed. A file that cannot become a job (too large, not a regular file, a name that is
/// too long or not UTF-8) goes straight to `failed/` with its reason, as in the local spool.
struct QueueWatcher: Sendable {
    let service: QueueService

    private var spool: SpoolDirectory { service.spool }
    private var options: QueueOptions { service.options }
    private var logger: Logger { service.logger }

    /// Runs until the service stops; in batch mode returns after one pass over the inbox.
    func run() async {
        returnLeftovers()
        // inotify only tells which files are held open (a writer pausing mid-file); the inbox is
        // listed every tick all the same.
        let events = WatchedEvents()
        var inotify: InotifyWatcher?
        if options.watch == .inotify, !options.once {
            do {
                let watcher = try InotifyWatcher(directory: spool.layout.inbox)
                watcher.start { event in events.record(event) }
                inotify = watcher
            } catch {
                logger.warning("inotify is not available; files are judged settled by size and mtime alone", metadata: ["error": "\(error)"])
            }
        }
        let link = QueueLink(address: options.address, logger: logger)
        await loop(link, events: events)
        await link.close()
        inotify?.stop()
    }

    private func loop(_ link: QueueLink, events: WatchedEvents) async {
        var seen: [String: (stamp: FileStamp, since: Int64)] = [:]
        var backoff = Backoff()
        let tick = Int64(min(250, max(20, options.settleMilliseconds / 5)))
        while !service.isStopping {
            let now = QueueService.now()
            var names: [String] = []
            do {
                let scan = try spool.scanInbox()
                for raw in scan.undecodable { reject(raw) }
                names = scan.names
            } catch {
                logger.error("cannot list the inbox", metadata: ["error": "\(error)"])
            }
            let held = events.heldOpen()
            let present = Set(names)
            seen = seen.filter { present.contains($0.key) }
            var settled: [String] = []
            for name in names {
                guard let stamp = spool.inboxStamp(name) else { continue }
                if held.contains(name) {
                    seen[name] = (stamp, now)  // held open: the settle time starts again at its close
                } else if let earlier = seen[name], earlier.stamp == stamp {
                    if now - earlier.since >= Int64(options.settleMilliseconds) * 1_000_000 { settled.append(name) }
                } else {
                    seen[name] = (stamp, now)
                    if options.settleMilliseconds == 0 { settled.append(name) }
                }
            }
            var failedToStore = false
            for name in settled where !service.isStopping {
                do {
                    try await enqueue(name, link: link)
                    seen[name] = nil
                    backoff.reset()
                } catch {
                    failedToStore = true
                    guard backoff.failures == 0 || backoff.failures % 20 == 0 else { break }
                    logger.warning("cannot enqueue; the file stays in the inbox and is tried again", metadata: [
                        "document": "\(name)", "queue": "\(options.address)", "error": "\(QueueDiagnosis.describe(error))",
                    ])
                    break
                }
            }
            if options.once && !failedToStore && settled.count == names.count { return }
            let pause: Duration = failedToStore ? backoff.next() : .milliseconds(tick)
            do { try await Task.sleep(for: pause) } catch { return }
        }
    }

    /// Inserts one settled file (or fails it locally), then takes it out of the inbox.
    private func enqueue(_ name: String, link: QueueLink) async throws {
        if name.utf8.count > SpoolLayout.maxNameBytes {
            fail(name, DocumentFailure(
                message: "the file name is \(name.utf8.count) bytes long; at most \(SpoolLayout.maxNameBytes) are allowed",
                file: name, hint: "rename the file to a shorter name and drop it again"))
            return
        }
        guard let stamp = spool.inboxStamp(name) else { return }
        let read = Result { () throws(SpoolError) -> [UInt8] in try spool.readInbox(name, limit: options.maxInputBytes) }
        if case .failure(.refused(_, let refusal)) = read {
            fail(name, DocumentFailure(message: refusal.description, file: name, hint: refusal.hint))
            return
        }
        let contents = try read.get()
        let pipeline = service.pipelineName(name)
        let owner = options.owner, logger = self.logger
        let inserted = try await link.run { connection in
            try await JobStore.enqueue(
                connection, name: name, contents: contents, stamp: stamp, pipeline: pipeline, by: owner, logger: logger)
        }
        let taken = try spool.takeEnqueued(name, expected: contents)
        logger.info("document enqueued", metadata: [
            "document": "\(name)", "pipeline": "\(pipeline)",
            "result": "\(inserted ? "enqueued" : "already enqueued")",
            "inbox": "\(taken ? "removed" : "changed meanwhile, kept for the next pass")",
        ])
        service.counters.withLock { $0.enqueued += inserted ? 1 : 0 }
    }

    /// Files a watcher killed mid-take left in `state/processing/` go back into the inbox: one
    /// already enqueued is found by its unchanged name, size, mtime and hash and only removed, a
    /// newer version is enqueued, and a file that was being failed is failed again.
    private func returnLeftovers() {
        let leftovers = (try? spool.leftoverClaims()) ?? []
        for name in leftovers {
            do {
                if try spool.putBack(name) != nil {
                    logger.notice("returned a file left by an earlier run to the inbox", metadata: ["document": "\(name)"])
                }
            } catch {
                logger.error("cannot return a file left in processing/ to the inbox", metadata: ["document": "\(name)", "error": "\(error)"])
            }
        }
    }

    private func fail(_ name: String, _ failure: DocumentFailure) {
        do {
            guard let failedName = try spool.failInbox(name, failure) else { return }
            logger.error("document failed", metadata: [
                "document": "\(name)", "result": "failed", "failed_as": "\(failedName)", "error": "\(failure)",
            ])
            service.counters.withLock { $0.failed += 1 }
        } catch {
            logger.error("cannot move a document to failed/", metadata: ["document": "\(name)", "error": "\(error)"])
        }
    }

    private func reject(_ raw: [UInt8]) {
        do {
            guard let failedName = try spool.rejectUndecodable(raw) else { return }
            logger.error("document failed", metadata: [
                "document": "\(SpoolLayout.escaped(raw))", "result": "failed", "failed_as": "\(failedName)",
                "error": "the file name is not valid UTF-8",
            ])
            service.counters.withLock { $0.failed += 1 }
        } catch {
            logger.error("cannot move a file whose name is not UTF-8 to failed/", metadata: ["error": "\(error)"])
        }
    }
}

/// The inotify thread's events, shared with the watcher's loop.
final class WatchedEvents: Sendable {
    private let events = Mutex(InboxEvents())

    /// Counts one event (on the inotify thread).
    func record(_ event: WatchEvent) { events.withLock { $0.record(event) } }

    /// The inbox files someone holds open now.
    func heldOpen() -> Set<String> { events.withLock { $0.take() }.open }
}
