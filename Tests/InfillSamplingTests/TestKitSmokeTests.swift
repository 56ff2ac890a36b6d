import InfillModel
import InfillModelTestKit
import Testing

@Suite struct TestKitSmokeTests {
    @Test func byteTokenizerRoundTrips() {
        let t = ByteTokenizer()
        #expect(t.decode(t.encode("héllo <|endoftext|>", parseSpecial: true)) == "héllo ")
    }
}
