import SNSBench
import Testing

@Test func benchTargetLinks() {
  #expect(String(describing: BenchPlaceholder.self) == "BenchPlaceholder")
}
