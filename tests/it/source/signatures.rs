//! Signature status in the log, with a throwaway gpg key (its own
//! `GNUPGHOME`) and ssh signing keys made in the test.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;

use driftdeck::source::{HistoryQuery, SignatureFormat, SignatureStatus, walk_history};

use super::support::{git, git_command, have};

/// A gpg home with one fresh key, and a `gpg` wrapper that uses it, so that
/// neither git nor driftdeck touch the user's keyring. The agent it starts
/// is stopped on drop.
struct GpgHome {
    home: PathBuf,
    wrapper: PathBuf,
    fingerprint: String,
}

impl GpgHome {
    fn new(dir: &Path, name: &str) -> GpgHome {
        let home = dir.join(format!("gnupg-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let gpg = |args: &[&str]| {
            let out = Command::new("gpg")
                .args(["--batch", "--quiet"])
                .args(args)
                .env("GNUPGHOME", &home)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "gpg {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let uid = format!("{name} <{name}@example.com>");
        gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            "ed25519",
            "sign",
            "never",
        ]);
        let fingerprint = gpg(&["--list-keys", "--with-colons"])
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .unwrap();
        let wrapper = dir.join(format!("gpg-{name}"));
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nGNUPGHOME='{}' exec gpg \"$@\"\n",
                home.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        GpgHome {
            home,
            wrapper,
            fingerprint,
        }
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.home)
            .status();
    }
}

/// An ssh signing key; its public half as an allowed-signers line.
pub(crate) fn ssh_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(format!("ssh-{name}"));
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let mut parts = public.split_whitespace();
    let line = format!(
        "{name}@example.com namespaces=\"git\" {} {}\n",
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    (key, line)
}

fn commit(repo: &Path, message: &str, signing: &[&str]) -> String {
    std::fs::write(repo.join("file"), message).unwrap();
    git(repo, &["add", "-A"]);
    let mut args: Vec<&str> = signing.to_vec();
    args.extend(["commit", "-q", "-m", message]);
    git(repo, &args);
    git(repo, &["rev-parse", "HEAD"])
}

/// The same commit with another message: the signature no longer matches.
fn tampered(repo: &Path, id: &str, branch: &str) {
    let raw = git(repo, &["cat-file", "commit", id]);
    let forged = raw.replacen("\n\n", "\n\nforged: ", 1) + "\n";
    let mut hash = git_command(repo, &["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    hash.stdin
        .take()
        .unwrap()
        .write_all(forged.as_bytes())
        .unwrap();
    let out = hash.wait_with_output().unwrap();
    assert!(out.status.success());
    let forged_id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    git(repo, &["branch", branch, &forged_id]);
}

/// Subject and signature status of each commit of `main`, oldest first.
fn statuses(repo: &Path) -> Vec<(String, SignatureStatus)> {
    let mut entries = statuses_from(repo, "main", None);
    entries.reverse();
    entries
}

/// The signature status of the commit `rev`, as the log shows it.
fn status_of(repo: &Path, rev: &str) -> SignatureStatus {
    statuses_from(repo, rev, Some(1)).remove(0).1
}

fn statuses_from(repo: &Path, rev: &str, limit: Option<usize>) -> Vec<(String, SignatureStatus)> {
    let mut entries = Vec::new();
    let query = HistoryQuery {
        rev: rev.to_string(),
        path: None,
        limit,
        signatures: true,
    };
    walk_history(repo, &query, |batch| {
        entries.extend(batch.into_iter().map(|e| (e.subject, e.signature)));
        ControlFlow::Continue(())
    })
    .unwrap();
    entries
}

#[test]
fn gpg_signatures_are_good_bad_or_cannot_be_checked() {
    if !have("git", "--version") || !have("gpg", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trusted = GpgHome::new(dir.path(), "signer");
    let stranger = GpgHome::new(dir.path(), "stranger");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(
        &repo,
        &["config", "gpg.program", trusted.wrapper.to_str().unwrap()],
    );

    commit(&repo, "plain", &[]);
    let sign_as = |home: &GpgHome| {
        vec![
            format!("gpg.program={}", home.wrapper.display()),
            format!("user.signingkey={}", home.fingerprint),
        ]
    };
    let signer = sign_as(&trusted);
    let good = commit(
        &repo,
        "signed",
        &[
            "-c",
            &signer[0],
            "-c",
            &signer[1],
            "-c",
            "commit.gpgsign=true",
        ],
    );
    let other = sign_as(&stranger);
    commit(
        &repo,
        "by a stranger",
        &[
            "-c",
            &other[0],
            "-c",
            &other[1],
            "-c",
            "commit.gpgsign=true",
        ],
    );
    tampered(&repo, &good, "forged");

    let statuses = statuses(&repo);
    assert_eq!(
        statuses[0],
        ("plain".to_string(), SignatureStatus::Unsigned)
    );
    assert_eq!(
        statuses[1],
        (
            "signed".to_string(),
            SignatureStatus::Good {
                signer: "signer <signer@example.com>".to_string(),
                format: SignatureFormat::Gpg,
            }
        )
    );
    let SignatureStatus::CannotCheck { reason } = &statuses[2].1 else {
        panic!("a stranger's key cannot be checked: {:?}", statuses[2]);
    };
    assert!(reason.contains("no public key"), "{reason}");
    let SignatureStatus::Bad { reason } = status_of(&repo, "forged") else {
        panic!("a forged commit is bad");
    };
    assert!(reason.contains("does not match"), "{reason}");
}

#[test]
fn ssh_signatures_are_checked_against_the_allowed_signers() {
    if !have("git", "--version") || !have("ssh-keygen", "-?") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, allowed_line) = ssh_key(dir.path(), "signer");
    let (stranger_key, _) = ssh_key(dir.path(), "stranger");
    let allowed = dir.path().join("allowed_signers");
    std::fs::write(&allowed, allowed_line).unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(
        &repo,
        &[
            "config",
            "gpg.ssh.allowedSignersFile",
            allowed.to_str().unwrap(),
        ],
    );

    commit(&repo, "plain", &[]);
    let signing_key = format!("user.signingkey={}", key.display());
    let ssh = ["-c", "gpg.format=ssh", "-c", "commit.gpgsign=true", "-c"];
    let mut as_signer: Vec<&str> = ssh.to_vec();
    as_signer.push(&signing_key);
    let good = commit(&repo, "signed", &as_signer);
    let stranger = format!("user.signingkey={}", stranger_key.display());
    let mut as_stranger: Vec<&str> = ssh.to_vec();
    as_stranger.push(&stranger);
    commit(&repo, "by a stranger", &as_stranger);
    tampered(&repo, &good, "forged");

    let statuses = statuses(&repo);
    assert_eq!(statuses[0].1, SignatureStatus::Unsigned);
    assert_eq!(
        statuses[1].1,
        SignatureStatus::Good {
            signer: "signer@example.com".to_string(),
            format: SignatureFormat::Ssh,
        }
    );
    let SignatureStatus::CannotCheck { reason } = &statuses[2].1 else {
        panic!("an unknown ssh key cannot be checked: {:?}", statuses[2]);
    };
    assert!(reason.contains("allowedSignersFile"), "{reason}");
    assert!(matches!(
        status_of(&repo, "forged"),
        SignatureStatus::Bad { .. }
    ));

    // Without an allowed-signers file, nothing can be checked, and it says why.
    git(&repo, &["config", "--unset", "gpg.ssh.allowedSignersFile"]);
    let SignatureStatus::CannotCheck { reason } = status_of(&repo, "main~1") else {
        panic!("no allowed signers, no verdict");
    };
    assert!(reason.contains("allowedSignersFile"), "{reason}");
}

/// The log is walked again at every new head: a commit's signature is
/// checked once (ssh-keygen runs once per signed commit, counted by a
/// wrapper set as `gpg.ssh.program`), and again once the settings change.
#[test]
fn each_signature_is_checked_once_while_the_settings_stay() {
    if !have("git", "--version") || !have("ssh-keygen", "-?") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, allowed_line) = ssh_key(dir.path(), "signer");
    let allowed = dir.path().join("allowed_signers");
    std::fs::write(&allowed, allowed_line).unwrap();
    let runs = dir.path().join("runs");
    let wrapper = dir.path().join("counting-ssh-keygen");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec ssh-keygen \"$@\"\n",
            runs.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let allowed_setting = allowed.to_str().unwrap();
    git(
        &repo,
        &["config", "gpg.ssh.allowedSignersFile", allowed_setting],
    );
    let signing_key = format!("user.signingkey={}", key.display());
    let signed = [
        "-c",
        "gpg.format=ssh",
        "-c",
        "commit.gpgsign=true",
        "-c",
        &signing_key,
    ];
    for message in ["one", "two", "three"] {
        commit(&repo, message, &signed);
    }
    // Only the log's checks are counted from here on.
    git(
        &repo,
        &["config", "gpg.ssh.program", wrapper.to_str().unwrap()],
    );
    let verifier_runs = || {
        std::fs::read_to_string(&runs)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    };

    let good = |walked: Vec<(String, SignatureStatus)>| {
        walked.len() == 3
            && walked
                .iter()
                .all(|(_, s)| matches!(s, SignatureStatus::Good { .. }))
    };
    assert!(good(statuses(&repo)));
    // gix may run ssh-keygen more than once per check (find the principal,
    // then verify): what counts is that walking again runs it no more.
    let per_walk = verifier_runs();
    assert!(per_walk >= 3, "each signed commit was checked: {per_walk}");
    for _ in 0..3 {
        assert!(good(statuses(&repo)));
    }
    assert_eq!(verifier_runs(), per_walk, "each commit is checked once");

    // Another allowed-signers file: every verdict is reached again.
    std::fs::write(&allowed, "").unwrap();
    let walked = statuses(&repo);
    assert!(
        walked
            .iter()
            .all(|(_, s)| !matches!(s, SignatureStatus::Good { .. }))
    );
    assert_eq!(verifier_runs(), 2 * per_walk);
}
