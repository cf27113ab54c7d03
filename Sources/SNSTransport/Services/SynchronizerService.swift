import SNSCore

/// A synchronizer's gRPC surface: `Sync.Deliver`, behind the cluster secret.
public enum SynchronizerService {
  public static func handlers(_ synchronizer: any SynchronizerPort, secret: SecretCheck) -> [String:
    GRPCMethodHandler]
  {
    [
      Methods.deliver: .authenticated(by: secret) { (request: Tinysns_Internal_V1_SyncBatch, context) in
        try await synchronizer.deliver(try SyncBatch(wire: request)).wire
      }
    ]
  }
}
