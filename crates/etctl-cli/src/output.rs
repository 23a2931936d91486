//! Where output goes: data to stdout (buffered; a closed pipe ends the command quietly), messages
//! to stderr (never fatal), and whether a person is there to answer a prompt. etctl prints no
//! colour of its own (tables and progress bars are plain), and clap's help honours `NO_COLOR`.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::exit::{Class, Failure};

/// Turns a failed write to stdout into a failure; a closed pipe is [`Class::PipeClosed`].
pub fn stdout_error(error: io::Error) -> Failure {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Failure::new(Class::PipeClosed, "")
    } else {
        Failure::internal(format!("cannot write to standard output: {error}"))
    }
}

/// Buffered stdout for data.
pub struct Out {
    inner: BufWriter<io::StdoutLock<'static>>,
}

impl Out {
    pub fn new() -> Self {
        Out { inner: BufWriter::with_capacity(256 * 1024, io::stdout().lock()) }
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.inner.write_all(bytes).map_err(stdout_error)
    }

    pub fn line(&mut self, text: &str) -> Result<(), Failure> {
        self.write(text.as_bytes())?;
        self.write(b"\n")
    }

    /// Writes `value` as pretty JSON and a newline.
    pub fn json(&mut self, value: &impl serde::Serialize) -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| Failure::internal(format!("cannot encode the output as JSON: {e}")))?;
        self.line(&text)
    }

    pub fn flush(&mut self) -> Result<(), Failure> {
        self.inner.flush().map_err(stdout_error)
    }
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

/// A message for people, on stderr. A closed stderr is ignored: it must never fail a command.
pub fn note(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
}

/// The `error: …` line of a failure, kept to one line of plain text: control characters (a line
/// break or a terminal escape in a message a server sent) become spaces, and anything shaped like
/// an `sk_` secret is redacted, whoever put it there.
pub fn error_line(text: &str) {
    note(&format!("error: {}", scrub(text)));
}

fn scrub(text: &str) -> String {
    let plain: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut out = String::with_capacity(plain.len());
    let mut rest = plain.as_str();
    while let Some(at) = rest.find("sk_") {
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex >= 16 {
            out.push_str("<redacted>");
            rest = &rest[hex..];
        }
    }
    out.push_str(rest);
    out
}

/// A warning line.
pub fn warn(text: &str) {
    note(&format!("warning: {text}"));
}

/// Whether someone can answer a prompt: stdin and stderr are both terminals.
pub fn can_prompt() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Whether stdin is a terminal (secrets are read from it only when it is not).
pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// Whether stderr is a terminal (progress bars are drawn only then).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// Whether stdout is a terminal (tables fit its width only then).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_lines_are_one_line_and_never_show_a_secret() {
        let secret = format!("sk_{}", "ab12".repeat(16));
        assert_eq!(super::scrub(&format!("bad {secret}\n\x1b[31mred")), "bad sk_<redacted>  [31mred");
        assert_eq!(super::scrub("use an sk_ secret, sk_12"), "use an sk_ secret, sk_12");
    }
}
