//! The demo's Git repository, written with the git CLI (which can sign
//! commits with an SSH key): the scripted history, then the team's commits.
//! git runs without the user's global and system config, so their hooks,
//! templates and signing settings play no part.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::DemoError;
use super::manifests::{Files, Tools, files};
use super::scenario::{Author, Commit};

/// The demo repository and how its commits are signed.
#[derive(Debug, Clone)]
pub struct DemoRepo {
    pub dir: PathBuf,
    /// The throwaway signing key; `None` without ssh-keygen.
    key: Option<PathBuf>,
    tools: Tools,
}

impl DemoRepo {
    /// A new repository at `dir` (which must be empty or absent), with a
    /// throwaway SSH key in `keys_dir` to sign commits with, trusted by the
    /// repository's own config so driftdeck shows the signatures as good.
    pub fn create(dir: &Path, keys_dir: &Path, tools: Tools) -> Result<DemoRepo, DemoError> {
        let empty = std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
        if !empty {
            return Err(DemoError::NotEmpty(dir.to_path_buf()));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DemoError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let repo = DemoRepo {
            dir: dir.to_path_buf(),
            key: None,
            tools,
        };
        repo.git(&["init", "-q", "-b", "main"])?;
        let key = make_key(keys_dir)?;
        if let Some(key) = &key {
            let public = std::fs::read_to_string(key.with_extension("pub"))
                .map_err(io(&key.with_extension("pub")))?;
            let signers = keys_dir.join("allowed_signers");
            let emails = [super::scenario::ADA, super::scenario::GRACE]
                .map(|a| a.email)
                .join(",");
            std::fs::write(&signers, format!("{emails} namespaces=\"git\" {public}"))
                .map_err(io(&signers))?;
            let key_path = key.to_string_lossy();
            let signers_path = signers.to_string_lossy();
            for (name, value) in [
                ("gpg.format", "ssh"),
                ("user.signingkey", &key_path),
                ("gpg.ssh.allowedSignersFile", &signers_path),
            ] {
                repo.git(&["config", name, value])?;
            }
        }
        Ok(DemoRepo { key, ..repo })
    }

    pub fn tools(&self) -> Tools {
        self.tools
    }

    pub fn signs(&self) -> bool {
        self.key.is_some()
    }

    /// Writes every commit of the script, oldest first, and gives their ids.
    pub fn write_script(&self, script: &[Commit]) -> Result<Vec<String>, DemoError> {
        let mut before = Files::new();
        for commit in script {
            let after = files(&commit.settings, self.tools);
            self.commit_files(&before, &after, commit)?;
            before = after;
        }
        let ids = self.git(&["rev-list", "--reverse", "HEAD"])?;
        Ok(ids.lines().map(str::to_string).collect())
    }

    /// Commits `commit` on top of `before` (the files as the last scripted
    /// or team commit left them): only the files that differ are written,
    /// so what others committed meanwhile (a revert) stays.
    pub fn commit_on(&self, before: &Files, commit: &Commit) -> Result<String, DemoError> {
        let after = files(&commit.settings, self.tools);
        self.commit_files(before, &after, commit)?;
        Ok(self.git(&["rev-parse", "HEAD"])?.trim().to_string())
    }

    fn commit_files(
        &self,
        before: &Files,
        after: &Files,
        commit: &Commit,
    ) -> Result<(), DemoError> {
        for (path, content) in after {
            if before.get(path) == Some(content) {
                continue;
            }
            let target = self.dir.join(path);
            let write = || -> std::io::Result<()> {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&target, content)
            };
            write().map_err(|source| DemoError::Io {
                path: target.clone(),
                source,
            })?;
        }
        for path in before.keys().filter(|path| !after.contains_key(*path)) {
            let target = self.dir.join(path);
            match std::fs::remove_file(&target) {
                Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                    return Err(DemoError::Io {
                        path: target,
                        source,
                    });
                }
                _ => {}
            }
        }
        self.git(&["add", "-A"])?;
        let date = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_mins(i64::from(
                commit.minutes_ago,
            )))
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .strftime("%Y-%m-%dT%H:%M:%S+0000")
            .to_string();
        let mut args = vec!["commit", "-q", "-m", &commit.message];
        if commit.author.signs && self.signs() {
            args.push("-S");
        }
        self.git_as(&args, commit.author, &date).map(|_| ())
    }

    /// Runs git in the repository as the demo's own user.
    fn git(&self, args: &[&str]) -> Result<String, DemoError> {
        self.git_as(args, super::scenario::ADA, "")
    }

    fn git_as(&self, args: &[&str], author: Author, date: &str) -> Result<String, DemoError> {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", author.name)
            .env("GIT_AUTHOR_EMAIL", author.email)
            .env("GIT_COMMITTER_NAME", author.name)
            .env("GIT_COMMITTER_EMAIL", author.email)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null());
        if !date.is_empty() {
            command
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date);
        }
        let output = command.output().map_err(|source| DemoError::Tool {
            tool: "git",
            message: source.to_string(),
        })?;
        if !output.status.success() {
            return Err(DemoError::Git {
                dir: self.dir.clone(),
                command: args.join(" "),
                message: [&output.stderr, &output.stdout]
                    .map(|text| String::from_utf8_lossy(text).trim().to_string())
                    .join(" ")
                    .trim()
                    .to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// A new ed25519 key without a passphrase, or `None` when ssh-keygen is missing.
fn make_key(keys_dir: &Path) -> Result<Option<PathBuf>, DemoError> {
    std::fs::create_dir_all(keys_dir).map_err(|source| DemoError::Io {
        path: keys_dir.to_path_buf(),
        source,
    })?;
    let key = keys_dir.join("demo_signing_key");
    let made = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "driftdeck demo",
            "-f",
        ])
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match made {
        Ok(status) if status.success() => Ok(Some(key)),
        _ => Ok(None),
    }
}
