//! Getting secrets and confirmations from people and scripts without ever taking a secret from
//! argv: stdin when it is not a terminal, then an environment variable, then a hidden prompt.

use std::io::{Read, Write};

use zeroize::Zeroizing;

use crate::exit::Failure;
use crate::output;

/// Where a secret came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdin,
    Env(&'static str),
    Prompt,
}

/// Reads a secret: all of stdin when stdin is not a terminal and not empty, else the variable
/// `env`, else a hidden prompt on a terminal. Surrounding whitespace (the newline of `echo`) is
/// dropped; anything else is left for the parser to judge.
pub fn secret(what: &str, env: &'static str) -> Result<(Zeroizing<String>, Source), Failure> {
    if !output::stdin_is_terminal() {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::bad_input(format!("cannot read the {what} from standard input: {e}")))?;
        let trimmed = text.trim();
        if !trimmed.is_empty() {
            return Ok((Zeroizing::new(trimmed.to_owned()), Source::Stdin));
        }
    }
    if let Ok(value) = std::env::var(env) {
        let value = Zeroizing::new(value);
        if !value.trim().is_empty() {
            return Ok((Zeroizing::new(value.trim().to_owned()), Source::Env(env)));
        }
    }
    if output::can_prompt() {
        let text = dialoguer::Password::new()
            .with_prompt(format!("{what} (input hidden)"))
            .interact()
            .map_err(|e| Failure::internal(format!("cannot read the {what} from the terminal: {e}")))?;
        return Ok((Zeroizing::new(text.trim().to_owned()), Source::Prompt));
    }
    Err(Failure::usage(format!(
        "no {what} given: pipe it on standard input (e.g. `printf %s \"$SECRET\" | etctl …`) or set {env}; it is never taken from the command line"
    )))
}

/// A plain (not secret) value from a prompt, when someone is there to answer.
pub fn prompt_text(what: &str) -> Option<String> {
    if !output::can_prompt() {
        return None;
    }
    dialoguer::Input::<String>::new().with_prompt(what).interact_text().ok().map(|s| s.trim().to_owned())
}

/// Asks before a permanent step. `--yes` skips the question; with nobody to ask and no `--yes`,
/// refuse (usage class) and say to pass `--yes`. The answer is a whole line: a single keypress
/// never confirms (typing `yes⏎` used to confirm on the `y` and leave `es⏎` to the shell), and the
/// terminal stays in its normal mode, so the cursor is never hidden and Ctrl-C ends etctl with 130.
pub fn confirm(question: &str, yes: bool, refusal: &str) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !output::can_prompt() {
        return Err(Failure::usage(format!(
            "{refusal}: there is no terminal to confirm on; pass --yes to go ahead without asking"
        )));
    }
    {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question}\nType yes and press Enter to go ahead (anything else cancels): ");
        let _ = err.flush();
    }
    let mut line = String::new();
    let read = std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::internal(format!("cannot read the answer from the terminal: {e}")))?;
    if read == 0 {
        // Ctrl-D: end the prompt's line before the message.
        output::note("");
    }
    match line.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" => Ok(()),
        _ => Err(Failure::usage("cancelled; nothing was changed")),
    }
}
