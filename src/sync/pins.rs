//! Pins: the apps rolled back to a revision, kept in `pins.json` in the data
//! folder so that a pin outlives the process. While pinned, an app is
//! compared with and synced at its pin rather than its branch's head. The
//! file is small and rewritten whole, atomically (a temporary file renamed
//! over it), so a crash leaves the old pins or the new ones, never half.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Paths;

/// The file's name in the data folder.
pub const PINS_FILE: &str = "pins.json";

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("{}: cannot read the pins: {source}", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("{}: cannot write the pins: {source}", file.display())]
    Write { file: PathBuf, source: io::Error },
    #[error("{}: not a pins file ({cause}); fix it or remove it to unpin every app", file.display())]
    Corrupt { file: PathBuf, cause: String },
}

/// One app's pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The full commit id.
    pub revision: String,
    pub since: jiff::Timestamp,
    /// Who pinned it (user@host).
    pub by: String,
}

/// Every pinned app, by name.
pub type Pins = BTreeMap<String, Pin>;

/// The pins file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinFile {
    file: PathBuf,
}

impl PinFile {
    /// `pins.json` in the data folder.
    pub fn in_data_dir(paths: &Paths) -> PinFile {
        PinFile::at(&paths.data_dir.join(PINS_FILE))
    }

    pub fn at(file: &Path) -> PinFile {
        PinFile {
            file: file.to_path_buf(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The pins; none when the file does not exist.
    pub fn load(&self) -> Result<Pins, PinError> {
        let bytes = match std::fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Pins::new()),
            Err(source) => {
                return Err(PinError::Read {
                    file: self.file.clone(),
                    source,
                });
            }
        };
        let corrupt = |cause: String| PinError::Corrupt {
            file: self.file.clone(),
            cause,
        };
        let pins: Pins = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if let Some((app, pin)) = pins.iter().find(|(_, pin)| !is_commit_id(&pin.revision)) {
            return Err(corrupt(format!(
                "app \"{app}\": \"{}\" is not a full commit id",
                crate::text::printable(&pin.revision)
            )));
        }
        Ok(pins)
    }

    /// When the file last changed (`None`: there is none), to read it again
    /// only when another process pinned or unpinned.
    pub fn changed(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(&self.file)
            .and_then(|meta| meta.modified())
            .ok()
    }

    /// Pins `app` (or unpins it, with `None`), keeping the other apps' pins;
    /// gives the pin it replaced.
    pub fn set(&self, app: &str, pin: Option<Pin>) -> Result<Option<Pin>, PinError> {
        let mut pins = self.load()?;
        let before = match pin {
            Some(pin) => pins.insert(app.to_string(), pin),
            None => pins.remove(app),
        };
        self.write(&pins)?;
        Ok(before)
    }

    /// Writes the whole file through a temporary file renamed over it.
    fn write(&self, pins: &Pins) -> Result<(), PinError> {
        let fail = |source| PinError::Write {
            file: self.file.clone(),
            source,
        };
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(fail)?;
        let mut text = serde_json::to_vec_pretty(pins).map_err(|e| fail(io::Error::other(e)))?;
        text.push(b'\n');
        let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        temporary.write_all(&text).map_err(fail)?;
        temporary.as_file().sync_data().map_err(fail)?;
        temporary.persist(&self.file).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// What a Git rollback does to a pin, said by `rollback --git` and the TUI.
/// Pushed to the app's branch, the rollback replaces the pin: the branch
/// now holds what the app is rolled back to, so the app is unpinned and the
/// new head synced (its objects lose the pin annotation with that sync).
pub fn unpinned_by_git_rollback(pinned: &str) -> String {
    format!(
        "unpinned: the Git rollback replaces the pin at {}",
        crate::resource::short_revision(pinned)
    )
}

/// On a merge-request branch nothing is deployed yet: the pin stays.
pub fn pin_kept_for_review(app: &str, pinned: &str) -> String {
    format!(
        "still pinned to {}: nothing is deployed until the merge request is merged, then `driftdeck unpin {app}` follows the branch again",
        crate::resource::short_revision(pinned)
    )
}

/// A SHA-1 or SHA-256 commit id, in full.
fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(revision: &str) -> Pin {
        Pin {
            revision: revision.to_string(),
            since: jiff::Timestamp::UNIX_EPOCH,
            by: "alice@workstation".to_string(),
        }
    }

    #[test]
    fn pins_are_kept_per_app_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let file = PinFile::at(&dir.path().join("data/pins.json"));
        assert!(file.load().unwrap().is_empty(), "no file, no pins");
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        assert_eq!(file.set("shop", Some(pin(&a))).unwrap(), None);
        file.set("blog", Some(pin(&b))).unwrap();
        let pins = file.load().unwrap();
        assert_eq!(pins["shop"].revision, a);
        assert_eq!(pins["blog"].revision, b);
        assert_eq!(file.set("shop", None).unwrap(), Some(pin(&a)));
        let pins = file.load().unwrap();
        assert_eq!(pins.keys().collect::<Vec<_>>(), ["blog"]);
        let leftovers = std::fs::read_dir(dir.path().join("data")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        let file = PinFile::at(&path);
        for text in [
            "{not json",
            "[1, 2]",
            r#"{"shop": {"revision": "main", "since": "2026-01-01T00:00:00Z", "by": "a"}}"#,
        ] {
            std::fs::write(&path, text).unwrap();
            let err = file.load().unwrap_err().to_string();
            assert!(err.starts_with(&path.display().to_string()), "{err}");
            assert!(err.contains("not a pins file"), "{err}");
            assert!(
                file.set("shop", None).is_err(),
                "a corrupt file is not overwritten"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
    }
}
