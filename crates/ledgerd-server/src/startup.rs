//! The first things ledgerd says: configuration errors as one line naming the flag or the
//! environment variable that was set (clap's own are several lines and never say which variable),
//! and the start-up line with the version, instance id and instance key fingerprint.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::config::{Config, Settings, VERSION};

/// Parses the command line and environment; on failure prints help, the version, or one line, and
/// gives the exit code (0 for help and version, 2 for a usage error, as clap does).
pub fn parse() -> Result<Config, ExitCode> {
    match Config::try_parse() {
        Ok(config) => Ok(config),
        Err(error) if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = error.print();
            Err(ExitCode::SUCCESS)
        }
        Err(error) => {
            let args: Vec<String> = std::env::args().skip(1).collect();
            eprintln!("error: {}", one_line(&error, &args));
            Err(ExitCode::from(2))
        }
    }
}

/// One line for a clap error. When the bad value came from the variable of the flag it names (the
/// flag itself is not among `args`), the line starts with that variable.
pub fn one_line(error: &clap::Error, args: &[String]) -> String {
    let rendered = error.render().to_string();
    let text = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("; ");
    let flag = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.split_whitespace().next().unwrap_or_default().to_owned(),
        _ => return text,
    };
    let command = Config::command();
    let env = command
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|long| format!("--{long}") == flag))
        .and_then(|a| a.get_env())
        .map(|v| v.to_string_lossy().into_owned());
    let given_as_flag = args.iter().any(|a| *a == flag || a.starts_with(&format!("{flag}=")));
    match env {
        Some(var) if !given_as_flag && std::env::var_os(&var).is_some() => {
            format!("{var} is set to a value ledgerd cannot use: {text}; fix or unset {var}")
        }
        _ => text,
    }
}

/// Logs what an operator checks first: which build runs, for which instance, with which key (as
/// its fingerprint, the one `etctl vendor instance-key --fingerprint` prints; never the key).
pub fn log_identity(settings: &Settings) {
    tracing::info!(
        version = VERSION,
        instance = %settings.instance_id,
        instance_key_fingerprint = %settings.instance_key.fingerprint(),
        "ledgerd {VERSION} starting"
    );
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::config::Config;

    #[test]
    fn a_bad_flag_value_is_one_line_naming_the_flag() {
        let error = Config::try_parse_from(["ledgerd", "--listen", "8081"]).unwrap_err();
        let line = super::one_line(&error, &["--listen".into(), "8081".into()]);
        assert!(!line.contains('\n') && line.contains("--listen") && line.contains("HOST:PORT"), "{line}");
        assert!(!line.starts_with("LEDGERD_LISTEN"), "{line}");
    }
}
