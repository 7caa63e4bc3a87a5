//! Credential ids: `cred_` and 26 characters of Crockford's base32 (the
//! alphabet `0-9 A-Z` without `I L O U`, in ASCII order) of 128 bits — the
//! issuing time in milliseconds (48 bits, from the service's clock) and 80
//! random bits from the operating system — the layout of a ULID.
//!
//! Why time first: the `credentials.id` index is then appended to in
//! issuing order, where an id of 128 random bits put each new credential on
//! a random page of it (a page written per credential, and checkpointed
//! again). The id is the agency's handle for the record: it is in the admin
//! API and the audit log, never in the credential or anything a holder or
//! verifier sees, and those already say when the credential was issued
//! (`issued_at`, the audit entry's `at`); the id adds the millisecond.
//! Two ids of the same millisecond differ in 80 random bits.
//! Ids made before this layout (`cred_` and 22 characters of base64url)
//! stay valid: an id is opaque to everyone but this module.

/// The id of a credential issued at `ms` (Unix milliseconds; clamped to the
/// 48 bits the layout holds) with these random bytes. Ids of later
/// milliseconds sort after earlier ones, as text and as bytes.
pub(crate) fn credential_id(ms: i64, random: [u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    const MAX_MS: u64 = (1 << 48) - 1;
    let ms = u64::try_from(ms).unwrap_or(0).min(MAX_MS);
    let mut rand = [0u8; 16];
    rand[6..].copy_from_slice(&random);
    let v = (u128::from(ms) << 80) | u128::from_be_bytes(rand);
    let mut id = String::with_capacity(5 + 26);
    id.push_str("cred_");
    for i in (0..26u32).rev() {
        let digit = usize::try_from((v >> (5 * i)) & 31).unwrap_or(0);
        id.push(char::from(ALPHABET[digit]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_service_kit::{Clock, ManualClock};

    #[test]
    fn an_id_is_cred_and_26_crockford_characters_time_first() {
        let id = credential_id(0x0192_3456_789A, [0xFF; 10]);
        assert_eq!(id.len(), 31);
        assert!(id.starts_with("cred_"));
        assert!(
            id[5..]
                .bytes()
                .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)),
            "{id}"
        );
        // The first ten characters are the 48-bit time (two zero bits
        // above it), the rest the 80 random bits.
        assert_eq!(&id[5..15], "01J8T5CY4T");
        assert_eq!(&id[15..], "ZZZZZZZZZZZZZZZZ");
        assert_eq!(&credential_id(0, [0; 10])[5..], "0".repeat(26));
        assert_eq!(&credential_id(-5, [0; 10])[5..], "0".repeat(26));
    }

    #[test]
    fn ids_follow_the_injected_clock_whatever_their_random_bits() {
        let clock = ManualClock::new(1_795_614_856);
        let mut ids = Vec::new();
        for (i, r) in [[0xFF; 10], [0x00; 10], [0x7F; 10], [0x80; 10]]
            .into_iter()
            .enumerate()
        {
            ids.push(credential_id(clock.now_ms() + i64::try_from(i).unwrap(), r));
            clock.advance(1);
            ids.push(credential_id(clock.now_ms(), r));
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        // The time is the clock's, to the millisecond.
        assert_eq!(
            ids[0][5..15],
            credential_id(1_795_614_856_000, [0; 10])[5..15]
        );
    }
}
