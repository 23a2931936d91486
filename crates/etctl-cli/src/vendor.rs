//! The vendor's side: the master key (keyring or 0600 file, `ETCTL_VENDOR_KEY_FILE` first),
//! instance keys, minting pairs fast (`generate`) and checking one offline (`verify`).

use std::path::PathBuf;
use std::sync::mpsc;

use et_core::{ApiKey, ApiSecret, Deriver, InstanceId, MasterKey};
use zeroize::Zeroizing;

use crate::cli::{Format, GenerateArgs, InstanceKeyArgs, VendorInitArgs, VerifyArgs};
use crate::exit::{Class, Failure, Outcome};
use crate::output::{self, Out, note};
use crate::{input, keystore};

/// The keyring entry holding the master key (service `etctl`).
const KEYRING_ENTRY: &str = "vendor-master-key";
/// Environment variable naming a key file; when set, the keyring is not consulted.
pub const KEY_FILE_ENV: &str = "ETCTL_VENDOR_KEY_FILE";
/// Pairs per unit of work handed to a generating thread.
const CHUNK: u64 = 4096;
/// From this many pairs on, a terminal gets a progress bar.
const PROGRESS_FROM: u64 = 50_000;

fn env_key_file() -> Option<PathBuf> {
    std::env::var_os(KEY_FILE_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn default_key_file() -> Result<PathBuf, Failure> {
    Ok(keystore::config_dir()?.join("vendor.key"))
}

fn parse_master(text: &str, origin: &str) -> Result<MasterKey, Failure> {
    MasterKey::from_hex(text).map_err(|e| {
        Failure::config(format!("{origin} does not hold a vendor master key ({e}); point {KEY_FILE_ENV} at the right file, or create a key with `etctl vendor init`"))
    })
}

fn load_file(path: &std::path::Path) -> Result<MasterKey, Failure> {
    let text = keystore::read_private(path)?;
    parse_master(&text, &format!("the key file {}", path.display()))
}

/// The vendor master key: `ETCTL_VENDOR_KEY_FILE` when set, else the OS keyring, else the default
/// key file.
pub fn load_master() -> Result<MasterKey, Failure> {
    if let Some(path) = env_key_file() {
        if !path.exists() {
            return Err(Failure::config(format!(
                "{KEY_FILE_ENV} is {}, which does not exist; point it at the vendor key file, or create a key there with `etctl vendor init`",
                path.display()
            )));
        }
        return load_file(&path);
    }
    if let Ok(Some(hex)) = keystore::keyring_get(KEYRING_ENTRY) {
        return parse_master(&hex, "the OS keyring entry etctl/vendor-master-key");
    }
    let path = default_key_file()?;
    if path.exists() {
        return load_file(&path);
    }
    Err(Failure::config(format!(
        "no vendor master key: create one with `etctl vendor init`, or set {KEY_FILE_ENV} to a file holding it"
    )))
}

/// An instance id from the command line; a malformed one is bad input.
pub fn parse_instance(text: &str) -> Result<InstanceId, Failure> {
    // The text is not repeated: it could be anything pasted, a secret included.
    InstanceId::parse(text).map_err(|e| Failure::bad_input(e.to_string()))
}

/// `etctl vendor init`.
pub fn init(args: &VendorInitArgs) -> Outcome {
    let key = MasterKey::generate();
    let mut contents = Zeroizing::new(key.to_hex().to_string());
    contents.push('\n');
    let replace_warning = "every pair minted with the old key stops verifying";

    if let Some(path) = env_key_file() {
        if path.exists() && !args.force {
            return Err(Failure::config(format!(
                "a vendor key already exists at {} ({KEY_FILE_ENV}); it was left as it is (pass --force to replace it: {replace_warning})",
                path.display()
            )));
        }
        keystore::write_private(&path, contents.as_bytes(), args.force)?;
        note(&format!("Created a vendor master key in {} (mode 0600). Back it up somewhere safe.", path.display()));
        return Ok(());
    }

    let file = default_key_file()?;
    let in_keyring = matches!(keystore::keyring_get(KEYRING_ENTRY), Ok(Some(_)));
    let in_file = file.exists();
    if (in_keyring || in_file) && !args.force {
        let place = if in_keyring { "in the OS keyring".to_owned() } else { format!("at {}", file.display()) };
        return Err(Failure::config(format!(
            "a vendor key already exists {place}; it was left as it is (pass --force to replace it: {replace_warning})"
        )));
    }
    // A replaced key stays where the old one was, so a stale copy is never left to be found first.
    let use_keyring = in_keyring || !in_file;
    if use_keyring && keystore::keyring_set(KEYRING_ENTRY, contents.trim()) {
        note("Created a vendor master key in the OS keyring (service \"etctl\", entry \"vendor-master-key\").");
        if in_file {
            output::warn(&format!("an older key file remains at {}; the keyring copy is used first", file.display()));
        }
    } else {
        keystore::write_private(&file, contents.as_bytes(), args.force)?;
        note(&format!(
            "Created a vendor master key in {} (mode 0600; no OS keyring was reachable). Back it up somewhere safe.",
            file.display()
        ));
    }
    note("Next: `etctl vendor instance-key <INSTANCE> --output FILE` writes the key to provision on a ledger.");
    Ok(())
}

/// `etctl vendor instance-key`: the key on stdout, into a new 0600 file (`--output`), or only its
/// fingerprint (`--fingerprint`), which ledgerd logs at start for comparison.
pub fn instance_key(args: &InstanceKeyArgs) -> Outcome {
    let instance = parse_instance(&args.instance)?;
    let master = load_master()?;
    let key = master.instance_key(&instance);
    let mut out = Out::new();
    if args.fingerprint {
        out.line(&key.fingerprint())?;
    } else if let Some(path) = &args.output {
        let mut contents = key.to_hex();
        contents.push('\n');
        keystore::write_private(path, contents.as_bytes(), false)?;
        note(&format!(
            "wrote the instance key of {instance} to {} (mode 0600; fingerprint {}); give it to ledgerd as LEDGERD_INSTANCE_KEY_FILE",
            path.display(),
            key.fingerprint()
        ));
    } else {
        out.line(&key.to_hex())?;
    }
    out.flush()
}

/// Formats the pairs `range` of a `generate` run into one buffer.
fn format_chunk(deriver: &Deriver, instance: &str, format: Format, range: std::ops::Range<u64>) -> Zeroizing<Vec<u8>> {
    let per_pair = 80 + et_core::API_KEY_LEN + et_core::API_SECRET_LEN + instance.len();
    let mut buf = Zeroizing::new(Vec::with_capacity(per_pair * (range.end - range.start) as usize));
    for i in range {
        let key = ApiKey::generate();
        let secret = deriver.secret_for(&key);
        match format {
            Format::Json => {
                buf.extend_from_slice(if i == 0 { b"\n  " } else { b",\n  " });
                buf.extend_from_slice(b"{\"api_key\":\"");
                buf.extend_from_slice(key.as_str().as_bytes());
                buf.extend_from_slice(b"\",\"api_secret\":\"");
                buf.extend_from_slice(secret.expose().as_bytes());
                buf.extend_from_slice(b"\",\"instance\":\"");
                buf.extend_from_slice(instance.as_bytes());
                buf.extend_from_slice(b"\"}");
            }
            Format::Env => {
                buf.extend_from_slice(b"ETCTL_API_KEY=");
                buf.extend_from_slice(key.as_str().as_bytes());
                buf.extend_from_slice(b" ETCTL_API_SECRET=");
                buf.extend_from_slice(secret.expose().as_bytes());
                buf.push(b'\n');
            }
            Format::Table => {
                buf.extend_from_slice(key.as_str().as_bytes());
                buf.extend_from_slice(b"  ");
                buf.extend_from_slice(secret.expose().as_bytes());
                buf.push(b'\n');
            }
        }
    }
    buf
}

/// `etctl generate`: mints on up to two threads (no more than the machine has), in chunks handed
/// out round-robin and written in order, so the output is streamed and memory stays flat.
pub fn generate(args: &GenerateArgs) -> Outcome {
    let instance = parse_instance(&args.instance)?;
    let deriver = load_master()?.instance_key(&instance).deriver();
    let format = if args.json { Format::Json } else { args.format.unwrap_or(Format::Table) };
    let n = args.count;
    let mut out = Out::new();

    match format {
        Format::Json => out.write(b"[")?,
        Format::Table => {
            out.line(&format!("{:<width$}  API SECRET", "API KEY", width = et_core::API_KEY_LEN))?;
        }
        Format::Env => {}
    }

    let progress = (output::stderr_is_terminal() && n >= PROGRESS_FROM).then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(Some(n), indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} pairs ({per_sec}, {eta} left)")
        {
            bar.set_style(style);
        }
        bar
    });

    let chunks = n.div_ceil(CHUNK);
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1) as u64;
    let workers = cores.clamp(1, 2).min(chunks);
    let instance_str = instance.as_str();
    let written = std::thread::scope(|scope| -> Outcome {
        let mut receivers = Vec::new();
        for worker in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Zeroizing<Vec<u8>>>(4);
            let deriver = deriver.clone();
            scope.spawn(move || {
                let mut chunk = worker;
                while chunk < chunks {
                    let start = chunk * CHUNK;
                    let buf = format_chunk(&deriver, instance_str, format, start..n.min(start + CHUNK));
                    // The reader hung up (stdout closed): stop quietly.
                    if tx.send(buf).is_err() {
                        return;
                    }
                    chunk += workers;
                }
            });
            receivers.push(rx);
        }
        for chunk in 0..chunks {
            let buf = receivers[(chunk % workers) as usize]
                .recv()
                .map_err(|_| Failure::internal("a generating thread stopped unexpectedly"))?;
            out.write(&buf)?;
            if let Some(bar) = &progress {
                bar.inc(CHUNK.min(n - chunk * CHUNK));
            }
        }
        Ok(())
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    written?;
    if format == Format::Json {
        out.write(b"\n]\n")?;
    }
    out.flush()
}

/// `etctl verify`.
pub fn verify(args: &VerifyArgs) -> Outcome {
    let instance = parse_instance(&args.instance)?;
    let key = ApiKey::parse(&args.api_key).map_err(|e| Failure::bad_input(e.to_string()))?;
    let master = load_master()?;
    let (text, _) = input::secret("API secret", "ETCTL_NEW_API_SECRET")?;
    let secret = ApiSecret::parse(&text).map_err(|e| Failure::bad_input(e.to_string()))?;
    if master.instance_key(&instance).verify(&key, &secret) {
        note(&format!("ok: the secret is the one derived for {key} on instance {instance}"));
        Ok(())
    } else {
        Err(Failure::new(
            Class::InvalidCredential,
            format!(
                "the secret does not belong to {key} on instance {instance}: it was minted for another instance or by another vendor key, or it was copied wrong"
            ),
        ))
    }
}
