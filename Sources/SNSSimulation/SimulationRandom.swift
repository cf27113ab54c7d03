import SNSCore

/// The simulation's only source of randomness: ``SeededRandom`` (SplitMix64), fully determined by its seed.
///
/// Every decision of a run (topology, workload, faults, delays) is drawn from generators derived from the one
/// run seed, so a seed replays byte for byte. `SystemRandomNumberGenerator` is never used.
public struct SimulationRandom: RandomNumberGenerator, Sendable {
  var generator: SeededRandom

  /// A generator whose whole output is decided by `seed`.
  public init(seed: UInt64) { generator = SeededRandom(seed: seed) }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 { generator.next() }

  /// An independent generator for one concern (network, disk, workload), so that adding draws to one concern
  /// does not shift the others.
  mutating func fork(_ salt: UInt64) -> SimulationRandom {
    SimulationRandom(seed: next() ^ (salt &* 0xD6E8_FEB8_6659_FD93))
  }

  /// A uniform integer in `range` (no modulo bias worth caring about at these sizes).
  mutating func int(in range: ClosedRange<Int>) -> Int {
    let width = UInt64(range.upperBound - range.lowerBound) + 1
    return range.lowerBound + Int(next() % width)
  }

  /// True with probability `perMille / 1000`.
  mutating func chance(_ perMille: Int) -> Bool { perMille > 0 && Int(next() % 1000) < perMille }

  /// One element of a non-empty array.
  mutating func pick<T>(_ items: [T]) -> T? {
    items.isEmpty ? nil : items[int(in: 0...(items.count - 1))]
  }

  /// Picks an index by weight; `nil` if every weight is zero.
  mutating func weighted(_ weights: [Int]) -> Int? {
    let total = weights.reduce(0) { $0 + max($1, 0) }
    guard total > 0 else { return nil }
    var roll = int(in: 0...(total - 1))
    for (index, weight) in weights.enumerated() where weight > 0 {
      if roll < weight { return index }
      roll -= weight
    }
    return nil
  }

  /// The elements in an order decided by the generator (Fisher–Yates).
  mutating func shuffled<T>(_ items: [T]) -> [T] {
    var items = items
    guard items.count > 1 else { return items }
    for index in stride(from: items.count - 1, to: 0, by: -1) {
      items.swapAt(index, int(in: 0...index))
    }
    return items
  }
}
