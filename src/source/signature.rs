//! Whether a commit's signature verifies, through gix's `verify_signature`:
//! gpg or `ssh-keygen` as git is configured (`gpg.program`,
//! `gpg.ssh.program`, `gpg.ssh.allowedSignersFile`, `gpg.minTrustLevel`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::causes::with_causes;

/// The verdicts the commit log has reached, by repository and commit. A
/// branch's log is walked again at every new head, and checking a signature
/// runs gpg or ssh-keygen: without this a branch of 200 signed commits that
/// gets a commit every few seconds kept hundreds of them running at once
/// (the demo's team did). A verdict stands while git's signing settings
/// (and the allowed-signers file) stay as they were; "cannot check" for a
/// minute only, since a key imported into gpg's keyring shows in no setting.
/// What decides a sync (`signature_at`) is always checked afresh.
static LOGGED: LazyLock<Mutex<HashMap<(PathBuf, gix::ObjectId), Logged>>> =
    LazyLock::new(Mutex::default);
/// Beyond this many verdicts the memo starts again (a bound on memory).
const LOGGED_LIMIT: usize = 100_000;
/// How long "cannot check" stands before the log checks again.
const CANNOT_CHECK_STANDS: Duration = Duration::from_secs(60);

struct Logged {
    settings: String,
    status: SignatureStatus,
    at: Instant,
}

/// The settings a verdict depends on, as one string to compare.
fn signing_settings(repo: &gix::Repository) -> String {
    let config = repo.config_snapshot();
    let mut settings = String::new();
    for key in [
        "gpg.format",
        "gpg.program",
        "gpg.openpgp.program",
        "gpg.x509.program",
        "gpg.ssh.program",
        "gpg.ssh.allowedSignersFile",
        "gpg.minTrustLevel",
    ] {
        let value = config.string(key);
        if key == "gpg.ssh.allowedSignersFile"
            && let Some(path) = &value
        {
            let modified = std::fs::metadata(path.to_string())
                .and_then(|m| m.modified())
                .ok();
            settings.push_str(&format!("{modified:?}"));
        }
        settings.push_str(&format!("{key}={value:?}\n"));
    }
    settings
}

/// A commit's signature, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureStatus {
    Unsigned,
    /// Verified, from a key git is configured to trust.
    Good {
        signer: String,
        format: SignatureFormat,
    },
    /// The signature does not match the commit, or its key expired or was revoked.
    Bad {
        reason: String,
    },
    /// Signed, but this machine cannot tell whether to believe it.
    CannotCheck {
        reason: String,
    },
}

/// The kind of a signature: what `require_signed = "gpg"` or `"ssh"` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFormat {
    Gpg,
    X509,
    Ssh,
}

impl std::fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureFormat::Gpg => "gpg",
            SignatureFormat::X509 => "x509",
            SignatureFormat::Ssh => "ssh",
        })
    }
}

impl SignatureStatus {
    /// A short word for tables: `good`, `bad`, `unsigned`, `unknown`.
    pub fn label(&self) -> &'static str {
        match self {
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::Good { .. } => "good",
            SignatureStatus::Bad { .. } => "bad",
            SignatureStatus::CannotCheck { .. } => "unknown",
        }
    }
}

/// `verify`, once per commit and repository (see `LOGGED`): for the log.
pub(crate) fn verify_for_log(commit: &gix::Commit<'_>) -> SignatureStatus {
    let key = (commit.repo.git_dir().to_path_buf(), commit.id);
    let settings = signing_settings(commit.repo);
    let memo = || LOGGED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = memo().get(&key)
        && known.settings == settings
        && (!matches!(known.status, SignatureStatus::CannotCheck { .. })
            || known.at.elapsed() < CANNOT_CHECK_STANDS)
    {
        return known.status.clone();
    }
    let status = verify(commit);
    let mut logged = memo();
    if logged.len() >= LOGGED_LIMIT {
        logged.clear();
    }
    let at = Instant::now();
    logged.insert(
        key,
        Logged {
            settings,
            status: status.clone(),
            at,
        },
    );
    status
}

/// Verifies a commit's signature; every failure to verify becomes a status.
pub(crate) fn verify(commit: &gix::Commit<'_>) -> SignatureStatus {
    use gix::objs::signature::Format;
    use gix::objs::signature::verify::{Status, TrustLevel};
    let outcome = match commit.verify_signature() {
        Ok(None) => return SignatureStatus::Unsigned,
        Ok(Some(outcome)) => outcome,
        Err(err) => {
            return SignatureStatus::CannotCheck {
                reason: with_causes(&err),
            };
        }
    };
    let text = |value: &Option<gix::bstr::BString>| value.as_ref().map(|v| v.to_string());
    let who = text(&outcome.signer)
        .or_else(|| text(&outcome.fingerprint))
        .or_else(|| text(&outcome.key))
        .unwrap_or_else(|| "an unknown key".to_string());
    if outcome.is_valid() {
        let format = match outcome.format {
            Format::OpenPgp => SignatureFormat::Gpg,
            Format::X509 => SignatureFormat::X509,
            Format::Ssh => SignatureFormat::Ssh,
        };
        return SignatureStatus::Good {
            signer: who,
            format,
        };
    }
    let first_line = || {
        outcome
            .output
            .to_string()
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("the verifier gave no reason")
            .to_string()
    };
    match outcome.status {
        Status::Bad => SignatureStatus::Bad {
            reason: format!("the signature by {who} does not match the commit"),
        },
        Status::Expired => SignatureStatus::Bad {
            reason: format!("the signature by {who} has expired"),
        },
        Status::ExpiredKey => SignatureStatus::Bad {
            reason: format!("the key of {who} has expired"),
        },
        Status::RevokedKey => SignatureStatus::Bad {
            reason: format!("the key of {who} was revoked"),
        },
        Status::Good
            if outcome.format == Format::Ssh && outcome.trust_level == TrustLevel::Undefined =>
        {
            SignatureStatus::CannotCheck {
                reason: format!("signed by key {who}, which is not in gpg.ssh.allowedSignersFile"),
            }
        }
        Status::Good => SignatureStatus::CannotCheck {
            reason: format!("signed by {who}, trusted less than gpg.minTrustLevel asks"),
        },
        Status::Error => SignatureStatus::CannotCheck {
            reason: match text(&outcome.key) {
                Some(key) => format!("no public key for {key}"),
                None => first_line(),
            },
        },
        Status::Unknown => SignatureStatus::CannotCheck {
            reason: first_line(),
        },
    }
}

/// The signature of the commit `rev` names in the repository at
/// `repo_dir`, checked; what cannot be read becomes `CannotCheck`. Blocking:
/// it may run gpg or ssh-keygen.
pub fn signature_at(repo_dir: &std::path::Path, rev: &str) -> SignatureStatus {
    let commit = gix::open(repo_dir)
        .map_err(|e| with_causes(&e))
        .and_then(|repo| {
            let id = repo
                .rev_parse_single(rev)
                .map_err(|e| with_causes(&e))?
                .detach();
            repo.find_commit(id)
                .map(|commit| verify(&commit))
                .map_err(|e| with_causes(&e))
        });
    commit.unwrap_or_else(|reason| SignatureStatus::CannotCheck { reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialize_with_a_tag() {
        let good = SignatureStatus::Good {
            signer: "Alice <a@example.com>".to_string(),
            format: SignatureFormat::Ssh,
        };
        assert_eq!(
            serde_json::to_string(&good).unwrap(),
            r#"{"status":"good","signer":"Alice <a@example.com>","format":"ssh"}"#
        );
        assert_eq!(
            serde_json::to_string(&SignatureStatus::Unsigned).unwrap(),
            r#"{"status":"unsigned"}"#
        );
        let unknown = SignatureStatus::CannotCheck {
            reason: "no public key".to_string(),
        };
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#"{"status":"cannot_check","reason":"no public key"}"#
        );
        assert_eq!(unknown.label(), "unknown");
    }
}
