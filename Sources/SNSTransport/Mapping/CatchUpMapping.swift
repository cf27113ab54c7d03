import SNSCore

// Paged catch-ups on the wire: a position is a context file's name and a record index.

extension CatchUpRequest {
  var wire: Tinysns_Internal_V1_CatchUpRequest {
    var request = Tinysns_Internal_V1_CatchUpRequest()
    request.epoch = epoch.value
    if let after {
      request.afterFile = after.file.fileName
      request.afterIndex = UInt64(after.index)
    }
    request.maxBytes = UInt32(clamping: maxBytes)
    return request
  }

  init(wire: Tinysns_Internal_V1_CatchUpRequest) throws(SNSError) {
    let maxBytes = wire.maxBytes == 0 ? CatchUpRequest.defaultPageBytes : Int(wire.maxBytes)
    // A caller cannot make this server build a reply over the transport's limit.
    self.init(
      epoch: Epoch(wire.epoch), after: try CatchUpPosition(file: wire.afterFile, index: wire.afterIndex),
      maxBytes: min(maxBytes, CatchUpRequest.defaultPageBytes * 4))
  }
}

extension CatchUpReply {
  var wire: Tinysns_Internal_V1_CatchUpReply {
    var reply = Tinysns_Internal_V1_CatchUpReply()
    reply.epoch = epoch.value
    reply.records = records.map(\.wire)
    if let next {
      reply.nextFile = next.file.fileName
      reply.nextIndex = UInt64(next.index)
    }
    return reply
  }

  init(wire: Tinysns_Internal_V1_CatchUpReply) throws {
    self.init(
      epoch: Epoch(wire.epoch), records: try wire.records.map { try PlacedRecord(wire: $0) },
      next: try CatchUpPosition(file: wire.nextFile, index: wire.nextIndex))
  }
}

extension CatchUpPosition {
  /// `nil` for an empty file name (the start, or no next page).
  init?(file name: String, index: UInt64) throws(SNSError) {
    guard !name.isEmpty else { return nil }
    guard let file = ContextFile(fileName: name), file != .cursors, index <= UInt64(Int32.max) else {
      throw SNSError.invalidArgument("catch-up position '\(name.prefix(40))' #\(index)")
    }
    self.init(file: file, index: Int(index))
  }
}
