//! A credential's SPEC §6 fields as the database stores them (JSON text, integers) and as
//! authentication uses them (a scope bitmask, parsed networks): reading fails closed, so a value
//! that got past the triggers (dropped by hand) grants less, never more.

use std::net::IpAddr;

use et_api::{RateLimit, Scope, Scopes};
use ipnet::IpNet;

/// The latest `expires_at` a credential may have: 9999-12-31T23:59:59.999Z, the last instant an
/// RFC 3339 timestamp (and SQLite's date functions) can name.
pub const LATEST_EXPIRY_MS: i64 = 253_402_300_799_999;

/// Unix milliseconds as RFC 3339 UTC with milliseconds (`2026-12-02T04:12:15.123Z`), the form
/// the database writes every timestamp in. Outside 0..=[`LATEST_EXPIRY_MS`] it is clamped.
pub fn format_time_ms(ms: i64) -> String {
    let ms = ms.clamp(0, LATEST_EXPIRY_MS);
    let (days, ms_of_day) = (ms / 86_400_000, ms % 86_400_000);
    // The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant, `civil_from_days`).
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let fields = [
        (year, 4),
        (month, 2),
        (day, 2),
        (ms_of_day / 3_600_000, 2),
        (ms_of_day / 60_000 % 60, 2),
        (ms_of_day / 1000 % 60, 2),
        (ms_of_day % 1000, 3),
    ];
    let mut text = [0u8; 24];
    text.copy_from_slice(b"0000-00-00T00:00:00.000Z");
    let mut at = 0;
    for (value, width) in fields {
        let mut v = value;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        at += width + 1;
    }
    // Only ASCII digits and the separators above were written.
    String::from_utf8_lossy(&text).into_owned()
}

/// An RFC 3339 time (`2027-01-31T00:00:00Z`, any offset, any fraction) as unix milliseconds, the
/// fraction beyond the millisecond dropped. Times before 1970 or after year 9999 are refused. The
/// error does not repeat the text.
pub fn parse_time_ms(text: &str) -> Result<i64, &'static str> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| "is not an RFC 3339 time (like 2027-01-31T00:00:00Z)")?;
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).ok().filter(|ms| (0..=LATEST_EXPIRY_MS).contains(ms)).ok_or("is outside the years 1970 to 9999")
}

/// One entry of `allowed_ips`: an IPv4/IPv6 address (a network of one) or a CIDR whose address is
/// the network's own (`10.0.0.0/8`, not `10.0.0.1/8`, which says two things at once). The error
/// does not repeat the text.
pub fn parse_ip_net(text: &str) -> Result<IpNet, &'static str> {
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => match text.parse::<IpAddr>() {
            Ok(addr) => IpNet::from(addr),
            Err(_) => {
                return Err("is not an IPv4 or IPv6 address or CIDR (like 127.0.0.2, 10.0.0.0/8 or ::1/128)");
            }
        },
    };
    if net.trunc() != net {
        return Err(
            "has address bits set beyond its prefix length; write the network (10.0.0.0/8) or one address (10.0.0.1/32)",
        );
    }
    Ok(net)
}

/// Where a credential may be used from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedIps {
    nets: Vec<IpNet>,
    /// Set for any stored list that is not empty, even if nothing in it could be read: a list of
    /// nothing readable allows no address, never every address.
    restricted: bool,
    unreadable: bool,
}

impl AllowedIps {
    /// Anywhere.
    pub const ANYWHERE: AllowedIps = AllowedIps { nets: Vec::new(), restricted: false, unreadable: false };

    /// These networks; none: anywhere.
    pub fn new(nets: Vec<IpNet>) -> Self {
        AllowedIps { restricted: !nets.is_empty(), nets, unreadable: false }
    }

    /// Whether a request from `ip` may use the credential. An IPv4 client seen as an IPv4-mapped
    /// IPv6 address (`::ffff:127.0.0.2`, a dual-stack socket) is the IPv4 address it maps.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if !self.restricted {
            return true;
        }
        let canonical = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip) || net.contains(&canonical))
    }

    pub fn is_anywhere(&self) -> bool {
        !self.restricted
    }

    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether the stored value had something that is no address (its trigger was dropped): that
    /// part matches no client. Worth a warning in the log.
    pub fn has_unreadable(&self) -> bool {
        self.unreadable
    }

    /// Reads the stored JSON array.
    pub(crate) fn from_stored(text: Option<&str>) -> AllowedIps {
        if text == Some("[]") {
            return AllowedIps::ANYWHERE;
        }
        let unreadable = AllowedIps { nets: Vec::new(), restricted: true, unreadable: true };
        let Some(items) = text.and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(t).ok()) else {
            return unreadable;
        };
        if items.is_empty() {
            return AllowedIps::ANYWHERE;
        }
        let mut nets = Vec::with_capacity(items.len());
        let mut bad = false;
        for item in &items {
            // Read as stored, host bits and all: the database accepts them, and the network they
            // name is what an operator meant.
            match item
                .as_str()
                .and_then(|s| s.parse::<IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from)))
            {
                Some(net) => nets.push(net),
                None => bad = true,
            }
        }
        AllowedIps { nets, restricted: true, unreadable: bad }
    }
}

/// The stored JSON of a scope set, in [`Scope::ALL`] order.
pub(crate) fn scopes_json(scopes: Scopes) -> String {
    serde_json::to_string(&scopes.to_vec()).unwrap_or_else(|_| "[]".into())
}

/// Reads the stored JSON array of scope names: unknown names are ignored, and anything else reads
/// as no scope at all.
pub(crate) fn scopes_from_stored(text: Option<&str>) -> Scopes {
    // What the API stores for the default (all four) is recognised without parsing: every cache
    // miss reads it.
    const ALL_JSON: &str = r#"["accounts:read","accounts:write","credentials:read","credentials:write"]"#;
    let Some(text) = text else { return Scopes::NONE };
    if text == ALL_JSON {
        return Scopes::ALL;
    }
    let names = |items: &mut dyn Iterator<Item = &str>| items.filter_map(|n| n.parse::<Scope>().ok()).collect();
    // Borrowed names when the text has no escapes; values otherwise (a non-string item is ignored).
    match serde_json::from_str::<Vec<&str>>(text) {
        Ok(items) => names(&mut items.into_iter()),
        Err(_) => serde_json::from_str::<Vec<serde_json::Value>>(text)
            .map(|items| names(&mut items.iter().filter_map(serde_json::Value::as_str)))
            .unwrap_or(Scopes::NONE),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ`, the one form ledgerd and etctl store times in
/// (`strftime('%Y-%m-%dT%H:%M:%fZ')`), as unix milliseconds; `None` for any other form and for a
/// date the calendar does not have, which the caller leaves to SQLite's own reading.
pub(crate) fn canonical_time_ms(text: &[u8]) -> Option<i64> {
    let &[
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        b'.',
        f0,
        f1,
        f2,
        b'Z',
    ] = text
    else {
        return None;
    };
    let number =
        |digits: &[u8]| digits.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')));
    let (year, month, day) = (number(&[y0, y1, y2, y3])?, number(&[mo0, mo1])?, number(&[d0, d1])?);
    let (hour, minute, second, milli) =
        (number(&[h0, h1])?, number(&[mi0, mi1])?, number(&[s0, s1])?, number(&[f0, f1, f2])?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, `days_from_civil`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + milli)
}

/// The stored JSON of an address list, in canonical text.
pub(crate) fn ips_json(nets: &[IpNet]) -> String {
    serde_json::to_string(&nets.iter().map(IpNet::to_string).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// The address list as a record shows it: each entry in canonical text when it is one, as stored
/// otherwise (a record says what is there).
pub(crate) fn ips_for_record(text: Option<&str>) -> Vec<String> {
    let Some(text) = text else { return Vec::new() };
    match serde_json::from_str::<Vec<serde_json::Value>>(text) {
        Ok(items) => items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) => s
                    .parse::<IpNet>()
                    .ok()
                    .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
                    .map_or_else(|| s.to_owned(), |n| n.to_string()),
                None => item.to_string(),
            })
            .collect(),
        Err(_) => vec![text.to_owned()],
    }
}

/// Reads the two stored columns: both NULL is no limit. A value outside its range or missing
/// (possible only with the triggers dropped) reads as the strictest one: a limit below 1 as 1, above
/// the maximum as the maximum; a window out of range as the longest.
pub(crate) fn rate_limit_from_stored(limit: Option<i64>, window_s: Option<i64>) -> Option<RateLimit> {
    if limit.is_none() && window_s.is_none() {
        return None;
    }
    let limit = limit.unwrap_or(1).clamp(1, i64::from(RateLimit::MAX_LIMIT)) as u32;
    let window_s = match window_s {
        Some(w) if (1..=i64::from(RateLimit::MAX_WINDOW_S)).contains(&w) => w as u32,
        _ => RateLimit::MAX_WINDOW_S,
    };
    Some(RateLimit { limit, window_s })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// SQLite's own reading of a stored time, as the record queries make it.
    fn sqlite_ms(conn: &rusqlite::Connection, text: &str) -> Option<i64> {
        conn.query_row("SELECT CAST(round((julianday(?1) - 2440587.5) * 86400000.0) AS INTEGER)", [text], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_canonical_time_reads_as_sqlite_reads_it() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut state: u64 = 1;
        let mut samples = vec![0, 951_782_400_000, 4_107_542_399_999, LATEST_EXPIRY_MS, 1_709_164_800_123];
        // Pseudo-random instants over four centuries (an LCG: the same ones every run).
        for _ in 0..20_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            samples.push(((state >> 11) % 12_000_000_000_000) as i64);
        }
        for ms in samples {
            let text = format_time_ms(ms);
            assert_eq!(canonical_time_ms(text.as_bytes()), Some(ms), "{text}");
            assert_eq!(sqlite_ms(&conn, &text), Some(ms), "{text}");
        }
    }

    #[test]
    fn formatting_agrees_with_the_time_crate() {
        const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        let mut state: u64 = 7;
        let mut samples = vec![0, 1, 86_399_999, 86_400_000, 951_782_400_000, LATEST_EXPIRY_MS];
        for _ in 0..20_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            samples.push(((state >> 11) % (LATEST_EXPIRY_MS as u64 + 1)) as i64);
        }
        for ms in samples {
            let by_time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap()
                .format(FORMAT)
                .unwrap();
            assert_eq!(format_time_ms(ms), by_time, "{ms}");
        }
        assert_eq!(format_time_ms(-5), "1970-01-01T00:00:00.000Z", "clamped");
        assert_eq!(format_time_ms(i64::MAX), "9999-12-31T23:59:59.999Z", "clamped");
    }

    #[test]
    fn any_other_form_is_left_to_sqlite() {
        for text in [
            "2026-02-29T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-04-31T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z",
            "2026-01-01T00:00:60.000Z",
            "2026-01-01T00:00:00Z",
            "2026-01-01 00:00:00.000Z",
            "2026-01-01T00:00:00.000+00:00",
            "2026-01-0aT00:00:00.000Z",
            "+026-01-01T00:00:00.000Z",
            "",
        ] {
            assert_eq!(canonical_time_ms(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn stored_scopes_read_the_same_by_every_path() {
        let all = scopes_json(Scopes::ALL);
        assert_eq!(scopes_from_stored(Some(&all)), Scopes::ALL);
        assert_eq!(
            scopes_from_stored(Some(r#"[ "credentials:write", "accounts:read" ]"#)).to_vec(),
            [Scope::AccountsRead, Scope::CredentialsWrite]
        );
        // Escaped names, unknown names and non-strings: the known ones count.
        assert_eq!(scopes_from_stored(Some(r#"["accounts\u003aread", 7, "root"]"#)).to_vec(), [Scope::AccountsRead]);
        for nothing in [None, Some("[]"), Some("accounts:read"), Some("{}"), Some("[")] {
            assert_eq!(scopes_from_stored(nothing), Scopes::NONE, "{nothing:?}");
        }
    }

    #[test]
    fn times_are_rfc_3339_utc_with_milliseconds() {
        assert_eq!(format_time_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_time_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time_ms(LATEST_EXPIRY_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(parse_time_ms("2023-11-14T22:13:20.123Z"), Ok(1_700_000_000_123));
        assert_eq!(parse_time_ms("2023-11-14T23:13:20.1239+01:00"), Ok(1_700_000_000_123));
        assert_eq!(parse_time_ms("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert!(parse_time_ms("1969-12-31T23:59:59Z").is_err());
        for bad in ["tomorrow", "2023-11-14", "2023-11-14 22:13:20", ""] {
            assert!(parse_time_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entries_are_addresses_or_networks_without_host_bits() {
        assert_eq!(parse_ip_net("127.0.0.2").unwrap().to_string(), "127.0.0.2/32");
        assert_eq!(parse_ip_net("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_ip_net("::1").unwrap().to_string(), "::1/128");
        assert_eq!(parse_ip_net("2001:DB8::/32").unwrap().to_string(), "2001:db8::/32");
        assert!(parse_ip_net("10.0.0.1/8").unwrap_err().contains("beyond its prefix"));
        for bad in ["localhost", "1.2.3.4/33", "256.1.1.1", "1.2.3.4/", "::1/129", " 1.2.3.4"] {
            let err = parse_ip_net(bad).unwrap_err();
            assert!(!err.contains(bad.trim()), "the error repeats the input: {err}");
        }
        assert!(parse_ip_net("").is_err());
    }

    #[test]
    fn an_allowlist_allows_its_networks_and_fails_closed() {
        assert!(AllowedIps::ANYWHERE.allows(ip("203.0.113.9")));
        assert!(AllowedIps::from_stored(Some("[]")).is_anywhere());
        let list = AllowedIps::from_stored(Some(r#"["127.0.0.2/32","10.0.0.0/8","::1"]"#));
        assert!(list.allows(ip("127.0.0.2")) && list.allows(ip("10.200.0.1")) && list.allows(ip("::1")));
        assert!(!list.allows(ip("127.0.0.1")) && !list.allows(ip("11.0.0.1")));
        assert!(list.allows(ip("::ffff:127.0.0.2")), "an IPv4-mapped client is its IPv4 address");
        assert!(!list.has_unreadable());
        for unreadable in [None, Some("not json"), Some(r#"{"a":1}"#), Some(r#"["nowhere"]"#), Some("[1]")] {
            let list = AllowedIps::from_stored(unreadable);
            assert!(!list.allows(ip("127.0.0.1")) && !list.is_anywhere() && list.has_unreadable(), "{unreadable:?}");
        }
        let partly = AllowedIps::from_stored(Some(r#"["nowhere","127.0.0.1"]"#));
        assert!(partly.allows(ip("127.0.0.1")) && !partly.allows(ip("127.0.0.2")) && partly.has_unreadable());
        assert_eq!(ips_for_record(Some(r#"["127.0.0.2","nowhere",7]"#)), ["127.0.0.2/32", "nowhere", "7"]);
        assert_eq!(ips_json(&[parse_ip_net("::1").unwrap()]), r#"["::1/128"]"#);
    }

    #[test]
    fn stored_scopes_read_as_no_more_than_they_say() {
        assert_eq!(scopes_from_stored(Some(&scopes_json(Scopes::ALL))), Scopes::ALL);
        assert_eq!(
            scopes_json(Scopes::ALL),
            r#"["accounts:read","accounts:write","credentials:read","credentials:write"]"#,
            "the column's default"
        );
        assert_eq!(scopes_from_stored(Some(r#"["credentials:read","bogus"]"#)).to_vec(), [Scope::CredentialsRead]);
        for nothing in [None, Some("garbage"), Some("{}"), Some("[]")] {
            assert_eq!(scopes_from_stored(nothing), Scopes::NONE, "{nothing:?}");
        }
    }

    #[test]
    fn stored_limits_are_clamped_to_the_strictest() {
        assert_eq!(rate_limit_from_stored(None, None), None);
        assert_eq!(rate_limit_from_stored(Some(5), Some(60)), Some(RateLimit { limit: 5, window_s: 60 }));
        assert_eq!(rate_limit_from_stored(Some(0), None), Some(RateLimit { limit: 1, window_s: 86_400 }));
        assert_eq!(rate_limit_from_stored(None, Some(-3)), Some(RateLimit { limit: 1, window_s: 86_400 }));
        assert_eq!(
            rate_limit_from_stored(Some(9_000_000), Some(0)),
            Some(RateLimit { limit: 1_000_000, window_s: 86_400 })
        );
    }
}
