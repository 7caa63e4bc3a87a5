//! Times as people write them, shown in China Standard Time, and the wall
//! clock a command-line program starts from.

/// Parses RFC 3339 (`2026-11-25T10:00:00+08:00`) or Unix seconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    ::time::OffsetDateTime::parse(text, &::time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("{text:?} is neither RFC 3339 (e.g. 2026-11-25T10:00:00+08:00) nor Unix seconds: {e}"))
}

/// `2026-11-25 18:00:00 (UTC+8)`: China Standard Time, the time of every
/// counter in the country.
pub fn format_cst(secs: i64) -> String {
    let offset = ::time::UtcOffset::from_hms(8, 0, 0).unwrap_or(::time::UtcOffset::UTC);
    match ::time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} (UTC+8)",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => format!("{secs} (out of range)"),
    }
}

/// The current time in Unix seconds: a program's default "now", read once
/// at its edge and passed down (the libraries never read the clock).
pub fn now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_unix_seconds_are_read_and_cst_is_shown() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_time("2026-11-25T08:00:00+08:00"), Ok(1_795_564_800));
        assert!(parse_time("yesterday").is_err());
        assert_eq!(format_cst(1_795_572_000), "2026-11-25 10:00:00 (UTC+8)");
        assert_eq!(format_cst(i64::MAX), format!("{} (out of range)", i64::MAX));
    }
}
