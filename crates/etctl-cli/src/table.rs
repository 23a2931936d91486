//! Credential records for people: comfy-table, timestamps shortened to the second, "-" for none.
//!
//! On a terminal the table fits its width (or `COLUMNS`): keys and other identifiers never break
//! across lines; columns are dropped, least useful first, until the rest fit, and only a label
//! wraps. Off a terminal nothing is wrapped or dropped.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
use et_api::CredentialRecord;

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
    if record.active { "active" } else { "revoked" }
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
    /// The narrowest it can be: its longest value when it must not wrap, else a few characters.
    fn min_width(&self) -> usize {
        let longest =
            self.values.iter().chain(std::iter::once(&self.header.to_owned())).map(|v| v.chars().count()).max();
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

/// One row per credential: key, label, status, created, last used, revoked by (times in UTC). On a
/// narrow terminal revoked by, created and last used go first, in that order; a note on stderr
/// says which.
pub fn records(records: &[CredentialRecord]) -> String {
    let column = |header, wraps, rank, f: &dyn Fn(&CredentialRecord) -> String| Column {
        header,
        wraps,
        values: records.iter().map(f).collect(),
        rank,
    };
    let columns = vec![
        column("API KEY", false, 0, &|r| r.api_key.clone()),
        column("LABEL", true, 2, &|r| r.label.clone().unwrap_or_else(|| "-".into())),
        column("STATUS", false, 1, &|r| status(r).into()),
        column("CREATED (UTC)", false, 4, &|r| when(Some(&r.created_at))),
        column("LAST USED (UTC)", false, 3, &|r| when(r.last_used_at.as_deref())),
        column("REVOKED BY", false, 5, &|r| r.revoked_by.clone().unwrap_or_else(|| "-".into())),
    ];
    let width = width();
    let (table, dropped) = fit(columns, width);
    if !dropped.is_empty() {
        output::note(&format!(
            "({} left out to fit {} columns; widen the terminal, or see `etctl show KEY` or --json)",
            dropped.join(", "),
            width.unwrap_or_default()
        ));
    }
    table.to_string()
}

/// Every field of one credential, one per line.
pub fn record(r: &CredentialRecord) -> String {
    let mut table = plain();
    let rows = [
        ("api key", r.api_key.clone()),
        ("label", r.label.clone().unwrap_or_else(|| "-".into())),
        ("status", status(r).into()),
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
