//! The values of etctl's policy flags, parsed where clap parses (so a bad one is a usage error,
//! exit 2, naming the flag): durations as people write them (`90d`, `12h`, `30m`), RFC 3339 times
//! with any offset, `N/DURATION` rate limits and addresses or CIDRs. Each error says what was
//! expected, with an example.

use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest window a rate limit may have (SPEC §6: one day).
pub const MAX_WINDOW: Duration = Duration::from_secs(86_400);
/// The largest request count of a rate limit (SPEC §6).
pub const MAX_RATE: u32 = 1_000_000;

/// A positive duration: `90d`, `12h`, `30m`, `5s`, `1h 30m` (humantime's units).
pub fn duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; write a duration as a number and a unit, such as 90d, 12h, 30m or 45s"))?;
    if d.is_zero() {
        return Err("the duration must be longer than zero".into());
    }
    Ok(d)
}

/// An instant in RFC 3339 (`2027-01-31T00:00:00Z`, `2027-01-31T09:00:00+02:00`), in UTC.
pub fn time(text: &str) -> Result<OffsetDateTime, String> {
    let at = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
        "write the time in RFC 3339, such as 2027-01-31T00:00:00Z or 2027-01-31T09:00:00+02:00 (or use --expires-in 90d)"
            .to_owned()
    })?;
    at.checked_to_offset(time::UtcOffset::UTC)
        .filter(|utc| utc.year() <= 9999)
        .ok_or_else(|| "the time must be before the year 10000".to_owned())
}

/// A time as the API writes it: RFC 3339 UTC with milliseconds (`2026-12-02T04:12:15.123Z`).
pub fn rfc3339_millis(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// Now plus `after`, in the API's format; an error when that is past the year 9999.
pub fn after_now(after: Duration) -> Result<String, String> {
    let at = SystemTime::now().checked_add(after).filter(|at| {
        at.duration_since(SystemTime::UNIX_EPOCH).is_ok_and(|d| d.as_secs() < 253_402_300_800) // 10000-01-01
    });
    at.map(rfc3339_millis).ok_or_else(|| "that duration ends after the year 9999; give a shorter one".to_owned())
}

/// `--rate-limit N/DURATION`: at most `limit` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window_s: u32,
}

/// `100/1m`, `10/s` (a unit alone means one of it), `5000/1h`, `1/1d`.
pub fn rate(text: &str) -> Result<Rate, String> {
    const SHAPE: &str = "write it as REQUESTS/WINDOW, such as 100/1m, 10/1s or 5000/1h";
    let (count, window) = text.trim().split_once('/').ok_or_else(|| format!("no '/' in it; {SHAPE}"))?;
    let limit: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_RATE).contains(n))
        .ok_or_else(|| format!("the number of requests must be a whole number from 1 to {MAX_RATE}; {SHAPE}"))?;
    let window = window.trim();
    // `10/s` reads as "10 per second".
    let window =
        if window.starts_with(|c: char| c.is_ascii_alphabetic()) { format!("1{window}") } else { window.into() };
    let window =
        humantime::parse_duration(&window).map_err(|e| format!("the window is not a duration ({e}); {SHAPE}"))?;
    if window.subsec_nanos() != 0 || window.is_zero() || window > MAX_WINDOW {
        return Err("the window must be a whole number of seconds from 1s to 1d".into());
    }
    Ok(Rate { limit, window_s: window.as_secs() as u32 })
}

/// `--allow-ip`: an address (`127.0.0.2`, `::1`) or a CIDR block (`10.0.0.0/8`), as given; `any`
/// (update only) removes the restriction.
pub fn address(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == ANY_ADDRESS {
        return Ok(text.to_owned());
    }
    let ok = text.parse::<ipnet::IpNet>().is_ok() || text.parse::<std::net::IpAddr>().is_ok();
    if ok {
        Ok(text.to_owned())
    } else {
        Err("give an IPv4 or IPv6 address or CIDR block, such as 127.0.0.2, 10.0.0.0/8 or ::1".into())
    }
}

/// The `--allow-ip` value that means "from anywhere" (an empty list).
pub const ANY_ADDRESS: &str = "any";

/// How long a duration is, as people read it (`5s`, `90days`), for messages.
pub fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_as_people_write_them() {
        assert_eq!(duration("90d").unwrap(), Duration::from_secs(90 * 86_400));
        assert_eq!(duration("12h").unwrap(), Duration::from_secs(12 * 3600));
        assert_eq!(duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(duration("1h 30m").unwrap(), Duration::from_secs(5400));
        for bad in ["", "90", "ninety days", "5 parsecs", "-5s"] {
            let err = duration(bad).unwrap_err();
            assert!(err.contains("such as 90d, 12h, 30m"), "{bad:?}: {err}");
        }
        assert!(duration("0s").unwrap_err().contains("longer than zero"));
    }

    #[test]
    fn times_in_rfc3339_with_any_offset_become_utc() {
        let at = time("2027-01-31T09:00:00+02:00").unwrap();
        assert_eq!(rfc3339_millis(at.into()), "2027-01-31T07:00:00.000Z");
        assert_eq!(rfc3339_millis(time("2027-01-31T00:00:00.5Z").unwrap().into()), "2027-01-31T00:00:00.500Z");
        for bad in ["2027-01-31", "tomorrow", "2027-01-31 00:00:00", "2027-13-01T00:00:00Z"] {
            assert!(time(bad).unwrap_err().contains("RFC 3339, such as"), "{bad:?}");
        }
        assert!(time("9999-12-31T23:00:00-02:00").unwrap_err().contains("10000"));
    }

    #[test]
    fn after_now_is_in_the_future_and_bounded() {
        let soon = after_now(Duration::from_secs(3600)).unwrap();
        assert!(soon.ends_with('Z') && soon.len() == "2026-12-02T04:12:15.123Z".len(), "{soon}");
        assert!(soon > rfc3339_millis(SystemTime::now()));
        assert!(after_now(Duration::from_secs(u64::MAX / 4)).unwrap_err().contains("9999"));
    }

    #[test]
    fn rate_limits_are_requests_per_window() {
        assert_eq!(rate("100/1m").unwrap(), Rate { limit: 100, window_s: 60 });
        assert_eq!(rate("10/s").unwrap(), Rate { limit: 10, window_s: 1 });
        assert_eq!(rate("5000/1h").unwrap(), Rate { limit: 5000, window_s: 3600 });
        assert_eq!(rate(" 1 / 1d ").unwrap(), Rate { limit: 1, window_s: 86_400 });
        assert!(rate("100").unwrap_err().contains("no '/'"));
        assert!(rate("0/1m").unwrap_err().contains("from 1 to 1000000"));
        assert!(rate("1000001/1m").unwrap_err().contains("from 1 to 1000000"));
        assert!(rate("ten/1m").unwrap_err().contains("whole number"));
        assert!(rate("10/fortnight").unwrap_err().contains("not a duration"));
        assert!(rate("10/2d").unwrap_err().contains("from 1s to 1d"));
        assert!(rate("10/1500ms").unwrap_err().contains("whole number of seconds"));
    }

    #[test]
    fn addresses_and_cidrs() {
        for good in ["127.0.0.2", "127.0.0.2/32", "10.0.0.0/8", "::1", "2001:db8::/32", "any"] {
            assert_eq!(address(good).unwrap(), good);
        }
        for bad in ["localhost", "10.0.0.0/33", "300.1.1.1", "10.0.0.0/8,10.1.0.0/16", ""] {
            assert!(address(bad).unwrap_err().contains("such as 127.0.0.2"), "{bad:?}");
        }
    }
}
