/// How a step chooses which masked positions to commit (the reference samplers' `alg`/`remasking`).
///
/// Raw values are the reference names, used by ``SamplingParameters``'s `Codable` form and the CLI.
public enum RemaskingAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    /// Dream `origin`: each masked position is committed independently with probability `1 − s/t`.
    case origin
    /// Dream `maskgit_plus`: the `k` positions with the highest `p(x0)`.
    case maskgitPlus = "maskgit_plus"
    /// Dream `topk_margin`: the `k` positions with the largest `p(top1) − p(top2)`.
    case topkMargin = "topk_margin"
    /// Dream `entropy`: the `k` positions with the largest `Σ p log p` (lowest entropy).
    case entropy
    /// LLaDA `low_confidence`: the `k` positions with the highest untempered `p(x0)`.
    case lowConfidence = "low_confidence"
    /// LLaDA `random`: `k` positions chosen uniformly at random.
    case random
}
