//! The audit log: every sync as JSON lines in `audit.jsonl` in the data
//! folder (mode 0600, append only). A start record when a sync begins and a
//! completion record when it ends, so a sync that was killed shows as
//! interrupted. Records hold the plan and the result per object by kind and
//! name, never an object's content: no Secret value can reach the file.

use std::fs::OpenOptions;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::execute::ObjectOutcome;
use super::operator::Operator;
use crate::config::Paths;

/// The file's name in the data folder.
pub const AUDIT_FILE: &str = "audit.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{}: cannot write the audit log: {source}", file.display())]
    Write { file: PathBuf, source: io::Error },
    #[error("{}: cannot read the audit log: {source}", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("cannot write an audit record as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Succeeded,
    /// Something was refused; the objects say what was done.
    Failed,
    /// Cancelled: the objects in flight finished, nothing more was written.
    Cancelled,
    /// Started and never completed: the process died mid-sync.
    Interrupted,
}

/// What a sync was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOperation {
    /// Make the cluster equal Git at a revision.
    #[default]
    Sync,
    /// Roll the cluster back to an earlier revision and pin the app to it.
    Rollback,
}

/// Who or what started a sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncTrigger {
    /// A person: `sync`, the TUI's sync key.
    #[default]
    Manual,
    /// Auto-sync of a new commit of the branch.
    Auto,
    /// Self-heal: drift corrected at the revision already synced.
    SelfHeal,
}

impl SyncTrigger {
    pub fn is_automatic(self) -> bool {
        self != SyncTrigger::Manual
    }

    /// `manual`, `auto`, `self-heal`.
    pub fn word(self) -> &'static str {
        match self {
            SyncTrigger::Manual => "manual",
            SyncTrigger::Auto => "auto",
            SyncTrigger::SelfHeal => "self-heal",
        }
    }
}

/// Written when a sync starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStarted {
    pub id: String,
    pub time: jiff::Timestamp,
    pub operator: Operator,
    pub app: String,
    pub context: String,
    pub revision: String,
    /// Started by auto-sync or self-heal rather than by a person.
    pub automatic: bool,
    #[serde(default)]
    pub operation: SyncOperation,
    /// For a rollback: the revision the cluster was at before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_revision: Option<String>,
    /// Which: `manual`, `auto` or `self-heal` (records written before it
    /// existed read as `manual`).
    #[serde(default)]
    pub trigger: SyncTrigger,
    /// The plan as `SyncPlan` serializes it: kinds, names, actions, field paths.
    pub plan: Value,
}

/// Written when a sync ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncCompleted {
    pub id: String,
    pub time: jiff::Timestamp,
    pub app: String,
    pub status: SyncStatus,
    pub duration_ms: u64,
    pub objects: Vec<ObjectOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum AuditRecord {
    Start(SyncStarted),
    Completion(SyncCompleted),
}

/// One sync as `history` shows it: its start, and its end if there was one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncHistoryEntry {
    #[serde(flatten)]
    pub started: SyncStarted,
    pub status: SyncStatus,
    pub finished: Option<jiff::Timestamp>,
    pub duration_ms: Option<u64>,
    pub objects: Vec<ObjectOutcome>,
    pub error: Option<String>,
}

/// The audit log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLog {
    file: PathBuf,
}

impl AuditLog {
    /// `audit.jsonl` in the data folder.
    pub fn in_data_dir(paths: &Paths) -> AuditLog {
        AuditLog::at(&paths.data_dir.join(AUDIT_FILE))
    }

    pub fn at(file: &Path) -> AuditLog {
        AuditLog {
            file: file.to_path_buf(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Appends one record as one line; the file is made 0600 if new.
    pub fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let fail = |source| AuditError::Write {
            file: self.file.clone(),
            source,
        };
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.file).map_err(fail)?;
        // One write of the whole line: with O_APPEND, lines of two
        // processes do not interleave.
        file.write_all(&line).map_err(fail)?;
        file.sync_data().map_err(fail)
    }

    /// Every record; lines that do not parse (a line cut by a crash) are skipped.
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let file = match std::fs::File::open(&self.file) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(AuditError::Read {
                    file: self.file.clone(),
                    source,
                });
            }
        };
        let mut records = Vec::new();
        for line in io::BufReader::new(file).lines() {
            let line = line.map_err(|source| AuditError::Read {
                file: self.file.clone(),
                source,
            })?;
            if let Ok(record) = serde_json::from_str(&line) {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// The syncs of `app`, newest first.
    pub fn history(&self, app: &str) -> Result<Vec<SyncHistoryEntry>, AuditError> {
        Ok(history(self.records()?, app))
    }
}

/// Pairs starts with completions by id; a start without one was interrupted.
pub fn history(records: Vec<AuditRecord>, app: &str) -> Vec<SyncHistoryEntry> {
    let mut entries: Vec<SyncHistoryEntry> = Vec::new();
    let mut completions = Vec::new();
    for record in records {
        match record {
            AuditRecord::Start(started) if started.app == app => {
                entries.push(SyncHistoryEntry {
                    started,
                    status: SyncStatus::Interrupted,
                    finished: None,
                    duration_ms: None,
                    objects: Vec::new(),
                    error: None,
                });
            }
            AuditRecord::Completion(done) if done.app == app => completions.push(done),
            _ => {}
        }
    }
    for done in completions {
        if let Some(entry) = entries.iter_mut().find(|e| e.started.id == done.id) {
            entry.status = done.status;
            entry.finished = Some(done.time);
            entry.duration_ms = Some(done.duration_ms);
            entry.objects = done.objects;
            entry.error = done.error;
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.started.time));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceKey;
    use crate::sync::{ObjectResult, SyncAction};

    fn started(id: &str, app: &str, seconds: i64) -> AuditRecord {
        AuditRecord::Start(SyncStarted {
            id: id.to_string(),
            time: jiff::Timestamp::from_second(1_700_000_000 + seconds).unwrap(),
            operator: Operator {
                user: "alice".into(),
                host: "laptop".into(),
                kube_user: Some("alice-admin".into()),
            },
            app: app.to_string(),
            context: "prod".into(),
            revision: "abc".into(),
            automatic: false,
            operation: Default::default(),
            from_revision: None,
            trigger: SyncTrigger::Manual,
            plan: serde_json::json!({"steps": []}),
        })
    }

    fn completed(id: &str, app: &str) -> AuditRecord {
        AuditRecord::Completion(SyncCompleted {
            id: id.to_string(),
            time: jiff::Timestamp::from_second(1_700_000_100).unwrap(),
            app: app.to_string(),
            status: SyncStatus::Succeeded,
            duration_ms: 1200,
            objects: vec![ObjectOutcome {
                key: ResourceKey::new("v1", "ConfigMap", Some("shop"), "c"),
                action: SyncAction::Create,
                result: ObjectResult::Created,
                message: None,
            }],
            error: None,
        })
    }

    #[test]
    fn start_without_completion_shows_as_interrupted_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(&dir.path().join("data/audit.jsonl"));
        for record in [
            started("1", "shop", 0),
            completed("1", "shop"),
            started("2", "blog", 5),
            started("3", "shop", 10),
        ] {
            log.append(&record).unwrap();
        }
        let entries = log.history("shop").unwrap();
        let seen: Vec<(&str, SyncStatus)> = entries
            .iter()
            .map(|e| (e.started.id.as_str(), e.status))
            .collect();
        assert_eq!(
            seen,
            vec![("3", SyncStatus::Interrupted), ("1", SyncStatus::Succeeded)]
        );
        assert_eq!(entries[1].objects.len(), 1);
        assert_eq!(entries[1].duration_ms, Some(1200));
    }

    #[cfg(unix)]
    #[test]
    fn audit_file_is_private_and_appended_to() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(&dir.path().join("audit.jsonl"));
        log.append(&started("1", "shop", 0)).unwrap();
        log.append(&completed("1", "shop")).unwrap();
        let mode = std::fs::metadata(log.file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(log.file()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("\"record\":\"start\"")
        );
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(&dir.path().join("audit.jsonl"));
        log.append(&started("1", "shop", 0)).unwrap();
        let mut text = std::fs::read_to_string(log.file()).unwrap();
        text.push_str("{\"record\":\"completion\",\"id\":");
        std::fs::write(log.file(), text).unwrap();
        assert_eq!(log.records().unwrap().len(), 1);
        assert_eq!(
            AuditLog::at(&dir.path().join("none")).records().unwrap(),
            vec![]
        );
    }
}
