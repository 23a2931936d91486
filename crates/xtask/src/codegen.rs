//! Generated files: shell completions and man pages, rendered in memory from the clap definitions
//! of `etctl` (and `ledgerd`), then written to or compared with the committed copies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// Folders whose contents are entirely generated: anything else found there is stale.
const GENERATED_DIRS: [&str; 2] = ["completions", "man"];

/// The repository root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/xtask is two levels deep").to_path_buf()
}

/// Every generated file: path relative to the root → contents.
pub fn render() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (shell, extension) in [
        (Shell::Bash, "bash"),
        (Shell::Zsh, "zsh"),
        (Shell::Fish, "fish"),
        (Shell::Elvish, "elv"),
        (Shell::PowerShell, "ps1"),
    ] {
        let mut out = Vec::new();
        etctl_cli::cli::write_completions(shell, &mut out);
        files.insert(PathBuf::from(format!("completions/etctl.{extension}")), out);
    }
    man_pages(etctl_cli::cli::command(), &mut files);
    man_pages(ledgerd_server::config::command(), &mut files);
    files
}

/// The page of `cmd` and one per visible sub-command, nested ones too (`etctl-db-revoke.1`).
fn man_pages(cmd: clap::Command, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    fn walk(cmd: clap::Command, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            walk(sub, files);
        }
        let man = clap_mangen::Man::new(cmd);
        let mut out = Vec::new();
        man.render(&mut out).expect("rendering into memory cannot fail");
        files.insert(PathBuf::from("man").join(man.get_filename()), out);
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    // Building fills in the display names (`etctl-vendor-init`) the file names come from.
    cmd.build();
    walk(cmd, files);
}

/// Generated-looking files on disk that `render` no longer produces.
fn leftovers(root: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut extra = Vec::new();
    for dir in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for entry in entries.flatten() {
            let relative = Path::new(dir).join(entry.file_name());
            if entry.path().is_file() && !files.contains_key(&relative) {
                extra.push(relative);
            }
        }
    }
    extra.sort();
    extra
}

/// Writes every generated file and removes leftovers.
pub fn write(root: &Path) -> Result<String, String> {
    let files = render();
    let mut changed = 0;
    for (relative, contents) in &files {
        let path = root.join(relative);
        if std::fs::read(&path).ok().as_deref() == Some(contents.as_slice()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        changed += 1;
    }
    let extra = leftovers(root, &files);
    for relative in &extra {
        std::fs::remove_file(root.join(relative)).map_err(|e| format!("cannot remove {}: {e}", relative.display()))?;
    }
    Ok(format!("{} generated files, {changed} updated, {} removed", files.len(), extra.len()))
}

/// Compares the committed files with a fresh rendering; the error names each stale file.
pub fn check(root: &Path) -> Result<String, String> {
    let files = render();
    let mut problems = Vec::new();
    for (relative, contents) in &files {
        match std::fs::read(root.join(relative)) {
            Ok(on_disk) if on_disk == *contents => {}
            Ok(_) => problems.push(format!("{} is stale", relative.display())),
            Err(_) => problems.push(format!("{} is missing", relative.display())),
        }
    }
    for relative in leftovers(root, &files) {
        problems.push(format!("{} is no longer generated", relative.display()));
    }
    if problems.is_empty() {
        Ok(format!("{} generated files are up to date", files.len()))
    } else {
        Err(format!(
            "generated files are out of date; run `cargo xtask codegen` and commit:\n  {}",
            problems.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_completions_and_man_pages_are_up_to_date() {
        if let Err(message) = super::check(&super::root()) {
            panic!("{message}");
        }
    }

    #[test]
    fn every_subcommand_has_a_man_page() {
        let files = super::render();
        for name in
            ["man/ledgerd.1", "man/etctl.1", "man/etctl-vendor.1", "man/etctl-vendor-init.1", "man/etctl-db-revoke.1"]
        {
            assert!(files.contains_key(std::path::Path::new(name)), "{name} is not generated");
        }
    }
}
