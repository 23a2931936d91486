//! The operator commands that talk to a ledger's API: register, list, show, revoke, whoami, and
//! login/logout/profiles, which save what the others use.

use et_api::client::Credentials;
use et_api::{RegisterRequest, SecretString};
use et_core::{ApiKey, ApiSecret};
use serde::Serialize;

use crate::cli::{GlobalArgs, JsonArg, ListArgs, LoginArgs, RegisterArgs, RevokeArgs, ShowArgs};
use crate::exit::{Failure, Outcome};
use crate::output::{Out, note};
use crate::profile::{self, ProfilesFile, SecretIn};
use crate::{input, status_filter, table};

/// Checks an `ak_` key locally (format and checksum), before any call.
pub fn parse_key(text: &str) -> Result<ApiKey, Failure> {
    ApiKey::parse(text).map_err(|e| Failure::bad_input(e.to_string()))
}

/// Checks an `sk_` secret's format locally; the message never quotes the secret.
pub fn parse_secret(text: &str) -> Result<ApiSecret, Failure> {
    ApiSecret::parse(text).map_err(|e| Failure::bad_input(e.to_string()))
}

/// `etctl register`.
pub fn register(global: &GlobalArgs, args: &RegisterArgs) -> Outcome {
    let key = parse_key(&args.api_key)?;
    let target = profile::resolve(global, false)?;
    let (text, _) = input::secret("API secret", "ETCTL_NEW_API_SECRET")?;
    let secret = parse_secret(&text)?;
    let record = target
        .anonymous()?
        .register(&RegisterRequest {
            api_key: key.to_string(),
            api_secret: SecretString::new(secret.expose()),
            label: args.label.clone(),
        })
        .map_err(|e| Failure::from_client(e, &format!("registering {key}")))?;
    let mut out = Out::new();
    if args.json {
        out.json(&record)?;
    } else {
        let label = record.label.as_deref().map(|l| format!(" (label {l:?})")).unwrap_or_default();
        note(&format!("registered {}{label} on {}", record.api_key, target.url));
    }
    out.flush()
}

/// `etctl list`.
pub fn list(global: &GlobalArgs, args: &ListArgs) -> Outcome {
    let target = profile::resolve(global, true)?;
    let status = status_filter(args.status);
    let records = target.client()?.list_all(status).map_err(|e| Failure::from_client(e, "listing credentials"))?;
    let mut out = Out::new();
    if args.json {
        out.json(&records)?;
    } else if records.is_empty() {
        note(&format!("no {} credentials", status.as_str()));
    } else {
        out.line(&table::records(&records))?;
    }
    out.flush()
}

/// `etctl show`.
pub fn show(global: &GlobalArgs, args: &ShowArgs) -> Outcome {
    let key = parse_key(&args.api_key)?;
    let target = profile::resolve(global, true)?;
    let record = target.client()?.get(key.as_str()).map_err(|e| Failure::from_client(e, &format!("showing {key}")))?;
    let mut out = Out::new();
    if args.json {
        out.json(&record)?;
    } else {
        out.line(&table::record(&record))?;
    }
    out.flush()
}

/// `etctl revoke`.
pub fn revoke(global: &GlobalArgs, args: &RevokeArgs) -> Outcome {
    let key = parse_key(&args.api_key)?;
    let target = profile::resolve(global, true)?;
    input::confirm(
        &format!("Revoke {key} on {}? It can never be reactivated", target.url),
        args.yes,
        &format!("not revoking {key}"),
    )?;
    let answer =
        target.client()?.revoke(key.as_str()).map_err(|e| Failure::from_client(e, &format!("revoking {key}")))?;
    let mut out = Out::new();
    if args.json {
        out.json(&answer)?;
    } else {
        note(&format!("revoked {key} on {}", target.url));
    }
    out.flush()
}

/// `etctl whoami`.
pub fn whoami(global: &GlobalArgs, args: &JsonArg) -> Outcome {
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

/// `etctl login`: checks the credential with `GET /whoami`, then saves URL and credential.
pub fn login(global: &GlobalArgs, args: &LoginArgs) -> Outcome {
    let (name, _) = profile::selected_name(global);
    profile::check_name(&name)?;
    let mut file = ProfilesFile::load()?;
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
    let target = profile::Target::at(&url, global.timeout);
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
pub fn logout(global: &GlobalArgs) -> Outcome {
    let (name, _) = profile::selected_name(global);
    profile::check_name(&name)?;
    let mut file = ProfilesFile::load()?;
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
pub fn profiles(global: &GlobalArgs, args: &JsonArg) -> Outcome {
    let (selected, _) = profile::selected_name(global);
    let file = ProfilesFile::load()?;
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
    } else if rows.is_empty() {
        note("no profiles; save one with `etctl login`");
    } else {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["", "PROFILE", "URL", "API KEY", "SECRET IN"]);
        for r in &rows {
            let secret_in = match r.secret_in {
                SecretIn::Keyring => "keyring",
                SecretIn::File => "file",
            };
            t.add_row([if r.selected { "*" } else { "" }, r.name, r.url, r.api_key, secret_in]);
        }
        out.line(&t.to_string())?;
    }
    out.flush()
}
