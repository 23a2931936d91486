//! Credential records for people: comfy-table, timestamps shortened to the second, "-" for none.

use comfy_table::{ContentArrangement, Table, presets};
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

fn table() -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    if output::stdout_is_terminal() {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table
}

/// One row per credential: key, label, status, created, last used, revoked by (times in UTC).
pub fn records(records: &[CredentialRecord]) -> String {
    let mut table = table();
    table.set_header(["API KEY", "LABEL", "STATUS", "CREATED (UTC)", "LAST USED (UTC)", "REVOKED BY"]);
    for r in records {
        table.add_row([
            r.api_key.clone(),
            r.label.clone().unwrap_or_else(|| "-".into()),
            status(r).into(),
            when(Some(&r.created_at)),
            when(r.last_used_at.as_deref()),
            r.revoked_by.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    table.to_string()
}

/// Every field of one credential, one per line.
pub fn record(r: &CredentialRecord) -> String {
    let mut table = table();
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
    table.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_shortened_to_the_second() {
        assert_eq!(super::when(Some("2026-11-26T11:01:39.123Z")), "2026-11-26 11:01:39");
        assert_eq!(super::when(Some("yesterday")), "yesterday");
        assert_eq!(super::when(None), "-");
    }
}
