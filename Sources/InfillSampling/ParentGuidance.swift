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
    /// Logits whose softmax is the guided distribution over the first `count` tokens.
    ///
    /// Non-null tokens get `p ∝ p_denoiser(v) · p_parent(v)^weight`, scaled to the mass
    /// `1 − p_denoiser(null)`; the mask token is excluded; tokens the parent lacks get −∞. When
    /// the two share no token with mass left, the denoiser's own logits are returned.
    static func combine(
        denoiser: ArraySlice<Float>, parent: ArraySlice<Float>, weight: Float, count n: Int,
        maskTokenID: TokenID, nullTokenID: TokenID
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
        guard let (cMax, cSum) = SamplingMath.maxAndExpSum(out), cMax.isFinite else { return d }
        let nullLog = null >= 0 ? d[null] - dLog : -.infinity
        let rest = null >= 0 ? Foundation.log(max(0, 1 - SamplingMath.exp(nullLog))) : 0
        let shift = rest - (cMax + Foundation.log(cSum))
        for v in out.indices where out[v] > -.infinity { out[v] += shift }
        if null >= 0 { out[null] = nullLog }
        return out
    }
}
