extension Server {
  /// A page of every record this server holds, after `request.after` in file order.
  ///
  /// A page costs its own size, not its files': it is read from where the previous page ended in the file
  /// (``CatchUpCursors``), so a catch-up of a file of any size reads it once. A position this server did not
  /// hand out lately (a pull resumed after a restart) reads that file from its start once, in pages, passing
  /// over the records already sent.
  public func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
    _ = try state.onCatchUpRequest(epoch: request.epoch).get()
    await waitForSoloWrites()
    // Asked again: the role may have changed while waiting.
    let current = try state.onCatchUpRequest(epoch: request.epoch).get()
    var records: [PlacedRecord] = []
    var bytes = 0
    let maxBytes = state.configuration.plantedBugs.contains(.unpagedCatchUp) ? Int.max : request.maxBytes
    for file in try await store.files().sorted() where file != .cursors {
      if let after = request.after, file < after.file { continue }
      // How many of the file's records earlier pages sent, and how many this read passed.
      let sent = request.after.map { $0.file == file ? $0.index : 0 } ?? 0
      var index = sent
      var cursor = sent == 0 ? .start : catchUpCursors.take(CatchUpPosition(file: file, index: sent))
      // Without a cursor for that index (one handed out before a restart), the file is read from its start,
      // once, skipping what was sent; from the next page on a cursor takes over.
      var skipping = 0
      if cursor == nil { (index, skipping) = (0, sent) }
      while true {
        let from = cursor ?? .start
        guard records.isEmpty || bytes < maxBytes else {
          let next = CatchUpPosition(file: file, index: index)
          catchUpCursors.remember(from, at: next)
          return CatchUpReply(epoch: current, records: records, next: next)
        }
        let page = try await store.records(in: file, after: from, maxBytes: max(1, maxBytes - bytes))
        if from.identity != nil, page.next.identity != from.identity {
          // The file was replaced since the cursor was handed out (a slave's rewrite): counted again from
          // its start, as an index into the file as it is now.
          (cursor, skipping, index) = (.start, index, 0)
          continue
        }
        for record in page.records {
          index += 1
          guard index > skipping else { continue }
          bytes += RecordCodec.encodedSize(of: record)
          records.append(PlacedRecord(record, in: file))
        }
        cursor = page.next
        if page.reachedEnd { break }
      }
    }
    return CatchUpReply(epoch: current, records: records, next: nil)
  }
}

/// Where the catch-up pages this server served lately ended in their files: the next page's request names
/// its start by record index (the wire's position), and this finds the byte offset to read from.
struct CatchUpCursors: Sendable {
  private var cursors: [CatchUpPosition: FilePosition] = [:]
  private var order: [CatchUpPosition] = []
  /// A pull asks for one page after another, a slave's next page while it stores this one: a few suffice.
  static let capacity = 8

  mutating func remember(_ cursor: FilePosition, at position: CatchUpPosition) {
    if cursors.updateValue(cursor, forKey: position) == nil { order.append(position) }
    while order.count > Self.capacity { cursors[order.removeFirst()] = nil }
  }

  mutating func take(_ position: CatchUpPosition) -> FilePosition? {
    guard let cursor = cursors.removeValue(forKey: position) else { return nil }
    order.removeAll { $0 == position }
    return cursor
  }
}
