//! Ctrl-C: etctl exits with 130 (128 + SIGINT, what shells report) after putting the terminal back
//! as it found it: the cursor shown and echo on, whatever prompt was showing when it came.

use std::io::{IsTerminal, Write};

/// Installs the handler: a thread waits for SIGINT, restores the terminal and exits with 130. The
/// terminal's settings are saved now, before any prompt changes them (a hidden secret prompt turns
/// echo off; a key-at-a-time prompt switches to raw mode).
pub fn install() {
    let stdin = std::io::stdin();
    let saved = if stdin.is_terminal() { rustix::termios::tcgetattr(&stdin).ok() } else { None };
    let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) else {
        // Without the handler Ctrl-C still ends etctl (the default action); only the tidying is lost.
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            if let Some(termios) = &saved {
                let _ = rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, termios);
            }
            let mut err = std::io::stderr().lock();
            if std::io::stderr().is_terminal() {
                // Show the cursor (a prompt may have hidden it), and end the prompt's line.
                let _ = err.write_all(b"\x1b[?25h\n");
            }
            let _ = err.write_all(b"interrupted; nothing more was done\n");
            let _ = err.flush();
            std::process::exit(i32::from(crate::exit::Class::Interrupted.code()));
        }
    });
}
