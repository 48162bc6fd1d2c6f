//! Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons are
//! only meaningful between numbers less than 2^31 apart.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence (or acknowledgment) number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// Signed distance `self - other`.
    #[inline]
    pub fn diff(self, other: Seq) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    /// `self` comes strictly before `other`.
    #[inline]
    pub fn lt(self, other: Seq) -> bool {
        self.diff(other) < 0
    }
    /// `self` comes before or is `other`.
    #[inline]
    pub fn le(self, other: Seq) -> bool {
        self.diff(other) <= 0
    }
    /// `self` comes strictly after `other`.
    #[inline]
    pub fn gt(self, other: Seq) -> bool {
        self.diff(other) > 0
    }
    /// `self` comes after or is `other`.
    #[inline]
    pub fn ge(self, other: Seq) -> bool {
        self.diff(other) >= 0
    }
    /// Bytes from `earlier` up to `self`; 0 if `earlier` is actually later.
    #[inline]
    pub fn since(self, earlier: Seq) -> u32 {
        let d = self.diff(earlier);
        if d < 0 {
            0
        } else {
            d as u32
        }
    }
    /// The later of the two.
    #[inline]
    pub fn max(self, other: Seq) -> Seq {
        if self.lt(other) {
            other
        } else {
            self
        }
    }
    /// The earlier of the two.
    #[inline]
    pub fn min(self, other: Seq) -> Seq {
        if self.lt(other) {
            self
        } else {
            other
        }
    }
    /// `low <= self < high` in sequence space.
    #[inline]
    pub fn in_range(self, low: Seq, high: Seq) -> bool {
        self.ge(low) && self.lt(high)
    }
}

impl Add<u32> for Seq {
    type Output = Seq;
    #[inline]
    fn add(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }
}

impl AddAssign<u32> for Seq {
    #[inline]
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl Sub<u32> for Seq {
    type Output = Seq;
    #[inline]
    fn sub(self, n: u32) -> Seq {
        Seq(self.0.wrapping_sub(n))
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps() {
        let a = Seq(u32::MAX - 5);
        let b = a + 10;
        assert_eq!(b, Seq(4));
        assert!(a.lt(b) && b.gt(a) && a.le(a) && b.ge(b));
        assert_eq!(b.since(a), 10);
        assert_eq!(a.since(b), 0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert!(Seq(1).in_range(a, b) && !b.in_range(a, b));
    }
}
