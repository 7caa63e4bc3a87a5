//! Fixed time for tests: the moment the fixtures are checked at, and the
//! service kit's clock that stands still until a test moves it.

pub use tongban_service_kit::ManualClock;

/// When the fixtures are checked: 2026-11-25T10:00:00+08:00, a weekday
/// morning at a Qingpu counter.
pub const NOW: i64 = 1_795_572_000;

/// One day in seconds.
pub const DAY: i64 = 86_400;

/// One hour in seconds.
pub const HOUR: i64 = 3_600;

#[cfg(test)]
mod tests {
    use tongban_service_kit::Clock as _;

    use super::*;

    #[test]
    fn the_manual_clock_starts_at_now_and_moves_when_told() {
        let clock = ManualClock::new(NOW);
        assert_eq!(clock.now(), NOW);
        clock.advance(DAY);
        assert_eq!(clock.now(), NOW + DAY);
    }
}
