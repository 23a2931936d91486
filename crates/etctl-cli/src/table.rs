//! Credential records and audit events for people: comfy-table, timestamps shortened to the
//! second, "-" for none, a credential's limits written compactly (scopes `acc:r,cred:rw` or `all`,
//! expiry as a date, the first address and how many more).
//!
//! On a terminal the table fits its width (or `COLUMNS`): keys and other identifiers never break
//! across lines. When the limits do not fit one line a row, status and expiry, then scopes and
//! addresses, share a column on two lines; then columns are dropped, least useful first, until the
//! rest fit, and only a label or an audit event's details wrap. Off a terminal nothing is wrapped,
//! stacked or dropped.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
use et_api::{AuditEvent, CredentialRecord, RateLimit, Scope};

use crate::output;

/// `2026-11-26T11:01:39.123Z` → `2026-11-26 11:01:39`; anything else is shown as it is.
pub fn when(timestamp: Option<&str>) -> String {
    match timestamp {
        None => "-".into(),
        Some(ts) => match (ts.get(..10), ts.get(11..19)) {
            (Some(date), Some(time)) if ts.as_bytes().get(10) == Some(&b'T') => format!("{date} {time}"),
            _ => ts.to_owned(),
        },
    }
}

pub fn status(record: &CredentialRecord) -> &'static str {
    record.status.as_str()
}

/// Scopes in a few characters: `all`, `none`, or per resource `acc:r,cred:rw`.
pub fn scopes_compact(scopes: &[Scope]) -> String {
    if Scope::ALL.iter().all(|s| scopes.contains(s)) {
        return "all".into();
    }
    let part = |name: &str, read: Scope, write: Scope| {
        let rw = match (scopes.contains(&read), scopes.contains(&write)) {
            (true, true) => "rw",
            (true, false) => "r",
            (false, true) => "w",
            (false, false) => return None,
        };
        Some(format!("{name}:{rw}"))
    };
    let parts: Vec<String> = [
        part("acc", Scope::AccountsRead, Scope::AccountsWrite),
        part("cred", Scope::CredentialsRead, Scope::CredentialsWrite),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() { "none".into() } else { parts.join(",") }
}

/// Allowed addresses in a few characters: `any`, the one, or the first and how many more.
pub fn addresses_compact(addresses: &[String]) -> String {
    match addresses {
        [] => "any".into(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} +{}", rest.len()),
    }
}

/// The expiry's date (UTC), or `never`.
pub fn expiry_date(expires_at: Option<&str>) -> String {
    match expires_at {
        None => "never".into(),
        Some(ts) => ts.get(..10).filter(|_| ts.as_bytes().get(10) == Some(&b'T')).unwrap_or(ts).to_owned(),
    }
}

/// `100 per 1m`, or `none`.
pub fn rate_limit(limit: Option<RateLimit>) -> String {
    match limit {
        None => "none".into(),
        Some(rl) => {
            format!(
                "{} per {}",
                rl.limit,
                humantime::format_duration(std::time::Duration::from_secs(rl.window_s.into()))
            )
        }
    }
}

/// The width to fit: `COLUMNS` when set to a number, else the terminal's when stdout is one.
fn width() -> Option<u16> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<u16>().ok()) {
        return Some(columns).filter(|c| *c > 0);
    }
    if output::stdout_is_terminal() { Table::new().width() } else { None }
}

/// A table in the house style, with no width management (short tables of fixed-size values).
pub fn plain() -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table
}

/// A column of [`records`]: header, whether its values may wrap, its values, and its rank (the
/// highest rank is dropped first on a narrow terminal).
struct Column {
    header: &'static str,
    wraps: bool,
    values: Vec<String>,
    rank: u8,
}

impl Column {
    /// The narrowest it can be: its longest line when it must not wrap, else a few characters.
    fn min_width(&self) -> usize {
        let longest = self
            .values
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(self.header))
            .flat_map(str::lines)
            .map(|line| line.chars().count())
            .max();
        if self.wraps { longest.unwrap_or(0).min(8) } else { longest.unwrap_or(0) }
    }
}

/// Lays `columns` out in `width` (None: as wide as they are): while they cannot fit, the column of
/// highest rank is dropped. Returns the table and the dropped headers, in the order dropped.
fn fit(mut columns: Vec<Column>, width: Option<u16>) -> (Table, Vec<&'static str>) {
    let mut dropped = Vec::new();
    if let Some(width) = width {
        // Each column costs its content, a space each side and one border; plus the last border.
        let needed = |cols: &[Column]| cols.iter().map(|c| c.min_width() + 3).sum::<usize>() + 1;
        while columns.len() > 1 && needed(&columns) > usize::from(width) {
            let Some(last) = columns.iter().enumerate().max_by_key(|(_, c)| c.rank).map(|(i, _)| i) else { break };
            dropped.push(columns.remove(last).header);
        }
    }
    let mut table = plain();
    table.set_header(columns.iter().map(|c| c.header));
    let rows = columns.first().map_or(0, |c| c.values.len());
    for i in 0..rows {
        table.add_row(columns.iter().map(|c| c.values[i].clone()));
    }
    if let Some(width) = width {
        table.set_content_arrangement(ContentArrangement::Dynamic).set_width(width);
        for (i, c) in columns.iter().enumerate() {
            if !c.wraps
                && let Some(column) = table.column_mut(i)
            {
                column.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
    }
    (table, dropped)
}

/// The headers of the columns that show a credential's limits, one line a row.
const LIMITS: [&str; 4] = ["STATUS", "EXPIRES (UTC)", "SCOPES", "FROM"];

/// One row per credential: key, label, status, expiry date, scopes, addresses, created, last used,
/// revoked by (times in UTC). When the limits do not all fit, status and expiry share a column on
/// two lines, and so do scopes and addresses (see the module). Then revoked by, created, last
/// used and label go first, in that order; a note on stderr says which.
pub fn records(records: &[CredentialRecord]) -> String {
    let (table, dropped, width) = records_at(records, width());
    if !dropped.is_empty() {
        output::note(&format!(
            "({} left out to fit {} columns; widen the terminal, or see `etctl show KEY` or --json)",
            dropped.join(", "),
            width.unwrap_or_default()
        ));
    }
    table
}

/// [`records`] at `width` (None: off a terminal), with the headers left out.
fn records_at(records: &[CredentialRecord], width: Option<u16>) -> (String, Vec<&'static str>, Option<u16>) {
    let column = |header, wraps, rank, f: &dyn Fn(&CredentialRecord) -> String| Column {
        header,
        wraps,
        values: records.iter().map(f).collect(),
        rank,
    };
    let key = || column("API KEY", false, 0, &|r| r.api_key.clone());
    let expires = |r: &CredentialRecord| expiry_date(r.expires_at.as_deref());
    let scopes = |r: &CredentialRecord| scopes_compact(&r.scopes);
    let from = |r: &CredentialRecord| addresses_compact(&r.allowed_ips);
    let times = |first_rank| {
        vec![
            column("CREATED (UTC)", false, first_rank + 1, &|r| when(Some(&r.created_at))),
            column("LAST USED (UTC)", false, first_rank, &|r| when(r.last_used_at.as_deref())),
            column("REVOKED BY", false, first_rank + 2, &|r| r.revoked_by.clone().unwrap_or_else(|| "-".into())),
        ]
    };
    let label = |rank| column("LABEL", true, rank, &|r| r.label.clone().unwrap_or_else(|| "-".into()));
    let mut wide = vec![
        key(),
        label(5),
        column("STATUS", false, 1, &|r| status(r).into()),
        column("EXPIRES (UTC)", false, 2, &expires),
        column("SCOPES", false, 3, &scopes),
        column("FROM", false, 4, &from),
    ];
    wide.extend(times(6));
    let (table, dropped) = fit(wide, width);
    if !dropped.iter().any(|h| LIMITS.contains(h)) {
        return (table.to_string(), dropped, width);
    }
    // The label goes under the key, wrapped to the key's width, so it needs no column of its own.
    let mut stacked = vec![
        column("API KEY\nLABEL", false, 0, &|r| {
            format!("{}\n{}", r.api_key, wrap(r.label.as_deref().unwrap_or(""), r.api_key.chars().count()))
        }),
        column("STATUS\nEXPIRES", false, 1, &|r| format!("{}\n{}", status(r), expires(r))),
        column("SCOPES\nFROM", false, 2, &|r| format!("{}\n{}", scopes(r), from(r))),
    ];
    stacked.extend(times(4));
    let (table, dropped) = fit(stacked, width);
    (table.to_string(), dropped, width)
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be.
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        while word.chars().count() > width {
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(head);
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}

/// One row per audit event, newest first: when, which key (unless all are one key's), what, who,
/// and the details (the reason, or what an update changed, from → to).
pub fn audit(events: &[AuditEvent], with_key: bool) -> String {
    let column = |header, wraps, rank, f: &dyn Fn(&AuditEvent) -> String| Column {
        header,
        wraps,
        values: events.iter().map(f).collect(),
        rank,
    };
    let mut columns = vec![column("AT (UTC)", false, 0, &|e| when(Some(&e.at)))];
    if with_key {
        columns.push(column("API KEY", false, 1, &|e| e.api_key.clone()));
    }
    columns.push(column("ACTION", false, 0, &|e| e.action.clone()));
    columns.push(column("ACTOR", false, 2, &|e| e.actor.clone()));
    columns.push(column("DETAILS", true, 3, &details));
    let width = width();
    let (table, dropped) = fit(columns, width);
    if !dropped.is_empty() {
        output::note(&format!(
            "({} left out to fit {} columns; widen the terminal, or see --json)",
            dropped.join(", "),
            width.unwrap_or_default()
        ));
    }
    table.to_string()
}

/// An event's reason and changes in one line: `scopes: all → acc:r; expires_at: never → 2026-12-31 00:00:00`.
pub fn details(event: &AuditEvent) -> String {
    let mut parts = Vec::new();
    if let Some(reason) = &event.reason {
        parts.push(reason.clone());
    }
    if let Some(serde_json::Value::Object(changes)) = &event.changes {
        for (field, change) in changes {
            let side = |name| change_value(field, change.get(name).unwrap_or(&serde_json::Value::Null));
            parts.push(format!("{field}: {} → {}", side("from"), side("to")));
        }
    }
    if parts.is_empty() { "-".into() } else { parts.join("; ") }
}

/// One side of a change, written as the tables write that field.
fn change_value(field: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    match (field, value) {
        ("expires_at", Value::Null) => "never".into(),
        ("rate_limit", value) => rate_limit(serde_json::from_value(value.clone()).ok().flatten()),
        ("scopes", value) => match serde_json::from_value::<Vec<Scope>>(value.clone()) {
            Ok(scopes) => scopes_compact(&scopes),
            Err(_) => value.to_string(),
        },
        ("allowed_ips", Value::Array(items)) if items.is_empty() => "any".into(),
        (_, Value::Array(items)) => {
            items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect::<Vec<_>>().join(",")
        }
        (_, Value::Null) => "-".into(),
        (_, Value::String(text)) if text.len() >= 19 && text.as_bytes().get(10) == Some(&b'T') => when(Some(text)),
        (_, Value::String(text)) => format!("{text:?}"),
        (_, other) => other.to_string(),
    }
}

/// Every field of one credential, one per line.
pub fn record(r: &CredentialRecord) -> String {
    let mut table = plain();
    let scopes = if r.scopes.is_empty() {
        "none (only GET /whoami)".to_owned()
    } else {
        r.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    };
    let from = if r.allowed_ips.is_empty() { "anywhere".to_owned() } else { r.allowed_ips.join("\n") };
    let rows = [
        ("api key", r.api_key.clone()),
        ("label", r.label.clone().unwrap_or_else(|| "-".into())),
        ("status", status(r).into()),
        ("expires (UTC)", r.expires_at.as_deref().map_or_else(|| "never".into(), |t| when(Some(t)))),
        ("scopes", scopes),
        ("allowed from", from),
        ("rate limit", rate_limit(r.rate_limit)),
        ("created (UTC)", when(Some(&r.created_at))),
        ("last used (UTC)", when(r.last_used_at.as_deref())),
        ("revoked (UTC)", when(r.revoked_at.as_deref())),
        ("revoked by", r.revoked_by.clone().unwrap_or_else(|| "-".into())),
    ];
    for (name, value) in rows {
        table.add_row([name.to_owned(), value]);
    }
    if let Some(width) = width() {
        table.set_content_arrangement(ContentArrangement::Dynamic).set_width(width);
        if let Some(column) = table.column_mut(1) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use et_api::CredentialRecord;

    fn record(label: &str) -> CredentialRecord {
        CredentialRecord {
            api_key: format!("ak_{}", "0123456789".repeat(4)),
            label: Some(label.into()),
            active: false,
            created_at: "2026-11-26T11:01:39.123Z".into(),
            revoked_at: Some("2026-11-27T11:01:39.123Z".into()),
            revoked_by: Some(format!("ak_{}", "9876543210".repeat(4))),
            last_used_at: Some("2026-11-26T12:01:39.123Z".into()),
            status: et_api::CredentialStatus::Revoked,
            expires_at: None,
            scopes: et_api::Scope::all(),
            allowed_ips: vec![],
            rate_limit: None,
        }
    }

    /// Credentials with every kind of limit, as `list --status all` shows them.
    fn varied() -> Vec<CredentialRecord> {
        use et_api::{CredentialStatus, RateLimit, Scope};
        let key = |digit: char| format!("ak_{}", digit.to_string().repeat(40));
        let mut operator = record("ops");
        operator.api_key = key('1');
        operator.active = true;
        operator.status = CredentialStatus::Active;
        operator.revoked_at = None;
        operator.revoked_by = None;
        let mut monitoring = operator.clone();
        monitoring.api_key = key('2');
        monitoring.label = Some("monitoring".into());
        monitoring.scopes = vec![Scope::AccountsRead];
        monitoring.allowed_ips = vec!["127.0.0.2/32".into()];
        monitoring.expires_at = Some("2027-03-01T00:00:00.000Z".into());
        let mut ci = operator.clone();
        ci.api_key = key('3');
        ci.label = Some("ci deploys of the billing service, eastern region".into());
        ci.scopes = vec![Scope::AccountsRead, Scope::AccountsWrite, Scope::CredentialsRead];
        ci.allowed_ips = vec!["10.0.0.0/8".into(), "2001:db8::/32".into(), "::1/128".into()];
        ci.rate_limit = Some(RateLimit { limit: 100, window_s: 60 });
        let mut expired = operator.clone();
        expired.api_key = key('4');
        expired.label = None;
        expired.status = CredentialStatus::Expired;
        expired.expires_at = Some("2026-12-01T10:00:02.000Z".into());
        let mut revoked = record("old");
        revoked.scopes = vec![];
        vec![operator, monitoring, ci, expired, revoked]
    }

    #[test]
    fn limits_are_written_compactly() {
        use et_api::Scope;
        assert_eq!(super::scopes_compact(&Scope::all()), "all");
        assert_eq!(super::scopes_compact(&[]), "none");
        assert_eq!(super::scopes_compact(&[Scope::AccountsRead]), "acc:r");
        assert_eq!(super::scopes_compact(&[Scope::AccountsWrite, Scope::CredentialsRead]), "acc:w,cred:r");
        assert_eq!(super::scopes_compact(&[Scope::CredentialsRead, Scope::CredentialsWrite]), "cred:rw");
        assert_eq!(super::addresses_compact(&[]), "any");
        assert_eq!(super::addresses_compact(&["::1/128".into()]), "::1/128");
        assert_eq!(
            super::addresses_compact(&["10.0.0.0/8".into(), "::1/128".into(), "1.2.3.4/32".into()]),
            "10.0.0.0/8 +2"
        );
        assert_eq!(super::expiry_date(None), "never");
        assert_eq!(super::expiry_date(Some("2027-03-01T00:00:00.000Z")), "2027-03-01");
        assert_eq!(super::rate_limit(Some(et_api::RateLimit { limit: 100, window_s: 60 })), "100 per 1m");
        assert_eq!(super::rate_limit(None), "none");
    }

    /// The list at a width: every line fits, no key (of a credential or of who revoked it) breaks.
    fn list_at(width: Option<u16>) -> (String, Vec<&'static str>) {
        let records = varied();
        let (text, dropped, _) = super::records_at(&records, width);
        for line in text.lines() {
            assert!(width.is_none_or(|w| line.chars().count() <= usize::from(w)), "wider than {width:?}:\n{text}");
        }
        for r in &records {
            assert!(text.contains(&r.api_key), "{} broke at {width:?}:\n{text}", r.api_key);
            if let (Some(by), false) = (&r.revoked_by, dropped.contains(&"REVOKED BY")) {
                assert!(text.contains(by.as_str()), "{by} broke at {width:?}:\n{text}");
            }
        }
        (text, dropped)
    }

    #[test]
    fn at_80_columns_the_limits_stack_and_no_key_breaks() {
        let (text, dropped) = list_at(Some(80));
        assert_eq!(dropped, ["REVOKED BY", "CREATED (UTC)", "LAST USED (UTC)"]);
        for shown in ["acc:r", "127.0.0.2/32", "2027-03-01", "10.0.0.0/8 +2", "acc:rw,cred:r", "expired", "revoked"] {
            assert!(text.contains(shown), "{shown} is not shown:\n{text}");
        }
        insta::assert_snapshot!("list_80_columns", text);
    }

    #[test]
    fn at_120_columns_the_limits_have_a_column_each() {
        let (text, dropped) = list_at(Some(120));
        assert_eq!(dropped, ["REVOKED BY", "CREATED (UTC)", "LAST USED (UTC)"]);
        assert!(text.lines().nth(1).unwrap().contains("EXPIRES (UTC)"), "{text}");
        insta::assert_snapshot!("list_120_columns", text);
    }

    #[test]
    fn at_80_columns_labels_go_under_the_keys() {
        let records: Vec<_> = varied().into_iter().filter(|r| r.allowed_ips.len() < 2).collect();
        let (text, dropped, _) = super::records_at(&records, Some(80));
        assert_eq!(dropped, ["REVOKED BY", "CREATED (UTC)", "LAST USED (UTC)"], "{text}");
        assert_eq!(super::wrap("ci deploys of the billing service", 12), "ci deploys\nof the\nbilling\nservice");
        assert_eq!(super::wrap("abcdefghij k", 4), "abcd\nefgh\nij k");
        assert_eq!(super::wrap("", 4), "");
        assert!(text.contains("monitoring") && text.contains("127.0.0.2/32"), "{text}");
        let (long, _) = list_at(Some(80));
        assert!(long.contains("ci deploys of the billing service, eastern") && long.contains("region"), "{long}");
    }

    #[test]
    fn off_a_terminal_nothing_is_stacked_or_left_out() {
        let (text, dropped) = list_at(None);
        assert!(dropped.is_empty());
        assert_eq!(text.lines().count(), 3 + varied().len() + 1, "one line a row:\n{text}");
    }

    #[test]
    fn show_lists_every_limit_in_full() {
        let text = super::record(&varied()[2]);
        for shown in ["accounts:read", "accounts:write", "credentials:read", "10.0.0.0/8", "::1/128", "100 per 1m"] {
            assert!(text.contains(shown), "{shown} is not shown:\n{text}");
        }
        assert!(!text.contains("credentials:write"), "{text}");
        insta::assert_snapshot!("show_limits", text);
    }

    #[test]
    fn audit_events_read_as_sentences_of_what_changed() {
        let event = |id, action: &str, actor: &str, changes: Option<serde_json::Value>| et_api::AuditEvent {
            id,
            at: "2026-12-02T04:12:15.123Z".into(),
            api_key: format!("ak_{}", "2".repeat(40)),
            action: action.into(),
            actor: actor.into(),
            reason: None,
            changes,
        };
        let update = event(
            3,
            "update",
            &format!("ak_{}", "1".repeat(40)),
            Some(serde_json::json!({
                "scopes": {"from": ["accounts:read", "accounts:write", "credentials:read", "credentials:write"], "to": ["accounts:read"]},
                "expires_at": {"from": null, "to": "2027-03-01T00:00:00.000Z"},
                "rate_limit": {"from": null, "to": {"limit": 10, "window_s": 1}},
                "allowed_ips": {"from": [], "to": ["127.0.0.2/32"]},
                "label": {"from": null, "to": "monitoring"},
            })),
        );
        let details = super::details(&update);
        for part in [
            "scopes: all → acc:r",
            "expires_at: never → 2027-03-01 00:00:00",
            "rate_limit: none → 10 per 1s",
            "allowed_ips: any → 127.0.0.2/32",
            "label: - → \"monitoring\"",
        ] {
            assert!(details.contains(part), "{part} is not in {details}");
        }
        let mut revoke = event(4, "revoke", "db", None);
        revoke.reason = Some("stolen laptop".into());
        assert_eq!(super::details(&revoke), "stolen laptop");
        assert_eq!(super::details(&event(1, "register", "api", None)), "-");
    }

    #[test]
    fn timestamps_are_shortened_to_the_second() {
        assert_eq!(super::when(Some("2026-11-26T11:01:39.123Z")), "2026-11-26 11:01:39");
        assert_eq!(super::when(Some("yesterday")), "yesterday");
        assert_eq!(super::when(None), "-");
    }

    #[test]
    fn at_80_columns_no_key_breaks_and_columns_are_dropped_instead() {
        let records = [record("billing service of the east region, the one with the long name"), record("x")];
        let columns = |records: &[CredentialRecord]| {
            vec![
                super::Column {
                    header: "API KEY",
                    wraps: false,
                    values: records.iter().map(|r| r.api_key.clone()).collect(),
                    rank: 0,
                },
                super::Column {
                    header: "LABEL",
                    wraps: true,
                    values: records.iter().map(|r| r.label.clone().unwrap()).collect(),
                    rank: 2,
                },
                super::Column {
                    header: "STATUS",
                    wraps: false,
                    values: records.iter().map(|r| super::status(r).into()).collect(),
                    rank: 1,
                },
                super::Column {
                    header: "REVOKED BY",
                    wraps: false,
                    values: records.iter().map(|r| r.revoked_by.clone().unwrap()).collect(),
                    rank: 5,
                },
            ]
        };
        for width in [60u16, 80, 100, 120] {
            let (table, dropped) = super::fit(columns(&records), Some(width));
            let text = table.to_string();
            for line in text.lines() {
                assert!(line.chars().count() <= usize::from(width), "wider than {width}:\n{text}");
            }
            assert!(text.contains(&records[0].api_key), "a key broke at {width}:\n{text}");
            if !dropped.contains(&"REVOKED BY") {
                assert!(
                    text.contains(records[0].revoked_by.as_deref().unwrap()),
                    "revoked_by broke at {width}:\n{text}"
                );
            }
        }
        assert_eq!(super::fit(columns(&records), Some(80)).1, ["REVOKED BY"]);
        assert!(super::fit(columns(&records), None).1.is_empty());
    }
}
