//! Random bytes from the operating system, fetched a block at a time.
//!
//! Signing one credential takes a salt per claim (16 bytes each) and a
//! credential id: with `OsRng` that is a `getrandom` system call for each,
//! about fifteen per credential. [`OsBytes`] makes one call for all of
//! them: every byte it hands out is still the kernel's, used once and then
//! dropped with the credential's signing; nothing is derived or stretched.

use rand_core::{CryptoRng, OsRng, RngCore};

/// Bytes fetched per `getrandom` call: a credential of the catalogue's
/// largest type (17 claims, nested objects) with its id fits in one block.
const BLOCK: usize = 512;

/// The operating system's random bytes, `BLOCK` per system call. Made
/// fresh for each credential; never shared.
pub(crate) struct OsBytes {
    buf: [u8; BLOCK],
    /// Bytes of `buf` already handed out.
    used: usize,
}

impl OsBytes {
    /// Empty: the first use fetches a block.
    pub(crate) fn new() -> Self {
        OsBytes {
            buf: [0; BLOCK],
            used: BLOCK,
        }
    }
}

impl RngCore for OsBytes {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let mut out = dest;
        while !out.is_empty() {
            if self.used == BLOCK {
                // As OsRng itself: a failing kernel source is not survivable.
                OsRng.fill_bytes(&mut self.buf);
                self.used = 0;
            }
            let n = out.len().min(BLOCK - self.used);
            let (head, rest) = out.split_at_mut(n);
            head.copy_from_slice(&self.buf[self.used..self.used + n]);
            // Handed out once: never again from this buffer.
            self.buf[self.used..self.used + n].fill(0);
            self.used += n;
            out = rest;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for OsBytes {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_every_byte_once_across_blocks() {
        let mut r = OsBytes::new();
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        r.fill_bytes(&mut a);
        r.fill_bytes(&mut b);
        assert_ne!(a, b);
        // Past the first block: a request that straddles two.
        let mut big = vec![0u8; BLOCK + 100];
        r.fill_bytes(&mut big);
        assert_eq!(r.used, 100 + 32);
        assert!(big.chunks(16).all(|c| c.iter().any(|x| *x != 0)));
    }
}
