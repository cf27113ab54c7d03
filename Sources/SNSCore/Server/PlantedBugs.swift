/// Bugs that can be switched on on purpose, to show that the simulation's checkers catch them.
/// Never set in deployment: the `sns` executable has no flag for them.
public struct PlantedBugs: OptionSet, Hashable, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// The master acknowledges after its own fsync without mirroring to the slave.
  public static let acknowledgeBeforeMirror = PlantedBugs(rawValue: 1 << 0)
  /// A slave applies mirror writes of any epoch, so a deposed master can still write through it.
  public static let skipEpochCheck = PlantedBugs(rawValue: 1 << 1)
  /// The master ignores the request key of a post, so a client's retry after a lost reply posts again.
  public static let ignoreRequestKeys = PlantedBugs(rawValue: 1 << 2)
  /// A server answers a catch-up with everything after the position in one reply, whatever its page size.
  public static let unpagedCatchUp = PlantedBugs(rawValue: 1 << 3)
  /// A synchronizer saves the position of every file it read, also of files whose items still wait for
  /// delivery, so a restarted synchronizer skips them.
  public static let savePositionsPastPendingItems = PlantedBugs(rawValue: 1 << 4)
  /// A ``FileContextStore`` answers appends without fsyncing their files, so a crash can lose what it
  /// acknowledged.
  public static let acknowledgeBeforeFsync = PlantedBugs(rawValue: 1 << 5)
  /// The master ignores the request key of a follow or unfollow, so a client's retry after a lost reply
  /// stores a second event.
  public static let ignoreFollowKeys = PlantedBugs(rawValue: 1 << 6)
}
