import SwiftProtobuf

/// SwiftProtobuf's message protocol, named so that it does not clash with the course's `Message` type.
typealias SwiftProtobufMessage = SwiftProtobuf.Message

/// Full gRPC method paths, as on the wire.
enum Methods {
  // csce438.SNSService (course contract)
  static let login = "/csce438.SNSService/Login"
  static let list = "/csce438.SNSService/List"
  static let follow = "/csce438.SNSService/Follow"
  static let unfollow = "/csce438.SNSService/UnFollow"
  static let timeline = "/csce438.SNSService/Timeline"
  // csce438.CoordService (course contract)
  static let heartbeat = "/csce438.CoordService/Heartbeat"
  static let getServer = "/csce438.CoordService/GetServer"
  static let getSlave = "/csce438.CoordService/GetSlave"
  static let getFollowerServer = "/csce438.CoordService/GetFollowerServer"
  static let getFollowerServers = "/csce438.CoordService/GetFollowerServers"
  // tinysns.internal.v1 (ours)
  static let coordinationHeartbeat = "/tinysns.internal.v1.Coordination/Heartbeat"
  static let coordinationRegisterSynchronizer = "/tinysns.internal.v1.Coordination/RegisterSynchronizer"
  static let coordinationStatus = "/tinysns.internal.v1.Coordination/Status"
  static let coordinationFindSlave = "/tinysns.internal.v1.Coordination/FindSlave"
  static let mirror = "/tinysns.internal.v1.ServerPeer/Mirror"
  static let catchUp = "/tinysns.internal.v1.ServerPeer/CatchUp"
  static let deliver = "/tinysns.internal.v1.Sync/Deliver"
  static let post = "/tinysns.internal.v1.ClientExtras/Post"
}
