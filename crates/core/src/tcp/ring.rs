//! A byte ring that allocates lazily and grows toward a fixed limit, so an
//! idle connection owns no buffer memory at all. Bytes can be written past
//! the readable end (out-of-order data) and made readable later.

/// First allocation, to avoid a string of tiny reallocations.
const INITIAL: usize = 4096;

/// A growable circular byte buffer.
#[derive(Debug, Default)]
pub struct Ring {
    buf: Vec<u8>,
    head: usize,
    len: usize,
    limit: usize,
}

impl Ring {
    /// An empty ring that will never hold more than `limit` bytes.
    pub fn new(limit: usize) -> Ring {
        Ring {
            buf: Vec::new(),
            head: 0,
            len: 0,
            limit,
        }
    }

    /// Readable bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No readable bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size bound.
    #[inline]
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Room left below the limit.
    #[inline]
    pub fn free(&self) -> usize {
        self.limit - self.len
    }

    /// Make logical offsets `[0, end)` addressable.
    fn ensure(&mut self, end: usize) {
        let cap = self.buf.len();
        if end <= cap {
            return;
        }
        let new_cap = end.max(cap * 2).max(INITIAL).min(self.limit).max(end);
        let mut nb = vec![0u8; new_cap];
        // Keep every logical byte, out-of-order ones included, at the same
        // logical offset.
        let first = cap - self.head;
        nb[..first].copy_from_slice(&self.buf[self.head..]);
        nb[first..cap].copy_from_slice(&self.buf[..self.head]);
        self.buf = nb;
        self.head = 0;
    }

    /// Write `data` at logical offset `off` (which may lie past the
    /// readable end). Returns how many bytes fit below the limit.
    pub fn write_at(&mut self, off: usize, data: &[u8]) -> usize {
        if off >= self.limit {
            return 0;
        }
        let n = data.len().min(self.limit - off);
        if n == 0 {
            return 0;
        }
        self.ensure(off + n);
        let cap = self.buf.len();
        let pos = (self.head + off) % cap;
        let first = n.min(cap - pos);
        self.buf[pos..pos + first].copy_from_slice(&data[..first]);
        self.buf[..n - first].copy_from_slice(&data[first..n]);
        n
    }

    /// Make `n` more bytes (already written) readable.
    pub fn commit(&mut self, n: usize) {
        debug_assert!(self.len + n <= self.buf.len());
        self.len = (self.len + n).min(self.buf.len());
    }

    /// Append at the readable end; returns how many bytes fit.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let take = data.len().min(self.free());
        let n = self.write_at(self.len, &data[..take]);
        self.commit(n);
        n
    }

    /// The readable bytes `[off, off + n)` as up to two slices.
    pub fn slices(&self, off: usize, n: usize) -> (&[u8], &[u8]) {
        let n = n.min(self.len.saturating_sub(off));
        if n == 0 {
            return (&[], &[]);
        }
        let cap = self.buf.len();
        let pos = (self.head + off) % cap;
        let first = n.min(cap - pos);
        (&self.buf[pos..pos + first], &self.buf[..n - first])
    }

    /// Drop `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        if n == 0 {
            return;
        }
        self.head = (self.head + n) % self.buf.len();
        self.len -= n;
    }

    /// Move up to `max` bytes from the front to the end of `out`.
    pub fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> usize {
        let (a, b) = self.slices(0, max);
        let n = a.len() + b.len();
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        self.consume(n);
        n
    }

    /// Free the allocation if nothing (readable or not) can be lost.
    pub fn release_if_empty(&mut self) {
        if self.len == 0 {
            self.buf = Vec::new();
            self.head = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_grows() {
        let mut r = Ring::new(10_000);
        let data: Vec<u8> = (0..=255u8).cycle().take(9000).collect();
        assert_eq!(r.push(&data[..3000]), 3000);
        let mut out = Vec::new();
        assert_eq!(r.read_into(&mut out, 2500), 2500);
        assert_eq!(r.push(&data[3000..9000]), 6000);
        assert_eq!(r.len(), 6500);
        r.read_into(&mut out, usize::MAX);
        assert_eq!(out, data);
        assert_eq!(r.push(&data), 9000);
        assert_eq!(r.push(&data), 1000);
        assert_eq!(r.free(), 0);
    }

    #[test]
    fn out_of_order_writes_survive_growth() {
        let mut r = Ring::new(100_000);
        assert_eq!(r.write_at(5000, b"later"), 5);
        assert_eq!(r.write_at(0, &[7u8; 5000]), 5000);
        r.commit(5005);
        let (a, b) = r.slices(5000, 5);
        assert_eq!([a, b].concat(), b"later");
        assert_eq!(r.write_at(100_000, b"x"), 0);
    }
}
