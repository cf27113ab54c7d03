import Testing

@Test func simulationPlaceholder() { #expect(Bool(true)) }
