//! Talking to a remote with gix: list the tracked branches' tips (refs only,
//! no objects) and fetch the branches that moved into the bare clone in the
//! cache folder. Blocking: callers run these in `spawn_blocking`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use gix::ObjectId;
use gix::protocol::handshake::Ref;
use gix::protocol::transport::client::blocking_io::Transport;
use gix::protocol::transport::client::blocking_io::http;
use gix::remote::Direction;

use super::http::{CountingHttp, Throttled, Traffic};
use super::location::RemoteUrl;
use crate::causes::with_causes;

/// The remote's tips for the branches asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Advertised {
    /// The branch the remote's `HEAD` points to, when asked and known.
    pub default_branch: Option<String>,
    /// Branch name (without `refs/heads/`) to its tip.
    pub branches: BTreeMap<String, ObjectId>,
}

/// Why talking to the remote failed, with credentials already scrubbed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteFailure {
    pub cause: String,
    pub throttled: Option<Throttled>,
}

/// Opens the bare clone at `dir`, creating it first if needed. A new clone is
/// made in a temporary folder and renamed into place, so a half-made clone
/// is never mistaken for a real one.
pub(crate) fn open_or_init_clone(dir: &Path) -> Result<gix::Repository, String> {
    if dir.exists() {
        return gix::open(dir).map_err(|e| format!("cannot open the clone {}: {e}", dir.display()));
    }
    let parent = dir
        .parent()
        .ok_or_else(|| format!("{} has no parent folder", dir.display()))?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".clone-")
        .tempdir_in(parent)
        .map_err(|e| format!("cannot create a folder in {}: {e}", parent.display()))?;
    gix::init_bare(staging.path())
        .map_err(|e| format!("cannot create a repository in {}: {e}", parent.display()))?;
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        // Another driftdeck made the same clone meanwhile: use that one.
        let _ = std::fs::remove_dir_all(&staged);
        if !dir.exists() {
            return Err(format!("cannot create the clone {}: {e}", dir.display()));
        }
    }
    gix::open(dir).map_err(|e| format!("cannot open the clone {}: {e}", dir.display()))
}

/// Asks the remote for the tips of `branches`, and for its `HEAD` when
/// `with_default` is set. One handshake and one `ls-refs`, filtered on the
/// server by ref prefix; no pack is requested.
pub(crate) fn list_branches(
    repo: &gix::Repository,
    url: &RemoteUrl,
    branches: &[String],
    with_default: bool,
    traffic: &Arc<Traffic>,
    timeout: Duration,
) -> Result<Advertised, RemoteFailure> {
    let mut specs: Vec<String> = branches.iter().map(|b| format!("refs/heads/{b}")).collect();
    if with_default {
        specs.push("HEAD".to_string());
    }
    let fail = |e: &dyn std::fmt::Display| failure(url, traffic, e);
    let remote = anonymous_remote(repo, url, &specs).map_err(|e| fail(&e))?;
    let connection = connect(&remote, url, traffic, timeout).map_err(|e| fail(&e))?;
    let (ref_map, _handshake) = connection
        .ref_map(gix::progress::Discard, Default::default())
        .map_err(|e| fail(&with_causes(&e)))?;
    let mut advertised = Advertised::default();
    for reference in &ref_map.remote_refs {
        match reference {
            Ref::Symbolic {
                full_ref_name,
                target,
                object,
                ..
            } if full_ref_name == "HEAD" => {
                if let Some(branch) = target.strip_prefix(b"refs/heads/") {
                    let branch = String::from_utf8_lossy(branch).into_owned();
                    advertised.default_branch = Some(branch.clone());
                    advertised.branches.insert(branch, *object);
                }
            }
            Ref::Direct {
                full_ref_name,
                object,
            }
            | Ref::Symbolic {
                full_ref_name,
                object,
                ..
            } => {
                if let Some(branch) = full_ref_name.strip_prefix(b"refs/heads/") {
                    advertised
                        .branches
                        .insert(String::from_utf8_lossy(branch).into_owned(), *object);
                }
            }
            Ref::Peeled { .. } | Ref::Unborn { .. } => {}
        }
    }
    Ok(advertised)
}

/// Fetches `branches` from the remote into the clone's `refs/heads/`.
pub(crate) fn fetch_branches(
    repo: &gix::Repository,
    url: &RemoteUrl,
    branches: &[String],
    traffic: &Arc<Traffic>,
    timeout: Duration,
    interrupt: &AtomicBool,
) -> Result<(), RemoteFailure> {
    let specs: Vec<String> = branches
        .iter()
        .map(|b| format!("+refs/heads/{b}:refs/heads/{b}"))
        .collect();
    let fail = |e: &dyn std::fmt::Display| failure(url, traffic, e);
    let remote = anonymous_remote(repo, url, &specs).map_err(|e| fail(&e))?;
    let connection = connect(&remote, url, traffic, timeout).map_err(|e| fail(&e))?;
    connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| fail(&with_causes(&e)))?
        .with_reflog_message(gix::remote::fetch::RefLogMessage::Override {
            message: "driftdeck: fetch".into(),
        })
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| fail(&with_causes(&e)))?;
    Ok(())
}

/// Points the clone's `HEAD` at the remote's default branch, so that "the
/// repository's default branch" means the same thing locally.
pub(crate) fn set_default_branch(repo: &gix::Repository, branch: &str) -> Result<(), String> {
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
    let target = format!("refs/heads/{branch}");
    let current = repo.head_name().ok().flatten();
    if current
        .as_ref()
        .is_some_and(|name| name.as_bstr() == target.as_str())
    {
        return Ok(());
    }
    let target: gix::refs::FullName = target
        .try_into()
        .map_err(|e| format!("branch \"{branch}\" is not a valid name: {e}"))?;
    repo.edit_reference(RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: "driftdeck: remote HEAD".into(),
            },
            expected: PreviousValue::Any,
            new: gix::refs::Target::Symbolic(target),
        },
        name: "HEAD"
            .try_into()
            .map_err(|e| format!("HEAD is not a valid name: {e}"))?,
        deref: false,
    })
    .map_err(|e| format!("cannot point HEAD at \"{branch}\": {e}"))?;
    Ok(())
}

/// A remote that exists only for this operation: nothing (and notably no
/// credential in the URL) is written to the clone's config.
fn anonymous_remote<'repo>(
    repo: &'repo gix::Repository,
    url: &RemoteUrl,
    specs: &[String],
) -> gix::Result<gix::Remote<'repo>> {
    Ok(repo
        .remote_at(url.for_transport().clone())?
        .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)?
        .with_fetch_tags(gix::remote::fetch::Tags::None))
}

type Connection<'remote, 'repo> =
    gix::remote::Connection<'remote, 'static, 'repo, Box<dyn Transport + Send>>;

/// HTTP goes through `CountingHttp` (for `Retry-After` and request counts);
/// every other transport through gix's own, counted once per connection.
fn connect<'remote, 'repo>(
    remote: &'remote gix::Remote<'repo>,
    url: &RemoteUrl,
    traffic: &Arc<Traffic>,
    timeout: Duration,
) -> gix::Result<Connection<'remote, 'repo>> {
    match url.scheme() {
        gix::url::Scheme::Http | gix::url::Scheme::Https => {
            let (url, version) = remote.sanitized_url_and_version(Direction::Fetch)?;
            let http = CountingHttp::new(traffic.clone(), timeout);
            let transport: Box<dyn Transport + Send> =
                Box::new(http::Transport::new_http(http, url, version, false));
            Ok(remote.to_connection_with_transport(transport))
        }
        _ => {
            traffic.count_request();
            remote.connect(Direction::Fetch)
        }
    }
}

fn failure(url: &RemoteUrl, traffic: &Traffic, cause: &dyn std::fmt::Display) -> RemoteFailure {
    RemoteFailure {
        cause: url.scrub(&cause.to_string()),
        throttled: traffic.take_throttled(),
    }
}
