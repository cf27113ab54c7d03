/// Counts the writes a master may acknowledge without its slave — from the moment it asks the coordinator
/// for a slave until the write is in its own files — and holds catch-ups back until there are none.
///
/// Why: the coordinator answers "no live slave" and moves every slave to a new sync generation; a slave that
/// returns right then catches up in that generation. If the master served the catch-up before its solo write
/// reached its files (the answer can even arrive after the catch-up request), the slave would report itself
/// caught up without the write, could be promoted, and the acknowledged write would be lost.
/// Serving a catch-up only when no solo write is under way closes that window: a write that asks the
/// coordinator later is told about the returning slave and mirrored to it.
struct SoloWrites {
  private var underWay = 0
  private var waiting: [CheckedContinuation<Void, Never>] = []

  mutating func begin() {
    underWay += 1
  }

  mutating func end() {
    underWay -= 1
    guard underWay == 0 else { return }
    let resumed = waiting
    waiting = []
    for continuation in resumed { continuation.resume() }
  }

  var isIdle: Bool { underWay == 0 }

  mutating func wait(_ continuation: CheckedContinuation<Void, Never>) {
    if underWay == 0 { continuation.resume() } else { waiting.append(continuation) }
  }
}

extension Server {
  /// Returns once no write that may be acknowledged without the slave is between its coordinator lookup and
  /// its local append.
  func waitForSoloWrites() async {
    while !soloWrites.isIdle {
      await withCheckedContinuation { soloWrites.wait($0) }
    }
  }
}
