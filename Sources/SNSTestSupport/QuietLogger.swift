import Logging

extension Logger {
  /// A logger that lets only critical messages through: for code under test whose log lines would bury the
  /// test's own output.
  package static func quiet(_ label: String = "test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
  }
}
