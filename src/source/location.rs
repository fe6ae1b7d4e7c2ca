//! Where a repository lives: a folder on this machine, or a remote URL whose
//! bare clone sits in the cache folder. Credentials in a URL never leave
//! this module: everything shown or logged uses the redacted form.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::SourceError;

/// The repository an app's `repo` setting names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SourceLocation {
    /// A work tree or a bare repository on this machine, read in place.
    Local(PathBuf),
    /// A remote repository, cloned bare into the cache folder.
    Remote(RemoteUrl),
}

/// A remote's URL. `Display` and `Debug` show it without user and password;
/// the full URL is only handed to the transport.
#[derive(Clone)]
pub struct RemoteUrl {
    url: gix::Url,
    /// The URL as shown: scheme, host, port and path, no userinfo.
    redacted: String,
    /// Strings that must not appear in messages (password, token-like user, raw userinfo).
    secrets: Vec<String>,
}

impl SourceLocation {
    /// Reads an app's `repo` setting: an `https://`, `http://`, `ssh://`,
    /// `git://` or `file://` URL, an scp-like `user@host:path`, or a local path.
    pub fn parse(repo: &str) -> Result<SourceLocation, SourceError> {
        let invalid = |why: String| SourceError::InvalidLocation {
            location: redact_userinfo(repo),
            why,
        };
        let text = repo.trim();
        if text.is_empty() {
            return Err(invalid("the location is empty".to_string()));
        }
        let has_scheme = text.contains("://");
        if !has_scheme && Path::new(text).exists() {
            // Canonical, so two spellings of one folder share a poller.
            let path = std::fs::canonicalize(text).unwrap_or_else(|_| PathBuf::from(text));
            return Ok(SourceLocation::Local(path));
        }
        let url = gix::url::parse(text.as_bytes()).map_err(|e| {
            // gix quotes the input, credentials and all.
            let mut why = e.to_string();
            if let Some(userinfo) = raw_userinfo(text).filter(|u| !u.is_empty()) {
                why = why.replace(userinfo, "***");
            }
            invalid(why)
        })?;
        match url.scheme {
            gix::url::Scheme::File if !has_scheme => Ok(SourceLocation::Local(PathBuf::from(text))),
            gix::url::Scheme::File
            | gix::url::Scheme::Git
            | gix::url::Scheme::Ssh
            | gix::url::Scheme::Http
            | gix::url::Scheme::Https => Ok(SourceLocation::Remote(RemoteUrl::new(text, url))),
            _ => Err(invalid(
                "only https://, http://, ssh://, git://, file:// URLs, user@host:path and local paths are supported"
                    .to_string(),
            )),
        }
    }

    /// The repository driftdeck reads: the local one, or the remote's bare
    /// clone under `cache_dir`.
    pub fn git_dir(&self, cache_dir: &Path) -> PathBuf {
        match self {
            SourceLocation::Local(path) => path.clone(),
            SourceLocation::Remote(url) => url.clone_dir(cache_dir),
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceLocation::Local(path) => write!(f, "{}", path.display()),
            SourceLocation::Remote(url) => write!(f, "{url}"),
        }
    }
}

impl RemoteUrl {
    fn new(raw: &str, url: gix::Url) -> RemoteUrl {
        let mut shown = url.clone();
        shown.set_user(None);
        shown.set_password(None);
        let redacted = shown.to_bstring().to_string();
        let mut secrets = Vec::new();
        if let Some(password) = url.password() {
            secrets.push(password.to_string());
        }
        // A user alone on an HTTP URL is often a token (`https://TOKEN@host/…`).
        let http = matches!(url.scheme, gix::url::Scheme::Http | gix::url::Scheme::Https);
        if let Some(user) = url.user()
            && http
            && url.password().is_none()
            && user.len() >= 8
        {
            secrets.push(user.to_string());
        }
        if let Some(userinfo) = raw_userinfo(raw)
            && url.password().is_some()
        {
            secrets.push(userinfo.to_string());
        }
        secrets.retain(|s| !s.is_empty());
        // Longest first, so a secret that contains another is removed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        RemoteUrl {
            url,
            redacted,
            secrets,
        }
    }

    /// The full URL, credentials included, for the transport only.
    pub(crate) fn for_transport(&self) -> &gix::Url {
        &self.url
    }

    /// The URL for the system `git`, credentials included; never shown.
    pub(crate) fn for_git_command(&self) -> String {
        self.url.to_bstring().to_string()
    }

    pub fn scheme(&self) -> &gix::url::Scheme {
        &self.url.scheme
    }

    /// `message` with every credential of this URL replaced by `***`, for
    /// errors that come from the transport and may quote the URL.
    pub fn scrub(&self, message: &str) -> String {
        let mut text = message.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }

    /// The bare clone's folder: readable (host and repository name) and
    /// unique (a hash of the credential-free URL).
    pub fn clone_dir(&self, cache_dir: &Path) -> PathBuf {
        let host = self.url.host().unwrap_or("local");
        let name = self
            .redacted
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("repo")
            .trim_end_matches(".git");
        let readable: String = format!("{host}-{name}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
        hasher.update(self.redacted.as_bytes());
        let digest = hasher
            .try_finalize()
            .map(|id| id.to_hex_with_len(16).to_string())
            // Hashing bytes in memory does not fail; the SHA-1 collision
            // check is the only error, and the readable part still separates.
            .unwrap_or_else(|_| "0".repeat(16));
        cache_dir
            .join("git")
            .join(format!("{readable}-{digest}.git"))
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteUrl({})", self.redacted)
    }
}

/// Two URLs that differ only in credentials name the same repository.
impl PartialEq for RemoteUrl {
    fn eq(&self, other: &Self) -> bool {
        self.redacted == other.redacted
    }
}

impl Eq for RemoteUrl {}

impl Hash for RemoteUrl {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.redacted.hash(state);
    }
}

/// The `user:password` part of `scheme://user:password@host/…`, as written.
fn raw_userinfo(raw: &str) -> Option<&str> {
    let after_scheme = &raw[raw.find("://")? + 3..];
    let authority = after_scheme.split('/').next()?;
    let at = authority.rfind('@')?;
    Some(&authority[..at])
}

/// A location that failed to parse, shown without what looks like userinfo.
fn redact_userinfo(raw: &str) -> String {
    match raw_userinfo(raw) {
        Some(userinfo) => raw.replacen(&format!("{userinfo}@"), "", 1),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(text: &str) -> RemoteUrl {
        match SourceLocation::parse(text).unwrap() {
            SourceLocation::Remote(url) => url,
            other => panic!("{text} should be remote, got {other:?}"),
        }
    }

    #[test]
    fn urls_are_remote_and_existing_paths_local() {
        for url in [
            "https://example.com/org/deploy.git",
            "http://127.0.0.1:8080/deploy",
            "ssh://git@example.com/org/deploy.git",
            "git@example.com:org/deploy.git",
            "git://127.0.0.1:9418/deploy.git",
            "file:///srv/git/deploy.git",
        ] {
            assert!(
                matches!(SourceLocation::parse(url), Ok(SourceLocation::Remote(_))),
                "{url}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().to_str().unwrap();
        let local = SourceLocation::Local(dir.path().canonicalize().unwrap());
        assert_eq!(SourceLocation::parse(here).unwrap(), local);
        assert_eq!(SourceLocation::parse(&format!("{here}/")).unwrap(), local);
        assert!(matches!(
            SourceLocation::parse("./not/there"),
            Ok(SourceLocation::Local(_))
        ));
    }

    #[test]
    fn other_transports_and_empty_locations_are_refused() {
        let err = SourceLocation::parse("ext::sh -c evil")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only https://"), "{err}");
        assert!(SourceLocation::parse("  ").is_err());
    }

    #[test]
    fn credentials_are_never_displayed() {
        let url = remote("https://alice:s3cr%40t@example.com/org/deploy.git");
        let shown = format!("{url} {url:?} {}", SourceLocation::Remote(url.clone()));
        assert!(!shown.contains("alice"), "{shown}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert_eq!(url.to_string(), "https://example.com/org/deploy.git");
        let token = remote("https://ghp_0123456789abcdef@example.com/deploy.git");
        assert_eq!(token.to_string(), "https://example.com/deploy.git");
    }

    #[test]
    fn scrub_removes_credentials_from_messages() {
        let url = remote("https://alice:s3cr%40t@example.com/deploy.git");
        let message =
            "connecting to \"https://alice:s3cr%40t@example.com/deploy.git\" as alice with s3cr@t";
        let scrubbed = url.scrub(message);
        assert!(!scrubbed.contains("s3cr"), "{scrubbed}");
        let token = remote("https://ghp_0123456789abcdef@example.com/deploy.git");
        assert_eq!(token.scrub("401 for ghp_0123456789abcdef"), "401 for ***");
    }

    #[test]
    fn a_location_that_does_not_parse_hides_its_userinfo() {
        let err = SourceLocation::parse("https://bob:hunter2@exa mple.com:99999/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn clone_folders_are_shared_across_credentials_and_distinct_across_urls() {
        let cache = Path::new("/cache");
        let a = remote("https://alice:pw@example.com/org/deploy.git").clone_dir(cache);
        let b = remote("https://example.com/org/deploy.git").clone_dir(cache);
        let c = remote("https://example.com/other/deploy.git").clone_dir(cache);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("example.com-deploy-"), "{name}");
        assert!(name.ends_with(".git"), "{name}");
        assert!(!a.to_string_lossy().contains("pw"));
    }
}
