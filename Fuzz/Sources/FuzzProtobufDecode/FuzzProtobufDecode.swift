import SNSCore
import SwiftProtobuf

@testable import SNSTransport

/// libFuzzer entry: the first byte picks a request message type, the rest is its protobuf encoding as it
/// would arrive from the network. Each is decoded and mapped to core types exactly as the services do.
///
/// Properties checked (a violation traps): decoding and mapping never crash; whatever the mapping accepts
/// is valid — every record or post taken from the network can be written as one context-file line that
/// reads back as the same record, and user ids in it are positive Int32s (so file names stay integers).
// Unsafe pointer: libFuzzer's C entry point hands us a raw buffer; it is copied before any use.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtobufDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  guard let selector = bytes.first else { return 0 }
  let payload = Array(bytes.dropFirst())
  switch selector % 8 {
  case 0:
    guard let request = try? Tinysns_Internal_V1_MirrorRequest(serializedBytes: payload) else { return 0 }
    for wire in request.records {
      if let placed = try? PlacedRecord(wire: wire) { checkPlaced(placed) }
    }
  case 1:
    guard let batch = try? Tinysns_Internal_V1_SyncBatch(serializedBytes: payload),
      let mapped = try? SyncBatch(wire: batch)
    else { return 0 }
    for user in mapped.users { checkUser(user) }
    for post in mapped.posts { roundTrip(.post(post)) }
    for event in mapped.follows { roundTrip(.following(event)) }
  case 2:
    guard let request = try? Csce438_Request(serializedBytes: payload) else { return 0 }
    if let user = try? UserID(parsing: request.username) { checkUser(user) }
    for argument in request.arguments {
      if let user = try? UserID(parsing: argument) { checkUser(user) }
    }
  case 3:
    guard let request = try? Tinysns_Internal_V1_PostRequest(serializedBytes: payload),
      let text = try? PostText(utf8: Array(request.text), limits: .default)
    else { return 0 }
    let post = Post(
      id: PostID(author: placeholderUser, sequence: 1), time: Timestamp(milliseconds: 0), text: text)
    roundTrip(.post(post))
  case 4:
    guard let message = try? Csce438_Message(serializedBytes: payload),
      let text = try? PostText(message.msg, limits: .default)
    else { return 0 }
    roundTrip(
      .post(
        Post(id: PostID(author: placeholderUser, sequence: 2), time: Timestamp(milliseconds: 0), text: text)))
  case 5:
    guard let reply = try? Tinysns_Internal_V1_CatchUpReply(serializedBytes: payload) else { return 0 }
    for wire in reply.records {
      if let placed = try? PlacedRecord(wire: wire) { checkPlaced(placed) }
    }
  case 6:
    guard let ref = try? Tinysns_Internal_V1_SynchronizerRef(serializedBytes: payload) else { return 0 }
    _ = try? SynchronizerDescriptor(wire: ref)
  default:
    guard let assignment = try? Tinysns_Internal_V1_RoleAssignment(serializedBytes: payload) else { return 0 }
    _ = try? ServerDescriptor(wire: assignment.master)
    _ = try? ServerDescriptor(wire: assignment.slave)
  }
  return 0
}

let placeholderUser: UserID = {
  guard let user = try? UserID(1) else { preconditionFailure("user 1") }
  return user
}()

func checkUser(_ user: UserID) {
  precondition(user.value > 0)
  precondition(ContextFile(fileName: ContextFile.timeline(user).fileName) == .timeline(user))
}

func checkPlaced(_ placed: PlacedRecord) {
  // The file name is made of a validated integer only, and names the same file when read back.
  precondition(ContextFile(fileName: placed.file.fileName) == placed.file)
  precondition(!placed.file.fileName.contains("/"))
  roundTrip(placed.record)
}

func roundTrip(_ record: ContextRecord) {
  let line = Array(RecordCodec.encode(record).utf8)
  precondition(line.last == UInt8(ascii: "\n") && line.dropLast().firstIndex(of: UInt8(ascii: "\n")) == nil)
  guard let again = try? RecordCodec.decode(line: line.dropLast()) else {
    preconditionFailure("accepted from the network but cannot be read back: \(RecordCodec.encode(record))")
  }
  precondition(again == record, "\(again) != \(record)")
}
