import Foundation
import SNSCore

/// What the client prints, in the course client's words.
struct ClientOutput: Sendable {
  func line(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  /// The course's `displayReConnectionMessage`, in its words.
  func reconnected(to endpoint: Endpoint) {
    line("Reconnecting to \(endpoint.host):\(endpoint.port)...")
  }

  func reply(_ reply: Reply, listing: Bool = false) {
    line(reply.status.courseSentence)
    if listing && reply.status == .success {
      line("All users: " + reply.allUsers.map(\.description).joined(separator: ", "))
      line("Followers: " + reply.followers.map(\.description).joined(separator: ", "))
    }
  }

  /// A post in timeline mode: `author (time) >> text`, the time as the course's `ctime` prints it.
  func post(_ post: Post) {
    let date = Date(timeIntervalSince1970: Double(post.time.milliseconds) / 1000)
    line("\(post.author) (\(Self.timeFormat.format(date))) >> \(post.text.value)")
  }

  static let timeFormat = Date.VerbatimFormatStyle(
    format:
      "\(weekday: .abbreviated) \(month: .abbreviated) \(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) \(year: .defaultDigits)",
    locale: Locale(identifier: "en_US_POSIX"), timeZone: .current, calendar: Calendar(identifier: .gregorian))

  func error(_ message: String) {
    FileHandle.standardError.write(Data("sns: \(message)\n".utf8))
  }
}
