//! A real terminal for the tests about terminals: a tmux pane of a given size runs a command under
//! bash, the test types keys into it and reads the screen, the cursor state and the exit code.
//! tmux is required (Debian package tmux); a missing tmux fails the test, naming the package.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long anything on the screen may take to appear: generous, the machine is shared.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One tmux server with one pane, killed when dropped.
pub struct Terminal {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

impl Terminal {
    /// Runs `command` (a bash command line) in a `width`x`height` terminal with exactly the
    /// environment `env` (plus PATH, TERM=xterm and LANG), then `after` (bash, to look at what
    /// the command left behind: the terminal's mode, typed-ahead input).
    pub fn run(command: &str, after: &str, env: &[(&str, &str)], width: u16, height: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let script = dir.path().join("run.sh");
        let code = dir.path().join("code");
        let mut text = String::from("#!/bin/bash\n");
        for (k, v) in env {
            text.push_str(&format!("export {k}={}\n", quote(v)));
        }
        text.push_str(&format!(
            "{command}\necho $? > {code}.tmp && mv {code}.tmp {code}\n{after}\nsleep 600\n",
            code = quote(code.to_str().unwrap())
        ));
        std::fs::write(&script, text).unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x", &width.to_string(), "-y", &height.to_string()])
            .arg(format!(
                "env -i PATH={} TERM=xterm LANG=C.UTF-8 bash {}",
                quote(&path),
                quote(script.to_str().unwrap())
            ))
            .status();
        match status {
            Ok(s) => assert!(s.success(), "tmux new-session failed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("tmux is not installed; install the package tmux (apt-get install tmux), as .ci/run does")
            }
            Err(e) => panic!("cannot run tmux: {e}"),
        }
        Terminal { dir, socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-S").arg(&self.socket).args(args).output().expect("tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `keys` (tmux key names: "Enter", "C-c", or literal text).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
    }

    /// What the pane shows now.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// What the pane shows now, with its colour and style escapes.
    pub fn screen_with_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "0"])
    }

    /// Waits until the screen shows `text`; returns the screen.
    #[track_caller]
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(start.elapsed() < PATIENCE, "the terminal never showed {text:?}; it shows:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the command to end; its exit code.
    #[track_caller]
    pub fn exit_code(&self) -> i32 {
        let path = self.dir.path().join("code");
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text.trim().parse().unwrap();
            }
            assert!(start.elapsed() < PATIENCE, "the command did not end; the terminal shows:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the command is still running.
    pub fn running(&self) -> bool {
        !self.dir.path().join("code").exists()
    }

    /// Whether the terminal's cursor is visible.
    pub fn cursor_visible(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "0", "#{cursor_flag}"]).trim() == "1"
    }

    /// A file in the terminal's private directory, for `after` to write into.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Waits for `path` to exist and returns its contents.
    #[track_caller]
    pub fn read_when_written(&self, path: &Path) -> String {
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && text.ends_with('\n')
            {
                return text;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "{} was never written; the terminal shows:\n{}",
                path.display(),
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").output();
    }
}
