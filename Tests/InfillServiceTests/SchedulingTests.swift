import InfillDiagnostics
import Testing
@testable import InfillService

@Suite struct FairQueueTests {
    @Test func pipelinesTakeTurnsAndKeepTheirOrder() {
        var queue = FairQueue<String>(capacity: 10)
        for name in ["a1", "a2", "a3", "a4"] { queue.push(name, pipeline: "a") }
        for name in ["b1", "b2"] { queue.push(name, pipeline: "b") }
        queue.push("c1", pipeline: "c")
        #expect(queue.drain() == ["a1", "b1", "c1", "a2", "b2", "a3", "a4"])
    }

    @Test func isBounded() {
        var queue = FairQueue<Int>(capacity: 2)
        do { let r = queue.push(1, pipeline: "p"); #expect(r) }
        do { let r = queue.push(2, pipeline: "q"); #expect(r) }
        do { let r = queue.push(3, pipeline: "p"); #expect(!r) }
        #expect(queue.isFull)
        queue.pushAlways(3, pipeline: "p")
        #expect(queue.count == 3)
        #expect(queue.pop() == 1)
        #expect(queue.pop() == 2)
        #expect(queue.pop() == 3)
        #expect(queue.pop() == nil)
    }
}

@Suite struct SettleTrackerTests {
    let ms: Int64 = 1_000_000

    @Test func fileMustStayUnchangedForTheSettleTime() {
        var tracker = SettleTracker(settleMilliseconds: 500)
        var stamp = FileStamp(size: 10, modified: 1, isRegularFile: true)
        do { let r = tracker.observe("a", stamp, now: 0); #expect(!r) }
        do { let r = tracker.observe("a", stamp, now: 400 * ms); #expect(!r) }
        // Still being written: the clock restarts.
        stamp.size = 20
        stamp.modified = 2
        do { let r = tracker.observe("a", stamp, now: 450 * ms); #expect(!r) }
        do { let r = tracker.observe("a", stamp, now: 900 * ms); #expect(!r) }
        do { let r = tracker.observe("a", stamp, now: 950 * ms); #expect(r) }
    }

    @Test func anMtimeChangeAloneRestartsTheClock() {
        var tracker = SettleTracker(settleMilliseconds: 100)
        do { let r = tracker.observe("a", FileStamp(size: 5, modified: 1, isRegularFile: true), now: 0); #expect(!r) }
        do { let r = tracker.observe("a", FileStamp(size: 5, modified: 2, isRegularFile: true), now: 150 * ms); #expect(!r) }
        do { let r = tracker.observe("a", FileStamp(size: 5, modified: 2, isRegularFile: true), now: 250 * ms); #expect(r) }
    }

    @Test func vanishedFilesAreForgotten() {
        var tracker = SettleTracker(settleMilliseconds: 100)
        _ = tracker.observe("a", FileStamp(size: 5, modified: 1, isRegularFile: true), now: 0)
        do { let r = tracker.observe("a", nil, now: 200 * ms); #expect(!r) }
        #expect(!tracker.contains("a"))
    }

    @Test func zeroSettleIsImmediate() {
        var tracker = SettleTracker(settleMilliseconds: 0)
        do { let r = tracker.observe("a", FileStamp(size: 5, modified: 1, isRegularFile: true), now: 0); #expect(r) }
    }

    @Test func filesThatKeepChangingGiveTheirSlotsUpToWaitingOnes() {
        var tracker = SettleTracker(settleMilliseconds: 100, capacity: 2, patienceMilliseconds: 500)
        var size: Int64 = 0
        // a and b change at every look; c is complete but has to wait for a slot.
        let churning: (String) -> FileStamp? = { name in
            FileStamp(size: name == "c" ? 1 : size, modified: 0, isRegularFile: true)
        }
        #expect(tracker.admit(["a", "b", "c"], now: 0, stamp: churning) == ["a", "b"])
        for step in 1...5 {
            size += 1
            let now = Int64(step) * 100 * ms
            for name in tracker.names { _ = tracker.observe(name, churning(name), now: now) }
            // Past the patience (500 ms), the oldest churner is benched and c gets its slot.
            #expect(tracker.admit(["c"], now: now, stamp: churning) == (step < 5 ? [] : ["c"]))
        }
        #expect(tracker.contains("c") && tracker.count == 2)
        do { let r = tracker.observe("c", churning("c"), now: 600 * ms); #expect(r) }
        tracker.forget("c")
        // The benched churner comes back after names never benched.
        #expect(tracker.admit(["a", "d"], now: 700 * ms, stamp: churning) == ["d"])
    }

    @Test func aSettledFileWaitingForQueueRoomKeepsItsSlot() {
        var tracker = SettleTracker(settleMilliseconds: 100, capacity: 1, patienceMilliseconds: 200)
        let stamp = FileStamp(size: 1, modified: 1, isRegularFile: true)
        tracker.admit(["a"], now: 0) { _ in stamp }
        do { let r = tracker.observe("a", stamp, now: 150 * ms); #expect(r) }
        #expect(tracker.admit(["b"], now: 1000 * ms) { _ in stamp }.isEmpty)
        #expect(tracker.contains("a"))
    }
}

@Suite struct RetryPolicyTests {
    @Test func delaysDoubleThenStop() {
        let policy = RetryPolicy(maxAttempts: 4, initialDelayMilliseconds: 100, maximumDelayMilliseconds: 250)
        #expect(policy.delayMilliseconds(afterAttempt: 1) == 100)
        #expect(policy.delayMilliseconds(afterAttempt: 2) == 200)
        #expect(policy.delayMilliseconds(afterAttempt: 3) == 250)
        #expect(policy.delayMilliseconds(afterAttempt: 4) == nil)
    }

    @Test func spoolFailuresAreDeferredForeverWithACappedBackoff() {
        let policy = RetryPolicy(maxAttempts: 2, initialDelayMilliseconds: 100, maximumDelayMilliseconds: 250)
        #expect(policy.deferralDelayMilliseconds(afterAttempt: 1) == 100)
        #expect(policy.deferralDelayMilliseconds(afterAttempt: 2) == 200)
        #expect(policy.deferralDelayMilliseconds(afterAttempt: 1000) == 250)
    }

    @Test func hugeAttemptCountsDoNotOverflow() {
        let policy = RetryPolicy(maxAttempts: 100, initialDelayMilliseconds: 1000, maximumDelayMilliseconds: 60_000)
        #expect(policy.delayMilliseconds(afterAttempt: 90) == 60_000)
    }
}

@Suite struct SuggestionTests {
    @Test func closestConfigurationKeyWithinReach() {
        #expect(EditDistance.suggestion(for: "worker", among: ConfigurationLoader.keys) == "workers")
        #expect(EditDistance.suggestion(for: "setle_ms", among: ConfigurationLoader.keys) == "settle_ms")
        #expect(EditDistance.suggestion(for: "zzzzzzzz", among: ConfigurationLoader.keys) == nil)
    }
}
