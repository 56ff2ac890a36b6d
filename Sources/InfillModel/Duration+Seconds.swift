extension Duration {
    /// This duration in seconds, as a `Double` (the one conversion every timing in the project uses).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
