//! `etctl rotate`: replace the operator credential in four steps — register the new pair (with
//! the old one's scopes, addresses and rate limit, so a rotation never widens what it may do),
//! prove it authenticates (`GET /whoami`), switch the saved profile to it, then revoke the old one
//! with the new one, or with `--grace` let it expire after the grace (a PATCH of its
//! `expires_at`) so what still uses it has time to move. A failed step stops the rotation where it
//! is; every state it can stop in is consistent (at worst both credentials are active), and the
//! error says which steps happened and what to do next. When the new secret was minted here and is
//! not saved in a profile, it is printed on stdout even on failure, so it is never lost.

use et_api::client::Credentials;
use et_api::{RegisterRequest, Scope, SecretString, UpdateRequest};
use et_core::ApiKey;
use serde::Serialize;

use crate::api::{parse_key, parse_secret};
use crate::cli::{Format, GlobalArgs, RotateArgs};
use crate::exit::Class;
use crate::exit::{Failure, Outcome};
use crate::output::{Out, note};
use crate::profile::{self, CredentialSource, ProfilesFile, SecretIn};
use crate::{input, table, values, vendor};

#[derive(Debug, Default, Serialize)]
struct Steps {
    registered: bool,
    verified: bool,
    /// `null` when the credential came from the environment, so there was no profile to switch.
    profile_switched: Option<bool>,
    old_revoked: bool,
    /// With `--grace`: the old credential's expiry was set instead of revoking it.
    old_expiry_set: bool,
}

#[derive(Debug, Serialize)]
struct Rotation {
    old_api_key: String,
    new_api_key: String,
    /// Only when etctl minted the new pair: nobody else knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_api_secret: Option<SecretString>,
    label: Option<String>,
    /// The profile now holding the new credential.
    profile: Option<String>,
    /// With `--grace`: when the old credential stops working (RFC 3339 UTC); null when it was
    /// revoked at once, or not yet.
    old_expires_at: Option<String>,
    steps: Steps,
}

fn exports(out: &mut Out, rotation: &Rotation, secret: &SecretString) -> Outcome {
    out.line(&format!("export ETCTL_API_KEY={}", rotation.new_api_key))?;
    out.line(&format!("export ETCTL_API_SECRET={}", secret.expose()))
}

/// Prints the outcome on stdout in the asked format.
fn emit(rotation: &Rotation, secret: &SecretString, format: Format) -> Outcome {
    let mut out = Out::new();
    match format {
        Format::Json => out.json(rotation)?,
        // `export` lines, as `ledgerd --dev` prints: `eval` of plain assignments would set shell
        // variables that etctl, a child process, never sees, while the old credential is revoked.
        Format::Env => exports(&mut out, rotation, secret)?,
        Format::Table => {
            let secret_only_here = rotation.new_api_secret.is_some() && rotation.steps.profile_switched != Some(true);
            if secret_only_here {
                exports(&mut out, rotation, secret)?;
            } else {
                out.line(&rotation.new_api_key)?;
            }
        }
    }
    out.flush()
}

/// Ends a rotation that stopped after step 1: prints what there is, then fails with `what` and
/// the way forward.
fn stop(rotation: &Rotation, secret: &SecretString, format: Format, failure: Failure, next: &str) -> Outcome {
    emit(rotation, secret, format)?;
    let s = &rotation.steps;
    let done = [
        ("registered the new credential", s.registered),
        ("proved it authenticates", s.verified),
        ("switched the profile", s.profile_switched == Some(true)),
        ("revoked the old credential", s.old_revoked),
        ("set the old credential to expire", s.old_expiry_set),
    ]
    .iter()
    .filter(|(_, ok)| *ok)
    .map(|(what, _)| *what)
    .collect::<Vec<_>>()
    .join(", ");
    Err(Failure::new(failure.class, format!("rotation stopped: {}; done so far: {done}; {next}", failure.message)))
}

pub fn rotate(global: &GlobalArgs, args: &RotateArgs) -> Outcome {
    let format = if args.json { Format::Json } else { args.format.unwrap_or(Format::Table) };
    // A grace ending past the year 9999 is refused before anything changes.
    if let Some(grace) = args.grace {
        values::after_now(grace).map_err(|e| Failure::usage(format!("--grace: {e}")))?;
    }
    let target = profile::resolve(global, true)?;
    let (old, source) = target.credential.clone().ok_or_else(|| Failure::config("no operator credential"))?;

    // The new pair, checked locally before anything changes.
    let (new_key, new_secret, minted) = if let Some(text) = &args.new_key {
        let key = parse_key(text)?;
        let (secret_text, _) = input::secret("new API secret", "ETCTL_NEW_API_SECRET")?;
        let secret = parse_secret(&secret_text)?;
        (key, SecretString::new(secret.expose()), false)
    } else {
        // The instance: --instance, else the one the ledger reports (GET /whoami), which also
        // proves the credential before the vendor key is loaded.
        let instance_text = match &args.instance {
            Some(instance) => instance.clone(),
            None => target
                .client()?
                .whoami()
                .map_err(|e| {
                    let f = Failure::from_client(e, &format!("asking the ledger its instance id with {}", old.api_key));
                    Failure::new(f.class, format!("{}; nothing was changed", f.message))
                })?
                .instance
                .ok_or_else(|| {
                    Failure::usage(
                        "this ledger does not report its instance id (it predates that); pass --instance INSTANCE, or --new-key ak_… with its secret on stdin (or in ETCTL_NEW_API_SECRET)",
                    )
                })?,
        };
        let instance = vendor::parse_instance(&instance_text)?;
        let master = vendor::load_master()?;
        let key = ApiKey::generate();
        let secret = master.instance_key(&instance).secret_for(&key);
        (key, SecretString::new(secret.expose()), true)
    };
    if new_key.as_str() == old.api_key {
        return Err(Failure::usage("the new key is the one in use; rotate to a different pair"));
    }

    // Step 0: the current credential must work, or there is nothing sound to rotate from.
    let old_client = target.client()?;
    let me = old_client.whoami().map_err(|e| {
        let f = Failure::from_client(e, &format!("checking the current credential {}", old.api_key));
        Failure::new(f.class, format!("{}; nothing was changed", f.message))
    })?;
    // The new credential ends the old one (revocation or expiry), which needs credentials:write:
    // without it, stop now rather than after registering.
    if !me.scopes.contains(&Scope::CredentialsWrite) {
        return Err(Failure::new(
            Class::Forbidden,
            format!(
                "{} lacks the scope credentials:write, which rotate needs to end it, and a rotation keeps the old scopes; nothing was changed; register a new pair with `etctl register` as a credential that holds it, and revoke this one",
                old.api_key
            ),
        ));
    }
    let label = args.label.clone().or(me.label);
    let profile_name = match &source {
        CredentialSource::Profile(name) => Some(name.clone()),
        CredentialSource::Env => None,
    };
    let mut rotation = Rotation {
        old_api_key: old.api_key.clone(),
        new_api_key: new_key.to_string(),
        new_api_secret: minted.then(|| new_secret.clone()),
        label: label.clone(),
        profile: None,
        old_expires_at: None,
        steps: Steps::default(),
    };

    // Step 1: register, with the old credential's limits (its expiry is its own: the new one gets
    // the ledger's default). As the old credential, for a ledger with authenticated registration.
    let request = RegisterRequest {
        label,
        // The defaults are left out, so a ledger older than these fields still takes the request.
        scopes: (me.scopes != Scope::all()).then(|| me.scopes.clone()),
        allowed_ips: (!me.allowed_ips.is_empty()).then(|| me.allowed_ips.clone()),
        rate_limit: me.rate_limit,
        ..RegisterRequest::new(new_key.to_string(), new_secret.clone())
    };
    old_client.register(&request).map_err(|e| {
        let f = Failure::from_client(e, &format!("registering {new_key}"));
        Failure::new(f.class, format!("rotation stopped at step 1/4: {}; nothing was changed", f.message))
    })?;
    rotation.steps.registered = true;
    note(&format!("1/4 registered {new_key}"));

    // Step 2: prove the new credential authenticates.
    let new_credentials = Credentials { api_key: new_key.to_string(), api_secret: new_secret.clone() };
    let new_client = target.client_as(new_credentials)?;
    let unproven = match new_client.whoami() {
        Ok(me) if me.api_key == new_key.as_str() => None,
        Ok(me) => Some(Failure::internal(format!(
            "GET /whoami with the new credential answered {}, not {new_key}",
            me.api_key
        ))),
        Err(e) => Some(Failure::from_client(e, &format!("proving {new_key} authenticates"))),
    };
    if let Some(failure) = unproven {
        return stop(
            &rotation,
            &new_secret,
            format,
            failure,
            &format!(
                "the old credential {} is still active and in use; find out why, then revoke {new_key} with `etctl revoke {new_key} --yes`",
                old.api_key
            ),
        );
    }
    rotation.steps.verified = true;
    note(&format!("2/4 {new_key} authenticates (GET /whoami)"));

    // Step 3: switch the saved profile, if the credential came from one.
    match &profile_name {
        Some(name) => {
            let saved = (|| -> Result<SecretIn, Failure> {
                let mut file = ProfilesFile::load()?;
                let url = file.profiles.get(name).map(|p| p.url.clone()).unwrap_or_else(|| target.url.clone());
                let secret_in = file.put(name, &url, new_key.as_str(), &new_secret);
                file.save()?;
                Ok(secret_in)
            })();
            match saved {
                Ok(_) => {
                    rotation.steps.profile_switched = Some(true);
                    rotation.profile = Some(name.clone());
                    note(&format!("3/4 profile {name:?} now uses {new_key}"));
                }
                Err(failure) => {
                    rotation.steps.profile_switched = Some(false);
                    return stop(
                        &rotation,
                        &new_secret,
                        format,
                        failure,
                        &format!(
                            "both credentials are active; save the new one with `etctl login --profile {name} --api-key {new_key}`, then `etctl revoke {} --yes`",
                            old.api_key
                        ),
                    );
                }
            }
        }
        None => note(&format!(
            "3/4 the credential came from ETCTL_API_KEY/ETCTL_API_SECRET: point them at {new_key} (see the output)"
        )),
    }

    // Step 4, with --grace: the old credential expires after the grace, as the new one decides;
    // never later than it would have anyway (a grace does not lengthen a credential's life).
    if let Some(grace) = args.grace {
        let expiry = values::after_now(grace).map_err(|e| Failure::usage(format!("--grace: {e}")))?;
        let own = me.expires_at.as_deref().and_then(|t| values::time(t).ok());
        if let (Some(own), Ok(grace_end)) = (own, values::time(&expiry))
            && own <= grace_end
        {
            rotation.old_expires_at = me.expires_at.clone();
            note(&format!(
                "4/4 {} already expires at {} UTC, within the grace; left as it is",
                old.api_key,
                table::when(me.expires_at.as_deref())
            ));
            return emit(&rotation, &new_secret, format);
        }
        let request = UpdateRequest { expires_at: Some(Some(expiry)), ..UpdateRequest::default() };
        match new_client.update(&old.api_key, &request) {
            Ok(record) => {
                rotation.steps.old_expiry_set = true;
                rotation.old_expires_at = record.expires_at;
                let when = rotation.old_expires_at.as_deref().map_or_else(|| "never".into(), |t| table::when(Some(t)));
                note(&format!(
                    "4/4 {} keeps working for {} more, until {when} UTC, then expires",
                    old.api_key,
                    values::human(grace)
                ));
                return emit(&rotation, &new_secret, format);
            }
            Err(e) => {
                let failure = crate::api::newer_route(
                    e,
                    &format!("setting the old credential {} to expire", old.api_key),
                    "PATCH /credentials/{api_key}",
                    &target.url,
                );
                return stop(
                    &rotation,
                    &new_secret,
                    format,
                    failure,
                    &format!(
                        "the new credential is in use and the old one still active; end it with `etctl update {} --expires-in {}` or `etctl revoke {} --yes`",
                        old.api_key,
                        values::human(grace).replace(' ', ""),
                        old.api_key
                    ),
                );
            }
        }
    }

    // Step 4: revoke the old credential, as the new one.
    if let Err(e) = new_client.revoke(&old.api_key) {
        let failure = Failure::from_client(e, &format!("revoking the old credential {}", old.api_key));
        return stop(
            &rotation,
            &new_secret,
            format,
            failure,
            &format!("the new credential is in use; revoke the old one with `etctl revoke {} --yes`", old.api_key),
        );
    }
    rotation.steps.old_revoked = true;
    note(&format!("4/4 revoked {}", old.api_key));
    emit(&rotation, &new_secret, format)
}
