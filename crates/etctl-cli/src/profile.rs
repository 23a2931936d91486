//! Profiles (a ledger URL and an operator credential, saved by `etctl login`) and the one place
//! that decides which URL and credential a command uses: flags > `ETCTL_*` environment > profile,
//! remembering where each came from for `etctl status`.
//!
//! Profiles live in `$XDG_CONFIG_HOME/etctl/profiles.json` (0600), with the one `etctl profiles
//! use` chose. A profile's secret goes to the OS keyring (service `etctl`, entry `profile:NAME`)
//! when one answers, else into that file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use et_api::SecretString;
use et_api::client::{Client, Credentials};
use serde::{Deserialize, Serialize};

use crate::cli::{DEFAULT_URL, GlobalArgs};
use crate::exit::Failure;
use crate::keystore;

/// Profile used when neither `--profile` nor `ETCTL_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";

/// Where a profile's secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretIn {
    Keyring,
    File,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub url: String,
    pub api_key: String,
    pub secret_in: SecretIn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_secret: Option<SecretString>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProfilesFile {
    /// The profile `etctl profiles use` chose: used when neither `--profile` nor `ETCTL_PROFILE`
    /// names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

fn profiles_path() -> Result<PathBuf, Failure> {
    Ok(keystore::config_dir()?.join("profiles.json"))
}

fn keyring_name(profile: &str) -> String {
    format!("profile:{profile}")
}

/// Checks a profile name: 1-64 characters of letters, digits, `-`, `_` and `.`.
pub fn check_name(name: &str) -> Result<(), Failure> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!("{name:?} is not a profile name: use 1-64 letters, digits, '-', '_' or '.'")))
    }
}

impl ProfilesFile {
    pub fn load() -> Result<Self, Failure> {
        let path = profiles_path()?;
        if !path.exists() {
            return Ok(ProfilesFile::default());
        }
        let text = keystore::read_private(&path)?;
        // Only the position: serde's own message can quote a value, and this file may hold secrets.
        serde_json::from_str(&text).map_err(|e| {
            Failure::config(format!(
                "{} is not a valid profiles file (line {}, column {}); fix it or remove it",
                path.display(),
                e.line(),
                e.column()
            ))
        })
    }

    pub fn save(&self) -> Result<(), Failure> {
        let path = profiles_path()?;
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Failure::internal(format!("cannot encode the profiles: {e}")))?;
        text.push('\n');
        let text = zeroize::Zeroizing::new(text);
        keystore::write_private(&path, text.as_bytes(), true)
    }

    /// Adds or replaces profile `name`; the secret goes to the keyring when it answers.
    pub fn put(&mut self, name: &str, url: &str, api_key: &str, secret: &SecretString) -> SecretIn {
        let in_keyring = keystore::keyring_set(&keyring_name(name), secret.expose());
        let profile = Profile {
            url: url.to_owned(),
            api_key: api_key.to_owned(),
            secret_in: if in_keyring { SecretIn::Keyring } else { SecretIn::File },
            api_secret: if in_keyring { None } else { Some(secret.clone()) },
        };
        let secret_in = profile.secret_in;
        self.profiles.insert(name.to_owned(), profile);
        secret_in
    }

    /// Removes profile `name` and its keyring entry; false when there was no such profile.
    pub fn remove(&mut self, name: &str) -> bool {
        if self.current.as_deref() == Some(name) {
            self.current = None;
        }
        match self.profiles.remove(name) {
            Some(profile) => {
                if profile.secret_in == SecretIn::Keyring {
                    keystore::keyring_delete(&keyring_name(name));
                }
                true
            }
            None => false,
        }
    }
}

impl Profile {
    fn secret(&self, name: &str) -> Result<SecretString, Failure> {
        match self.secret_in {
            SecretIn::File => self.api_secret.clone().ok_or_else(|| {
                Failure::config(format!("profile {name:?} has no secret; run `etctl login --profile {name}` again"))
            }),
            SecretIn::Keyring => match keystore::keyring_get(&keyring_name(name)) {
                Ok(Some(secret)) => Ok(SecretString::new(secret.as_str())),
                Ok(None) => Err(Failure::config(format!(
                    "the secret of profile {name:?} is missing from the OS keyring; run `etctl login --profile {name}` again"
                ))),
                Err(()) => Err(Failure::config(format!(
                    "the secret of profile {name:?} is in the OS keyring, which does not answer now; unlock it, run `etctl login --profile {name}` again, or set ETCTL_API_KEY and ETCTL_API_SECRET"
                ))),
            },
        }
    }
}

/// Where the operator credential in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `ETCTL_API_KEY` / `ETCTL_API_SECRET`.
    Env,
    /// A saved profile.
    Profile(String),
}

/// How the profile in effect was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// `--profile NAME`.
    Flag,
    /// `ETCTL_PROFILE`.
    Env,
    /// `etctl profiles use NAME`.
    Current,
    /// None of those: the profile named `default`.
    Default,
}

impl Chosen {
    pub fn describe(self) -> &'static str {
        match self {
            Chosen::Flag => "--profile",
            Chosen::Env => "ETCTL_PROFILE",
            Chosen::Current => "etctl profiles use",
            Chosen::Default => "the default profile",
        }
    }
}

/// Where the ledger URL in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Flag,
    Env,
    Profile(String),
    Default,
}

impl UrlSource {
    pub fn describe(&self) -> String {
        match self {
            UrlSource::Flag => "--url".into(),
            UrlSource::Env => "ETCTL_URL".into(),
            UrlSource::Profile(name) => format!("profile {name:?}"),
            UrlSource::Default => "the default".into(),
        }
    }
}

/// The ledger and operator credential a command talks to.
#[derive(Debug)]
pub struct Target {
    pub url: String,
    pub url_source: UrlSource,
    pub credential: Option<(Credentials, CredentialSource)>,
    timeout: u64,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The name of the profile in effect and how it was chosen: `--profile`, `ETCTL_PROFILE`, the one
/// `etctl profiles use` chose, or `default`.
pub fn selected_name(flag: Option<&str>, file: &ProfilesFile) -> (String, Chosen) {
    match (flag, env_nonempty("ETCTL_PROFILE"), &file.current) {
        (Some(flag), _, _) => (flag.to_owned(), Chosen::Flag),
        (None, Some(env), _) => (env.trim().to_owned(), Chosen::Env),
        (None, None, Some(current)) => (current.clone(), Chosen::Current),
        (None, None, None) => (DEFAULT_PROFILE.to_owned(), Chosen::Default),
    }
}

/// The profile named by `--profile`/`ETCTL_PROFILE`/`profiles use`, which must exist; `default`
/// may be missing.
fn chosen_profile<'a>(
    global: &GlobalArgs,
    file: &'a ProfilesFile,
) -> Result<(String, Chosen, Option<&'a Profile>), Failure> {
    let (name, chosen) = selected_name(global.profile.as_deref(), file);
    check_name(&name)?;
    let profile = file.profiles.get(&name);
    if chosen != Chosen::Default && profile.is_none() {
        let how = match chosen {
            Chosen::Current => format!(
                "`etctl profiles use` chose profile {name:?}, which no longer exists; choose another with `etctl profiles use NAME`"
            ),
            _ => format!(
                "there is no profile {name:?} (from {}); save one with `etctl login --profile {name}`, or see `etctl profiles`",
                chosen.describe()
            ),
        };
        return Err(Failure::config(how));
    }
    Ok((name, chosen, profile))
}

/// Resolves URL and credential. Precedence, field by field: `--url`; an explicit `--profile`;
/// `ETCTL_URL` / `ETCTL_API_KEY` + `ETCTL_API_SECRET`; the profile from `ETCTL_PROFILE`, `etctl
/// profiles use` or `default`; and for the URL, http://127.0.0.1:8080.
pub fn resolve(global: &GlobalArgs, need_credential: bool) -> Result<Target, Failure> {
    let file = ProfilesFile::load()?;
    let (name, chosen, profile) = chosen_profile(global, &file)?;
    let flag_profile = chosen == Chosen::Flag;

    let (url, url_source) = if let Some(url) = &global.url {
        (url.clone(), UrlSource::Flag)
    } else if let (true, Some(p)) = (flag_profile, profile) {
        (p.url.clone(), UrlSource::Profile(name.clone()))
    } else if let Some(url) = env_nonempty("ETCTL_URL") {
        (url, UrlSource::Env)
    } else if let Some(p) = profile {
        (p.url.clone(), UrlSource::Profile(name.clone()))
    } else {
        (DEFAULT_URL.to_owned(), UrlSource::Default)
    };

    let env_key = env_nonempty("ETCTL_API_KEY");
    let env_secret = env_nonempty("ETCTL_API_SECRET");
    let credential = if !need_credential {
        None
    } else if let (true, Some(p)) = (flag_profile, profile) {
        Some((
            Credentials { api_key: p.api_key.clone(), api_secret: p.secret(&name)? },
            CredentialSource::Profile(name),
        ))
    } else {
        match (env_key, env_secret) {
            (Some(key), Some(secret)) => Some((
                Credentials { api_key: key.trim().to_owned(), api_secret: SecretString::new(secret.trim()) },
                CredentialSource::Env,
            )),
            (Some(_), None) => {
                return Err(Failure::config(
                    "ETCTL_API_KEY is set but ETCTL_API_SECRET is not; set both, or unset ETCTL_API_KEY to use a profile",
                ));
            }
            (None, Some(_)) => {
                return Err(Failure::config(
                    "ETCTL_API_SECRET is set but ETCTL_API_KEY is not; set both, or unset ETCTL_API_SECRET to use a profile",
                ));
            }
            (None, None) => match profile {
                Some(p) => Some((
                    Credentials { api_key: p.api_key.clone(), api_secret: p.secret(&name)? },
                    CredentialSource::Profile(name),
                )),
                None => None,
            },
        }
    };
    if let Some((credentials, source)) = &credential {
        check_operator(credentials, source)?;
    }
    if need_credential && credential.is_none() {
        return Err(no_credential(&file));
    }
    Ok(Target { url, url_source, credential, timeout: global.timeout() })
}

/// Why there is no operator credential, and every way to give one.
pub fn no_credential(file: &ProfilesFile) -> Failure {
    if file.profiles.is_empty() {
        Failure::config(
            "no operator credential: set ETCTL_API_KEY and ETCTL_API_SECRET, or save one with `etctl login`",
        )
    } else {
        let names: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        Failure::config(format!(
            "no operator credential: profiles {} exist but none is selected; pass --profile NAME, set ETCTL_PROFILE, or choose one with `etctl profiles use NAME` (or set ETCTL_API_KEY and ETCTL_API_SECRET)",
            names.join(", ")
        ))
    }
}

/// A malformed operator credential can never authenticate (and a control character in it is not
/// even a valid header): say what is wrong before any call, never quoting the secret.
fn check_operator(credentials: &Credentials, source: &CredentialSource) -> Result<(), Failure> {
    let (key_from, secret_from) = match source {
        CredentialSource::Env => ("ETCTL_API_KEY".to_owned(), "ETCTL_API_SECRET".to_owned()),
        CredentialSource::Profile(name) => (format!("profile {name:?}"), format!("profile {name:?}")),
    };
    et_core::ApiKey::parse(&credentials.api_key)
        .map_err(|e| Failure::bad_input(format!("the operator key in {key_from} is malformed: {e}")))?;
    et_core::ApiSecret::parse(credentials.api_secret.expose())
        .map_err(|e| Failure::bad_input(format!("the operator secret in {secret_from} is malformed: {e}")))?;
    Ok(())
}

impl Target {
    /// The ledger at `url`, with no operator credential.
    pub fn at(url: &str, timeout: u64) -> Self {
        Target { url: url.to_owned(), url_source: UrlSource::Flag, credential: None, timeout }
    }

    /// A client without credentials (for `POST /credentials`).
    pub fn anonymous(&self) -> Result<Client, Failure> {
        Client::new(&self.url, std::time::Duration::from_secs(self.timeout))
            .map_err(|e| Failure::from_client(e, "connecting"))
    }

    /// A client that authenticates as the operator credential.
    pub fn client(&self) -> Result<Client, Failure> {
        let client = self.anonymous()?;
        Ok(match &self.credential {
            Some((credentials, _)) => client.with_credentials(credentials.clone()),
            None => client,
        })
    }

    /// A client that authenticates as `credentials`.
    pub fn client_as(&self, credentials: Credentials) -> Result<Client, Failure> {
        Ok(self.anonymous()?.with_credentials(credentials))
    }
}
