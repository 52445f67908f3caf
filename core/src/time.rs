//! Time as an input: the shells pass the current time in, the core never reads a clock.

use serde::{Deserialize, Serialize};

/// A point in time or a duration, in milliseconds. In the server it is wall-clock time since the
/// Unix epoch; in the simulator it is virtual time since the start of the run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Millis(pub u64);

impl Millis {
    pub const ZERO: Millis = Millis(0);

    /// `self + duration`, saturating instead of overflowing.
    pub fn plus(self, duration: Millis) -> Millis {
        Millis(self.0.saturating_add(duration.0))
    }

    /// How long from `earlier` to `self`; zero if `earlier` is later.
    pub fn since(self, earlier: Millis) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Millis(5).plus(Millis(7)), Millis(12));
        assert_eq!(Millis(u64::MAX).plus(Millis(1)), Millis(u64::MAX));
        assert_eq!(Millis(10).since(Millis(4)), Millis(6));
        assert_eq!(Millis(4).since(Millis(10)), Millis::ZERO);
    }
}
