//! Which store a command uses (docs/team-mode.md, "Choosing the store"):
//! `--store URL|file` > `DRCTL_STORE` > `store = "…"` in the first
//! `drctl.toml` found in the working directory or its parents > the
//! filesystem store in the state directory. Choosing reads no database;
//! [`open`] connects.

use std::path::{Path, PathBuf};

use super::pg::{PgStore, Target};
use super::store::{Store, StoreError};
use crate::secret::Redactor;

/// The environment variable that chooses the store.
pub const STORE_ENV: &str = "DRCTL_STORE";

/// The file that may choose the store for a directory tree.
pub const CONFIG_FILE: &str = "drctl.toml";

/// The store chosen, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The state directory: the default, or `--store file`.
    File,
    /// A `PostgreSQL` URL, and where it came from.
    Postgres { url: String, from: Origin },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    Config(PathBuf),
}

impl Selection {
    /// A shared store is chosen (team mode).
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self, Selection::Postgres { .. })
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    store: Option<String>,
}

/// The longest drctl.toml read: it holds one line.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// A drctl.toml's text: a regular file (a FIFO would block, `/dev/zero`
/// never end) of at most [`MAX_CONFIG_BYTES`], in UTF-8.
fn read_config(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that opening a FIFO returns at once; it is then refused.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed())
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::other(format!(
            "it is over {} KiB; it holds one line, `store = \"…\"`",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| std::io::Error::other("it is not UTF-8"))
}

/// Chooses the store from the flag, the environment's `DRCTL_STORE`, and
/// the `drctl.toml` files from `cwd` up.
pub fn select(flag: Option<&str>, env: Option<&str>, cwd: &Path) -> Result<Selection, StoreError> {
    if let Some(value) = flag {
        return choice(value, Origin::Flag, "--store");
    }
    if let Some(value) = env.filter(|v| !v.trim().is_empty()) {
        return choice(value, Origin::Env, STORE_ENV);
    }
    for dir in cwd.ancestors() {
        let path = dir.join(CONFIG_FILE);
        let text = match read_config(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(StoreError::Config {
                    path: path.display().to_string(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read it: {e}"),
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_column(&text, span.start));
            StoreError::Config {
                path: path.display().to_string(),
                line,
                column,
                message: format!(
                    "{} (drctl.toml holds one key: store = \"postgres://…\" or \"file\")",
                    e.message().trim_end()
                ),
            }
        })?;
        return match config.store {
            Some(value) => choice(
                &value,
                Origin::Config(path.clone()),
                &path.display().to_string(),
            ),
            None => Ok(Selection::File),
        };
    }
    Ok(Selection::File)
}

/// A store named by `value`: `file` or a `postgres://` (`postgresql://`)
/// URL, read as URLs and words are, with the spaces around it dropped and
/// the word and the scheme in any case (`FILE`, `PostgreSQL://…`).
fn choice(value: &str, from: Origin, named: &str) -> Result<Selection, StoreError> {
    let trimmed = value.trim();
    if trimmed.eq_ignore_ascii_case("file") {
        return Ok(Selection::File);
    }
    let scheme = trimmed.split_once("://").map(|(scheme, _)| scheme);
    if scheme
        .is_some_and(|s| s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql"))
    {
        return Ok(Selection::Postgres {
            url: trimmed.to_owned(),
            from,
        });
    }
    Err(StoreError::Unknown {
        value: crate::secret::mask_credentials(value),
        from: named.to_owned(),
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Opens the chosen store. The file store is created when `create` (a
/// command that writes), else only read. A database is connected to and its
/// schema checked; its password is added to `redactor`, so no output shows it.
pub fn open(
    selection: &Selection,
    state_dir: &Path,
    create: bool,
    redactor: &Redactor,
) -> Result<Store, crate::error::Error> {
    match selection {
        Selection::File if create => Ok(Store::file(state_dir)?),
        Selection::File => Ok(Store::file_at(state_dir)),
        Selection::Postgres { url, from } => {
            let target = target(url, redactor)?;
            Ok(Store::Postgres(PgStore::connect(
                &target,
                *from == Origin::Flag,
                state_dir,
            )?))
        }
    }
}

/// Parses a store URL, teaching `redactor` its password.
pub fn target(url: &str, redactor: &Redactor) -> Result<Target, StoreError> {
    let target = Target::parse(url)?;
    for secret in &target.secrets {
        redactor.add(secret);
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_environment_then_drctl_toml() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(select(None, None, &nested).unwrap(), Selection::File);
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "# team store\nstore = \"postgres://drctl@db/drctl\"\n",
        )
        .unwrap();
        assert_eq!(
            select(None, None, &nested).unwrap(),
            Selection::Postgres {
                url: "postgres://drctl@db/drctl".to_owned(),
                from: Origin::Config(dir.path().join(CONFIG_FILE)),
            }
        );
        assert_eq!(
            select(None, Some("postgres://e@h/d"), &nested).unwrap(),
            Selection::Postgres {
                url: "postgres://e@h/d".to_owned(),
                from: Origin::Env,
            }
        );
        assert!(select(None, Some("  "), &nested).unwrap().is_shared());
        assert_eq!(
            select(Some("file"), Some("postgres://e@h/d"), &nested).unwrap(),
            Selection::File
        );
        // The nearest file wins, even one that chooses nothing.
        std::fs::write(nested.join(CONFIG_FILE), "").unwrap();
        assert_eq!(select(None, None, &nested).unwrap(), Selection::File);
    }

    #[test]
    fn the_word_and_the_scheme_are_read_in_any_case_and_without_spaces() {
        let dir = tempfile::tempdir().unwrap();
        for value in ["file", "FILE", " File\n", "\tfile "] {
            let chosen = select(Some(value), None, dir.path()).unwrap();
            assert_eq!(chosen, Selection::File, "{value:?}");
        }
        for value in ["postgres://h/d", "POSTGRES://h/d", " PostgreSQL://h/d "] {
            let chosen = select(None, Some(value), dir.path()).unwrap();
            assert!(matches!(chosen, Selection::Postgres { .. }), "{value:?}");
        }
        for value in [
            "files",
            "fil e",
            "postgres:/h/d",
            "postgres//h",
            "://h",
            "pg://h",
        ] {
            let error = select(Some(value), None, dir.path()).unwrap_err();
            assert_eq!(
                error.exit_code(),
                crate::exit_code::INVALID_INPUT,
                "{value:?}"
            );
        }
    }

    #[test]
    fn bad_choices_are_named_with_where_they_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let error = select(Some("mysql://u:hunter22@h/d"), None, dir.path()).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("--store: `mysql://u:***@h/d` is not a store"),
            "{text}"
        );
        assert_eq!(error.exit_code(), crate::exit_code::INVALID_INPUT);
        for (config, at) in [
            ("store = 42\n", (1, 9)),
            ("\nstores = \"file\"\n", (2, 1)),
            ("store = \"postgres://x\n", (1, 22)),
            ("store = \"redis://h\"\n", (1, 1)),
        ] {
            std::fs::write(dir.path().join(CONFIG_FILE), config).unwrap();
            let error = select(None, None, dir.path()).unwrap_err();
            let text = error.to_string();
            assert_eq!(error.exit_code(), crate::exit_code::INVALID_INPUT, "{text}");
            if let StoreError::Config { line, column, .. } = error {
                assert_eq!((line, column), at, "{config:?}: {text}");
            } else {
                assert!(
                    text.contains("drctl.toml: `redis://h` is not a store"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn a_drctl_toml_that_never_ends_or_blocks_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let text = select(None, None, dir.path()).unwrap_err().to_string();
        assert!(text.contains("not a regular file"), "{text}");
        std::fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let text = select(None, None, dir.path()).unwrap_err().to_string();
        assert!(text.contains("not a regular file"), "{text}");
        std::fs::remove_file(&path).unwrap();
        std::fs::write(
            &path,
            format!("# {}\nstore = \"file\"\n", "x".repeat(70_000)),
        )
        .unwrap();
        let text = select(None, None, dir.path()).unwrap_err().to_string();
        assert!(text.contains("over 64 KiB"), "{text}");
    }
}
