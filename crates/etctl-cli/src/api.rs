//! The operator commands that talk to a ledger's API: register, list, show, revoke, whoami,
//! status, and login/logout/profiles, which save what the others use.

use std::time::SystemTime;

use et_api::client::{ClientError, Credentials};
use et_api::{CredentialRecord, ErrorCode, RateLimit, RegisterRequest, Scope, SecretString, UpdateRequest};
use et_core::{ApiKey, ApiSecret};
use serde::Serialize;

use crate::cli::{
    AuditArgs, GlobalArgs, ListArgs, ListFilter, LoginArgs, PolicyArgs, ProfileArg, ProfilesArgs, ProfilesUseArgs,
    RegisterArgs, RevokeArgs, ScopeName, ShowArgs, StatusArgs, UPDATE_FLAGS, UpdateArgs, WhoamiArgs,
};
use crate::exit::{Class, Failure, Outcome};
use crate::output::{Out, note, warn};
use crate::profile::{self, Chosen, CredentialSource, ProfilesFile, SecretIn};
use crate::values::{self, ANY_ADDRESS};
use crate::{input, status_filter, table};

/// Checks an `ak_` key locally (format and checksum), before any call.
pub fn parse_key(text: &str) -> Result<ApiKey, Failure> {
    ApiKey::parse(text).map_err(|e| Failure::bad_input(e.to_string()))
}

/// Checks an `sk_` secret's format locally; the message never quotes the secret.
pub fn parse_secret(text: &str) -> Result<ApiSecret, Failure> {
    ApiSecret::parse(text).map_err(|e| Failure::bad_input(e.to_string()))
}

/// A credential's limits as the flags give them: `None` = not given (unchanged, or the ledger's
/// default at registration); `Some(None)` = cleared (`--no-expiry`, `--no-rate-limit`).
#[derive(Debug, Default, PartialEq)]
pub struct Policy {
    pub scopes: Option<Vec<Scope>>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<Option<String>>,
    pub rate_limit: Option<Option<RateLimit>>,
}

impl Policy {
    /// Checks what clap could not (a time in the past, `any` with addresses) as of `now`.
    pub fn from_args(args: &PolicyArgs, now: SystemTime) -> Result<Policy, Failure> {
        let scopes = (!args.scopes.is_empty()).then(|| {
            let set: et_api::Scopes = args.scopes.iter().map(|s| scope(*s)).collect();
            set.to_vec()
        });
        let allowed_ips = match args.allow_ips.iter().any(|a| a == ANY_ADDRESS) {
            _ if args.allow_ips.is_empty() => None,
            true if args.allow_ips.len() > 1 => {
                return Err(Failure::usage(
                    "--allow-ip any means from anywhere, so it cannot be given with addresses; give either `any` or the addresses",
                ));
            }
            true => Some(Vec::new()),
            false => Some(args.allow_ips.clone()),
        };
        let expires_at = if let Some(after) = args.expires_in {
            Some(Some(values::after_now(after).map_err(|e| Failure::usage(format!("--expires-in: {e}")))?))
        } else if let Some(at) = args.expires_at {
            let at = SystemTime::from(at);
            if at <= now {
                return Err(Failure::usage(format!(
                    "--expires-at {} is in the past; give a time to come, or --expires-in 90d",
                    values::rfc3339_millis(at)
                )));
            }
            Some(Some(values::rfc3339_millis(at)))
        } else if args.no_expiry {
            Some(None)
        } else {
            None
        };
        let rate_limit = match (args.rate_limit, args.no_rate_limit) {
            (Some(rate), _) => Some(Some(RateLimit { limit: rate.limit, window_s: rate.window_s })),
            (None, true) => Some(None),
            (None, false) => None,
        };
        Ok(Policy { scopes, allowed_ips, expires_at, rate_limit })
    }
}

fn scope(name: ScopeName) -> Scope {
    match name {
        ScopeName::AccountsRead => Scope::AccountsRead,
        ScopeName::AccountsWrite => Scope::AccountsWrite,
        ScopeName::CredentialsRead => Scope::CredentialsRead,
        ScopeName::CredentialsWrite => Scope::CredentialsWrite,
    }
}

/// A credential's limits in one clause, for messages: `scopes acc:r, from 127.0.0.2/32, expires
/// 2026-12-31 00:00:00 UTC, at most 100 per 1m`.
pub fn limits(record: &CredentialRecord) -> String {
    let expires = match &record.expires_at {
        Some(at) => format!("expires {} UTC", table::when(Some(at))),
        None => "never expires".into(),
    };
    let rate = match record.rate_limit {
        Some(rl) => format!(", at most {}", table::rate_limit(Some(rl))),
        None => String::new(),
    };
    format!(
        "scopes {}, from {}, {expires}{rate}",
        table::scopes_compact(&record.scopes),
        table::addresses_compact(&record.allowed_ips)
    )
}

/// `etctl register`.
pub fn register(global: &GlobalArgs, args: &RegisterArgs) -> Outcome {
    let key = parse_key(&args.api_key)?;
    let policy = Policy::from_args(&args.policy, SystemTime::now())?;
    let target = profile::resolve(global, false)?;
    let (text, _) = input::secret("API secret", "ETCTL_NEW_API_SECRET")?;
    let secret = parse_secret(&text)?;
    let request = RegisterRequest {
        label: args.label.clone(),
        expires_at: policy.expires_at.flatten(),
        scopes: policy.scopes,
        allowed_ips: policy.allowed_ips,
        rate_limit: policy.rate_limit.flatten(),
        ..RegisterRequest::new(key.to_string(), SecretString::new(secret.expose()))
    };
    // The operator credential goes along when there is one: a ledger with `authenticated`
    // registration needs it (an open one ignores it).
    let record =
        target.client()?.register(&request).map_err(|e| Failure::from_client(e, &format!("registering {key}")))?;
    let mut out = Out::new();
    if args.json {
        out.json(&record)?;
    } else {
        let label = record.label.as_deref().map(|l| format!(" (label {l:?})")).unwrap_or_default();
        note(&format!("registered {}{label} on {}: {}", record.api_key, target.url, limits(&record)));
    }
    if let (true, Some(at)) = (args.policy.no_expiry, &record.expires_at) {
        warn(&format!(
            "the ledger gives credentials a maximum lifetime (LEDGERD_MAX_CREDENTIAL_LIFETIME), so this one expires at {} UTC despite --no-expiry",
            table::when(Some(at))
        ));
    }
    out.flush()
}

/// `etctl update`: one PATCH with the flags given, and nothing else changed.
pub fn update(global: &GlobalArgs, args: &UpdateArgs) -> Outcome {
    let policy = Policy::from_args(&args.policy, SystemTime::now())?;
    let request = UpdateRequest {
        // An empty label removes it.
        label: args.label.as_ref().map(|l| Some(l.trim().to_owned()).filter(|l| !l.is_empty())),
        scopes: policy.scopes,
        allowed_ips: policy.allowed_ips,
        expires_at: policy.expires_at,
        rate_limit: policy.rate_limit,
    };
    if request.is_empty() {
        return Err(Failure::usage(format!(
            "nothing to change: give at least one of {UPDATE_FLAGS} (see `etctl update --help`)"
        )));
    }
    let key = parse_key(&args.api_key)?;
    let target = profile::resolve(global, true)?;
    let record = target
        .client()?
        .update(key.as_str(), &request)
        .map_err(|e| newer_route(e, &format!("updating {key}"), "PATCH /credentials/{api_key}", &target.url))?;
    let mut out = Out::new();
    if args.json {
        out.json(&record)?;
    } else {
        let label = record.label.as_deref().map(|l| format!(" (label {l:?})")).unwrap_or_default();
        note(&format!("updated {}{label} on {}: {}", record.api_key, target.url, limits(&record)));
    }
    out.flush()
}

/// Classifies an error of a route that ledgers older than SPEC §6 lack: their "no such route" (404
/// `NOT_FOUND`, 405 `METHOD_NOT_ALLOWED`) says so, rather than only blaming the URL.
pub fn newer_route(error: ClientError, doing: &str, route: &str, url: &str) -> Failure {
    match &error {
        ClientError::Api { body, .. } if matches!(body.code, ErrorCode::NotFound | ErrorCode::MethodNotAllowed) => {
            Failure::new(
                Class::Unreachable,
                format!(
                    "{doing}: the server at {url} has no {route} ({}): a ledgerd older than credential limits (SPEC §6) needs an upgrade; else check that --url / ETCTL_URL is the API's root (http://HOST:PORT)",
                    body.code
                ),
            )
        }
        _ => Failure::from_client(error, doing),
    }
}

/// `etctl audit`: the trail from the API, newest first, every page unless `--limit`.
pub fn audit(global: &GlobalArgs, args: &AuditArgs) -> Outcome {
    let key = args.api_key.as_deref().map(parse_key).transpose()?;
    let target = profile::resolve(global, true)?;
    let events = target
        .client()?
        .audit(key.as_ref().map(ApiKey::as_str), args.limit)
        .map_err(|e| newer_route(e, "reading the audit trail", "GET /audit", &target.url))?;
    print_audit(&events, key.as_ref().map(ApiKey::as_str), args.json)
}

/// Keeps the records whose label matches `--label` (a glob; a credential without a label never
/// matches).
fn filter_label(records: Vec<CredentialRecord>, pattern: Option<&str>) -> Result<Vec<CredentialRecord>, Failure> {
    let Some(pattern) = pattern else { return Ok(records) };
    let glob = glob::Pattern::new(pattern).map_err(|e| {
        Failure::usage(format!("--label {pattern:?} is not a valid pattern ({e}); use * and ? as wildcards"))
    })?;
    Ok(records.into_iter().filter(|r| r.label.as_deref().is_some_and(|l| glob.matches(l))).collect())
}

/// Prints a list of credentials as `--json`, `--quiet` or the table ask.
pub fn print_records(records: Vec<CredentialRecord>, filter: &ListFilter) -> Outcome {
    let records = filter_label(records, filter.label.as_deref())?;
    let mut out = Out::new();
    if filter.json {
        out.json(&records)?;
    } else if filter.quiet {
        for r in &records {
            out.line(&r.api_key)?;
        }
    } else if records.is_empty() {
        let labelled = filter.label.as_deref().map(|l| format!(" labelled {l:?}")).unwrap_or_default();
        note(&format!("no {} credentials{labelled}", status_filter(filter.status).as_str()));
    } else {
        out.line(&table::records(&records))?;
    }
    out.flush()
}

/// Audit events as a table (newest first, as given) or a JSON array, for `etctl audit` and
/// `etctl db audit`; `key` when they are all of one credential, which the table then leaves out.
pub fn print_audit(events: &[et_api::AuditEvent], key: Option<&str>, json: bool) -> Outcome {
    let mut out = Out::new();
    if json {
        out.json(&events)?;
    } else if events.is_empty() {
        note(&key.map_or_else(|| "no audit events".to_owned(), |k| format!("no audit events for {k}")));
    } else {
        out.line(&table::audit(events, key.is_none()))?;
    }
    out.flush()
}

/// `etctl list`.
pub fn list(global: &GlobalArgs, args: &ListArgs) -> Outcome {
    let target = profile::resolve(global, true)?;
    let status = status_filter(args.filter.status);
    let records = target.client()?.list_all(status).map_err(|e| Failure::from_client(e, "listing credentials"))?;
    print_records(records, &args.filter)
}

/// `etctl show`: the credential given, or without one, the operator credential in use.
pub fn show(global: &GlobalArgs, args: &ShowArgs) -> Outcome {
    let given = args.api_key.as_deref().map(parse_key).transpose()?;
    let target = profile::resolve(global, true)?;
    let client = target.client()?;
    let key = match given {
        Some(key) => key.to_string(),
        None => client.whoami().map_err(|e| Failure::from_client(e, "asking who the credential is"))?.api_key,
    };
    let record = client.get(&key).map_err(|e| Failure::from_client(e, &format!("showing {key}")))?;
    let mut out = Out::new();
    if args.json {
        out.json(&record)?;
    } else {
        out.line(&table::record(&record))?;
    }
    out.flush()
}

/// How a credential source reads in a sentence.
fn credential_from(source: &CredentialSource) -> String {
    match source {
        CredentialSource::Env => "ETCTL_API_KEY".into(),
        CredentialSource::Profile(name) => format!("profile {name:?}"),
    }
}

/// `etctl revoke`. The question names the label, and says so when the credential is the one
/// etctl itself is using.
pub fn revoke(global: &GlobalArgs, args: &RevokeArgs) -> Outcome {
    let key = parse_key(&args.api_key)?;
    let target = profile::resolve(global, true)?;
    let client = target.client()?;
    let own = target.credential.as_ref().filter(|(c, _)| c.api_key == key.as_str()).map(|(_, source)| source);
    if let Some(source) = own {
        warn(&format!(
            "{key} is the credential etctl is using now (from {}); once it is revoked, etctl cannot reach this ledger until you switch to another credential (`etctl rotate` does both safely)",
            credential_from(source)
        ));
    }
    if !args.yes {
        let record = client.get(key.as_str()).map_err(|e| Failure::from_client(e, &format!("looking up {key}")))?;
        if !record.active {
            return Err(Failure::new(
                Class::NotFound,
                format!(
                    "revoking {key}: it is already revoked (by {}, at {}); nothing to do",
                    record.revoked_by.as_deref().unwrap_or("?"),
                    table::when(record.revoked_at.as_deref())
                ),
            ));
        }
        let label = record.label.as_deref().map(|l| format!(" (label {l:?})")).unwrap_or_default();
        input::confirm(
            &format!("Revoke {key}{label} on {}? It can never be reactivated.", target.url),
            false,
            &format!("not revoking {key}"),
        )?;
    }
    let answer = client.revoke(key.as_str()).map_err(|e| Failure::from_client(e, &format!("revoking {key}")))?;
    let mut out = Out::new();
    if args.json {
        out.json(&answer)?;
    } else {
        note(&format!("revoked {key} on {}", target.url));
    }
    out.flush()
}

/// `etctl whoami`.
pub fn whoami(global: &GlobalArgs, args: &WhoamiArgs) -> Outcome {
    let target = profile::resolve(global, true)?;
    let me = target.client()?.whoami().map_err(|e| Failure::from_client(e, "asking who the credential is"))?;
    let mut out = Out::new();
    if args.json {
        out.json(&me)?;
    } else {
        match &me.label {
            Some(label) => out.line(&format!("{}\t{label}", me.api_key))?,
            None => out.line(&me.api_key)?,
        }
    }
    out.flush()
}

#[derive(Serialize)]
struct Status {
    url: String,
    url_from: String,
    api_key: Option<String>,
    credential_from: Option<String>,
    /// Whether the ledger answered `GET /health` (an unhealthy ledger answers too).
    reachable: bool,
    /// Whether the ledger accepted the credential (`GET /whoami`); null without one.
    authenticated: Option<bool>,
    label: Option<String>,
    server_version: Option<String>,
    instance: Option<String>,
    /// What went wrong, when something did.
    problem: Option<String>,
}

/// `etctl status`: what etctl would use and whether it works. Exits with the class of the first
/// problem (no credential 3, unreachable 4, refused 5), after printing everything it found.
pub fn status(global: &GlobalArgs, args: &StatusArgs) -> Outcome {
    let target = profile::resolve(global, false)?;
    let mut problem: Option<Failure> = None;
    let credential = match profile::resolve(global, true) {
        Ok(t) => t.credential,
        Err(f) => {
            problem = Some(f);
            None
        }
    };
    let client = target.anonymous()?;
    let reachable = match client.health() {
        Ok(_) => true,
        Err(e @ et_api::client::ClientError::Api { .. }) => {
            // An unhealthy ledger (503) still answers as the ledger.
            let f = Failure::from_client(e, "checking the ledger's health");
            problem.get_or_insert(f);
            true
        }
        Err(e) => {
            problem = Some(Failure::from_client(e, "reaching the ledger"));
            false
        }
    };
    let mut status = Status {
        url: target.url.clone(),
        url_from: target.url_source.describe(),
        api_key: credential.as_ref().map(|(c, _)| c.api_key.clone()),
        credential_from: credential.as_ref().map(|(_, s)| credential_from(s)),
        reachable,
        authenticated: None,
        label: None,
        server_version: None,
        instance: None,
        problem: None,
    };
    if let (true, Some((credentials, _))) = (reachable, &credential) {
        match client.with_credentials(credentials.clone()).whoami() {
            Ok(me) => {
                status.authenticated = Some(true);
                status.label = me.label;
                status.server_version = me.version;
                status.instance = me.instance;
            }
            Err(e) => {
                status.authenticated = Some(false);
                problem.get_or_insert(Failure::from_client(e, "checking the credential"));
            }
        }
    }
    status.problem = problem.as_ref().map(|f| f.message.clone());
    let mut out = Out::new();
    if args.json {
        out.json(&status)?;
    } else {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let credential_line = match (&status.api_key, &status.credential_from) {
            (Some(key), Some(from)) => {
                let label = status.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
                format!("{key}{label}    from {from}")
            }
            _ => "none".into(),
        };
        let answers = match (status.reachable, status.authenticated) {
            (false, _) => "no".to_owned(),
            (true, Some(true)) => "yes, and it accepts the credential".to_owned(),
            (true, Some(false)) => "yes, but it refuses the credential".to_owned(),
            (true, None) => "yes".to_owned(),
        };
        out.line(&format!("ledger      {}    from {}", status.url, status.url_from))?;
        out.line(&format!("credential  {credential_line}"))?;
        out.line(&format!("answers     {answers}"))?;
        out.line(&format!("server      {}", dash(&status.server_version)))?;
        out.line(&format!("instance    {}", dash(&status.instance)))?;
    }
    out.flush()?;
    match problem {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// `etctl login`: checks the credential with `GET /whoami`, then saves URL and credential.
pub fn login(global: &GlobalArgs, args: &LoginArgs) -> Outcome {
    let mut file = ProfilesFile::load()?;
    let (name, _) = profile::selected_name(global.profile.as_deref(), &file);
    profile::check_name(&name)?;
    let url = global
        .url
        .clone()
        .or_else(|| std::env::var("ETCTL_URL").ok().filter(|u| !u.trim().is_empty()))
        .or_else(|| file.profiles.get(&name).map(|p| p.url.clone()))
        .unwrap_or_else(|| crate::cli::DEFAULT_URL.to_owned());
    let key_text = args
        .api_key
        .clone()
        .or_else(|| std::env::var("ETCTL_API_KEY").ok().filter(|k| !k.trim().is_empty()))
        .or_else(|| input::prompt_text("API key (ak_…)"))
        .ok_or_else(|| {
            Failure::usage("no API key given: pass --api-key ak_… or set ETCTL_API_KEY (the secret comes from stdin, ETCTL_API_SECRET or a prompt)")
        })?;
    let key = parse_key(key_text.trim())?;
    let (text, _) = input::secret("API secret", "ETCTL_API_SECRET")?;
    let secret = parse_secret(&text)?;

    let credentials = Credentials { api_key: key.to_string(), api_secret: SecretString::new(secret.expose()) };
    let target = profile::Target::at(&url, global.timeout());
    let me = target
        .client_as(credentials.clone())?
        .whoami()
        .map_err(|e| Failure::from_client(e, &format!("logging in to {url}")))?;
    if me.api_key != key.as_str() {
        return Err(Failure::internal(format!(
            "the ledger at {url} says the credential is {}, not {key}; is the URL right?",
            me.api_key
        )));
    }
    let secret_in = file.put(&name, &url, key.as_str(), &credentials.api_secret);
    file.save()?;
    let place = match secret_in {
        SecretIn::Keyring => "the secret is in the OS keyring".to_owned(),
        SecretIn::File => "the secret is in the 0600 profiles file; no OS keyring was reachable".to_owned(),
    };
    let label = me.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
    note(&format!("logged in to {url} as {key}{label}; saved as profile {name:?} ({place})"));
    Ok(())
}

/// `etctl logout`.
pub fn logout(args: &ProfileArg) -> Outcome {
    let mut file = ProfilesFile::load()?;
    let (name, _) = profile::selected_name(args.profile.as_deref(), &file);
    profile::check_name(&name)?;
    if !file.remove(&name) {
        return Err(Failure::config(format!("there is no profile {name:?}; see `etctl profiles`")));
    }
    file.save()?;
    note(&format!("forgot profile {name:?} (the credential itself is still valid on the ledger; revoke it to end it)"));
    Ok(())
}

#[derive(Serialize)]
struct ProfileRow<'a> {
    name: &'a str,
    url: &'a str,
    api_key: &'a str,
    secret_in: SecretIn,
    selected: bool,
}

/// `etctl profiles`.
pub fn profiles(global: &ProfileArg, args: &ProfilesArgs) -> Outcome {
    let file = ProfilesFile::load()?;
    let (selected, chosen) = profile::selected_name(global.profile.as_deref(), &file);
    let rows: Vec<ProfileRow<'_>> = file
        .profiles
        .iter()
        .map(|(name, p)| ProfileRow {
            name,
            url: &p.url,
            api_key: &p.api_key,
            secret_in: p.secret_in,
            selected: *name == selected,
        })
        .collect();
    let mut out = Out::new();
    if args.json {
        out.json(&rows)?;
    } else if args.quiet {
        for r in &rows {
            out.line(r.name)?;
        }
    } else if rows.is_empty() {
        note("no profiles; save one with `etctl login`");
    } else {
        let mut t = table::plain();
        t.set_header(["", "PROFILE", "URL", "API KEY", "SECRET IN"]);
        for r in &rows {
            let secret_in = match r.secret_in {
                SecretIn::Keyring => "keyring",
                SecretIn::File => "file",
            };
            t.add_row([if r.selected { "*" } else { "" }, r.name, r.url, r.api_key, secret_in]);
        }
        out.line(&t.to_string())?;
        if rows.iter().any(|r| r.selected) {
            note(&format!("* in use (chosen by {})", chosen.describe()));
        } else if chosen == Chosen::Default {
            note("no profile is selected: choose one with `etctl profiles use NAME`, --profile or ETCTL_PROFILE");
        }
    }
    out.flush()
}

/// `etctl profiles use NAME`: remembers NAME as the profile to use by default.
pub fn profiles_use(args: &ProfilesUseArgs) -> Outcome {
    profile::check_name(&args.name)?;
    let mut file = ProfilesFile::load()?;
    if !file.profiles.contains_key(&args.name) {
        let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        let known =
            if known.is_empty() { "there are none yet".to_owned() } else { format!("saved: {}", known.join(", ")) };
        return Err(Failure::config(format!(
            "there is no profile {:?} ({known}); save it first with `etctl login --profile {}`",
            args.name, args.name
        )));
    }
    file.current = Some(args.name.clone());
    file.save()?;
    note(&format!("etctl now uses profile {:?} unless --profile or ETCTL_PROFILE names another", args.name));
    if std::env::var("ETCTL_PROFILE").is_ok_and(|v| !v.trim().is_empty()) {
        warn("ETCTL_PROFILE is set in this shell, and wins over this choice until you unset it");
    }
    Ok(())
}
