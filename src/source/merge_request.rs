//! The web page that opens a merge request (a pull request) from a pushed
//! branch, derived from the remote's URL for the forges whose URL shapes are
//! known: GitHub, GitLab, Bitbucket and Gitea (Forgejo, Codeberg). Pure.

use std::fmt;

/// The forges whose "new merge request" page can be derived from a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    GitLab,
    Bitbucket,
    Gitea,
}

impl fmt::Display for Forge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forge::GitHub => "GitHub",
            Forge::GitLab => "GitLab",
            Forge::Bitbucket => "Bitbucket",
            Forge::Gitea => "Gitea",
        })
    }
}

/// The forge a host name suggests: the public hosts by name, self-hosted
/// ones by the product in their name (`gitlab.example.com`).
fn forge_of(host: &str) -> Option<Forge> {
    let host = host.to_ascii_lowercase();
    if host.contains("github") {
        Some(Forge::GitHub)
    } else if host.contains("gitlab") {
        Some(Forge::GitLab)
    } else if host.contains("bitbucket") {
        Some(Forge::Bitbucket)
    } else if host.contains("gitea") || host.contains("forgejo") || host == "codeberg.org" {
        Some(Forge::Gitea)
    } else {
        None
    }
}

/// The web side of a remote: `https://host[:port]` and the repository's path
/// on it, without `.git`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WebRepo {
    base: String,
    host: String,
    path: String,
}

/// Reads `https://[user@]host[:port]/path`, `ssh://[user@]host[:port]/path`,
/// `git://host/path` and the scp-like `[user@]host:path`. Credentials are
/// dropped; an ssh port is not the web server's, so it is dropped too.
fn web_repo(remote: &str) -> Result<WebRepo, String> {
    let remote = remote.trim();
    let (scheme, rest) = match remote.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("scp".to_string(), remote),
    };
    let (authority, path) = match scheme.as_str() {
        "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git" => rest
            .split_once('/')
            .ok_or_else(|| format!("the remote \"{remote}\" names no repository path"))?,
        "scp" => rest
            .split_once(':')
            .filter(|(host, _)| !host.contains('/'))
            .ok_or_else(|| format!("\"{remote}\" is a local path, not a remote on a forge"))?,
        other => return Err(format!("a {other}:// remote is not on a forge")),
    };
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (host_port, None),
    };
    if host.is_empty() {
        return Err(format!("the remote \"{remote}\" names no host"));
    }
    let path = path
        .trim_matches('/')
        .trim_end_matches(".git")
        .trim_end_matches('/');
    if path.is_empty() {
        return Err(format!("the remote \"{remote}\" names no repository path"));
    }
    let base = match (scheme.as_str(), port) {
        ("http", Some(port)) => format!("http://{host}:{port}"),
        ("http", None) => format!("http://{host}"),
        ("https", Some(port)) => format!("https://{host}:{port}"),
        _ => format!("https://{host}"),
    };
    Ok(WebRepo {
        base,
        host: host.to_string(),
        path: path.to_string(),
    })
}

/// The page that opens a merge request of `branch` into `target` on the
/// forge `remote` lives on; `Err` says why there is none (an unknown host, a
/// local repository).
pub fn merge_request_url(remote: &str, branch: &str, target: &str) -> Result<String, String> {
    let repo = web_repo(remote)?;
    let forge = forge_of(&repo.host).ok_or_else(|| {
        format!(
            "\"{}\" is not a known forge (GitHub, GitLab, Bitbucket, Gitea): open the merge request of branch \"{branch}\" there by hand",
            repo.host
        )
    })?;
    let WebRepo { base, path, .. } = repo;
    let (branch_q, target_q) = (query_value(branch), query_value(target));
    Ok(match forge {
        Forge::GitHub => format!("{base}/{path}/compare/{target}...{branch}?expand=1"),
        Forge::GitLab => format!(
            "{base}/{path}/-/merge_requests/new?merge_request%5Bsource_branch%5D={branch_q}&merge_request%5Btarget_branch%5D={target_q}"
        ),
        Forge::Bitbucket => {
            format!("{base}/{path}/pull-requests/new?source={branch_q}&dest={target_q}")
        }
        Forge::Gitea => format!("{base}/{path}/compare/{target}...{branch}"),
    })
}

/// Percent-encodes what a query value cannot hold as is.
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRANCH: &str = "driftdeck/rollback-api-abc1234";

    fn url(remote: &str) -> Result<String, String> {
        merge_request_url(remote, BRANCH, "main")
    }

    #[test]
    fn github_https_and_ssh_shapes() {
        let expected =
            "https://github.com/acme/deploy/compare/main...driftdeck/rollback-api-abc1234?expand=1";
        assert_eq!(url("https://github.com/acme/deploy.git").unwrap(), expected);
        assert_eq!(url("https://github.com/acme/deploy").unwrap(), expected);
        assert_eq!(url("git@github.com:acme/deploy.git").unwrap(), expected);
        assert_eq!(
            url("ssh://git@github.com/acme/deploy.git").unwrap(),
            expected
        );
        assert_eq!(
            url("https://x-access-token:s3cret@github.com/acme/deploy.git").unwrap(),
            expected,
            "credentials are dropped"
        );
    }

    #[test]
    fn gitlab_keeps_subgroups_and_drops_the_ssh_port() {
        let expected = "https://gitlab.example.com/platform/team/deploy/-/merge_requests/new?merge_request%5Bsource_branch%5D=driftdeck/rollback-api-abc1234&merge_request%5Btarget_branch%5D=main";
        assert_eq!(
            url("https://gitlab.example.com/platform/team/deploy.git").unwrap(),
            expected
        );
        assert_eq!(
            url("ssh://git@gitlab.example.com:2222/platform/team/deploy.git").unwrap(),
            expected
        );
        assert_eq!(
            url("git@gitlab.example.com:platform/team/deploy.git").unwrap(),
            expected
        );
    }

    #[test]
    fn bitbucket_and_gitea_shapes() {
        let bitbucket = "https://bitbucket.org/acme/deploy/pull-requests/new?source=driftdeck/rollback-api-abc1234&dest=main";
        assert_eq!(
            url("https://ada@bitbucket.org/acme/deploy.git").unwrap(),
            bitbucket
        );
        assert_eq!(url("git@bitbucket.org:acme/deploy.git").unwrap(), bitbucket);
        assert_eq!(
            url("https://gitea.example.com:3000/acme/deploy.git").unwrap(),
            "https://gitea.example.com:3000/acme/deploy/compare/main...driftdeck/rollback-api-abc1234"
        );
        assert_eq!(
            url("git@codeberg.org:acme/deploy.git").unwrap(),
            "https://codeberg.org/acme/deploy/compare/main...driftdeck/rollback-api-abc1234"
        );
    }

    #[test]
    fn unknown_hosts_and_local_repositories_have_no_url_and_say_why() {
        let why = url("git://127.0.0.1:9418/deploy.git").unwrap_err();
        assert!(why.contains("\"127.0.0.1\" is not a known forge"), "{why}");
        assert!(why.contains(BRANCH), "{why}");
        let why = url("file:///srv/git/deploy.git").unwrap_err();
        assert!(why.contains("not on a forge"), "{why}");
        let why = url("/srv/git/deploy.git").unwrap_err();
        assert!(why.contains("local path"), "{why}");
        assert!(url("https://github.com/").is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_value("a b&c/d"), "a%20b%26c/d");
    }
}
