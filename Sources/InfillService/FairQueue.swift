/// A bounded queue that interleaves pipelines fairly: one item from each pipeline in turn, so a
/// burst of one kind cannot starve another. Each pipeline keeps first-in, first-out order.
struct FairQueue<Element> {
    /// The most items held at once; the inbox itself is the durable queue for the rest.
    let capacity: Int
    private var lanes: [String: [Element]] = [:]
    /// Pipelines with waiting items, in the order they are served.
    private var rotation: [String] = []
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var isFull: Bool { count >= capacity }
    var isEmpty: Bool { count == 0 }

    /// Adds an item for `pipeline`; false (and nothing added) when the queue is full.
    @discardableResult
    mutating func push(_ element: Element, pipeline: String) -> Bool {
        guard count < capacity else { return false }
        if lanes[pipeline, default: []].isEmpty { rotation.append(pipeline) }
        lanes[pipeline, default: []].append(element)
        count += 1
        return true
    }

    /// Adds an item ignoring the capacity (retries and recovered claims must not be dropped).
    mutating func pushAlways(_ element: Element, pipeline: String) {
        if lanes[pipeline, default: []].isEmpty { rotation.append(pipeline) }
        lanes[pipeline, default: []].append(element)
        count += 1
    }

    /// The next item: the head of the pipeline whose turn it is.
    mutating func pop() -> Element? {
        guard !rotation.isEmpty else { return nil }
        let pipeline = rotation.removeFirst()
        guard var lane = lanes[pipeline], !lane.isEmpty else { return pop() }
        let element = lane.removeFirst()
        lanes[pipeline] = lane.isEmpty ? nil : lane
        if !lane.isEmpty { rotation.append(pipeline) }
        count -= 1
        return element
    }

    /// Removes and returns everything, in serving order.
    mutating func drain() -> [Element] {
        var all: [Element] = []
        while let element = pop() { all.append(element) }
        return all
    }
}
