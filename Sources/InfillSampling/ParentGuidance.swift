import Foundation
import InfillModel

/// Parent guidance: the denoiser's distribution at one position multiplied by the autoregressive
/// parent's next-token distribution there (a product of experts).
///
/// The denoiser sees both sides of a gap but was adapted on little data; the parent it was
/// initialised from sees only the left side but keeps the fluency of its full pre-training.
/// Their product keeps tokens both find likely, which is what fluent text that fits the right
/// context needs. The null token keeps the denoiser's own probability: to the parent it would
/// end the whole document, not a field.
enum ParentGuidance {
    /// Share of the most likely token's probability a token needs for ``combine``'s context
    /// contrast to apply to it (the plausibility bar of contrastive decoding): tokens the
    /// guided distribution finds unlikely stay unlikely, however little the context-free parent
    /// expects them.
    static let contrastPlausibility: Float = 0.1

    /// Logits whose softmax is the guided distribution over the first `count` tokens.
    ///
    /// Non-null tokens get `p ∝ p_denoiser(v) · p_parent(v)^weight`, scaled to the mass
    /// `1 − p_denoiser(null)`; the mask token is excluded; tokens the parent lacks get −∞. When
    /// the two share no token with mass left, the denoiser's own logits are returned.
    ///
    /// With `plain` (the parent's distribution after the field's own text alone, without the
    /// document) and a `contrast` α > 0, every token within ``contrastPlausibility`` of the top
    /// is further multiplied by `(p_parent(v) / p_plain(v))^α`: context-aware decoding (Shi et
    /// al., 2023). Words any document could have next ("The team has been working…") lose to
    /// words this document makes likely.
    static func combine(
        denoiser: ArraySlice<Float>, parent: ArraySlice<Float>, weight: Float, count n: Int,
        maskTokenID: TokenID, nullTokenID: TokenID, plain: ArraySlice<Float>? = nil, contrast: Float = 0
    ) -> [Float] {
        var d = [Float](denoiser.prefix(n))
        if maskTokenID >= 0 && Int(maskTokenID) < d.count { d[Int(maskTokenID)] = -.infinity }
        guard let (dMax, dSum) = SamplingMath.maxAndExpSum(d) else { return d }
        let parentCount = min(d.count, parent.count)
        guard let (pMax, pSum) = SamplingMath.maxAndExpSum(Array(parent.prefix(parentCount))) else { return d }
        let dLog = dMax + Foundation.log(dSum), pLog = pMax + Foundation.log(pSum)
        let null = nullTokenID >= 0 && Int(nullTokenID) < d.count ? Int(nullTokenID) : -1
        var out = [Float](repeating: -.infinity, count: d.count)
        let base = parent.startIndex
        for v in 0..<parentCount where v != null && d[v] > -.infinity {
            out[v] = (d[v] - dLog) + weight * (parent[base + v] - pLog)
        }
        if contrast > 0, let plain, let (qMax, qSum) = SamplingMath.maxAndExpSum(Array(plain.prefix(parentCount))) {
            let qLog = qMax + Foundation.log(qSum)
            let top = out.max() ?? -.infinity
            let bar = top + Foundation.log(contrastPlausibility)
            let q = plain.startIndex
            for v in 0..<min(parentCount, plain.count) where out[v] >= bar && out[v] > -.infinity {
                out[v] += contrast * ((parent[base + v] - pLog) - (plain[q + v] - qLog))
            }
        }
        guard let (cMax, cSum) = SamplingMath.maxAndExpSum(out), cMax.isFinite else { return d }
        let nullLog = null >= 0 ? d[null] - dLog : -.infinity
        let rest = null >= 0 ? Foundation.log(max(0, 1 - SamplingMath.exp(nullLog))) : 0
        let shift = rest - (cMax + Foundation.log(cSum))
        for v in out.indices where out[v] > -.infinity { out[v] += shift }
        if null >= 0 { out[null] = nullLog }
        return out
    }
}
