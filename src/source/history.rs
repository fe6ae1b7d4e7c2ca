//! The commit log of a branch, walked newest first in batches that are
//! published as they are ready, so the first screen shows before a long
//! walk ends (gitui's revlog does the same).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::ops::ControlFlow;
use std::path::Path;

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::prelude::FindExt;
use serde::Serialize;

use super::SourceError;
use super::revision::commit_at;
use super::signature::{SignatureStatus, verify_for_log};
use crate::resource::short_revision;

/// Entries in the first batch: a screenful, so it shows at once.
pub const FIRST_BATCH: usize = 100;
/// Entries in every later batch.
pub const BATCH: usize = 2000;

/// Which commits to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Where the walk starts: a branch, a commit id, anything `git rev-parse` takes.
    pub rev: String,
    /// Only commits that change this folder or file (`"."` means all).
    pub path: Option<String>,
    /// At most this many entries.
    pub limit: Option<usize>,
    /// Check signatures (gpg or ssh-keygen per signed commit, once per
    /// commit in a run); without, signed commits say `Unsigned`: for walks
    /// that only want the commits' ids.
    pub signatures: bool,
}

/// One commit in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    #[serde(serialize_with = "hex")]
    pub id: ObjectId,
    pub short_id: String,
    pub author: String,
    pub email: String,
    /// The author's time.
    #[serde(serialize_with = "rfc3339")]
    pub time: jiff::Timestamp,
    /// The first paragraph of the message, on one line.
    pub subject: String,
    pub signature: SignatureStatus,
}

/// Walks `query.rev`'s history newest first (by commit time, as `git log`
/// does), calling `publish` with each batch. `publish` returns
/// `ControlFlow::Break` to stop early. Returns the number of entries listed.
pub fn walk_history(
    repo_dir: &Path,
    query: &HistoryQuery,
    mut publish: impl FnMut(Vec<LogEntry>) -> ControlFlow<()>,
) -> Result<usize, SourceError> {
    let git = |what: String, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what,
        cause: cause.to_string(),
    };
    let mut repo = gix::open(repo_dir).map_err(|e| git("cannot open the repository".into(), &e))?;
    let rev = &query.rev;
    let tip = commit_at(&repo, repo_dir, rev)?.id;
    let path: Vec<&[u8]> = match query.path.as_deref() {
        None | Some(".") | Some("") => Vec::new(),
        Some(path) => path
            .split('/')
            .filter(|part| !part.is_empty())
            .map(str::as_bytes)
            .collect(),
    };
    if !path.is_empty() {
        // Consecutive commits share most of the trees under the path.
        repo.object_cache_size_if_unset(4 * 1024 * 1024);
    }
    let walk_failed =
        |e: &dyn std::fmt::Display| git(format!("cannot walk the history of \"{rev}\""), e);
    let mut walk = DateWalk::new(&repo, tip, !path.is_empty()).map_err(|e| walk_failed(&e))?;

    let limit = query.limit.unwrap_or(usize::MAX);
    let mut listed = 0usize;
    let mut batch = Vec::with_capacity(FIRST_BATCH);
    let mut batch_size = FIRST_BATCH;
    let mut filter = (!path.is_empty()).then(|| PathFilter::new(&path));
    while listed < limit {
        let Some(next) = walk.next().map_err(|e| walk_failed(&e))? else {
            break;
        };
        let read = |e: &dyn std::fmt::Display| git(format!("cannot read commit {}", next.id), e);
        let mut fields = CommitFields::parse(gix::objs::CommitRefIter::from_bytes(
            &next.data,
            next.id.kind(),
        ))
        .map_err(|e| read(&e))?;
        if next.grafted {
            fields.parents.clear();
        }
        let listed_here = match &mut filter {
            Some(filter) => filter
                .touches(&repo, &walk, next.id, &fields)
                .map_err(|e| read(&e))?,
            None => true,
        };
        if listed_here {
            let signature = if fields.signed && query.signatures {
                match repo.find_commit(next.id) {
                    Ok(commit) => verify_for_log(&commit),
                    Err(e) => SignatureStatus::CannotCheck {
                        reason: e.to_string(),
                    },
                }
            } else {
                SignatureStatus::Unsigned
            };
            batch.push(fields.into_entry(next.id, signature));
            listed += 1;
        }
        walk.recycle(next.data);
        if batch.len() >= batch_size {
            batch_size = BATCH;
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            if publish(full).is_break() {
                return Ok(listed);
            }
        }
    }
    if !batch.is_empty() {
        let _ = publish(batch);
    }
    Ok(listed)
}

/// The commits reachable from a tip, newest first by committer time and,
/// at equal times, in the order they were met: `git log`'s order. Each
/// commit is read from the object database once, when it is met as a
/// parent, and kept until its turn (gix's walk reads it again then, and the
/// log a third time for its fields).
struct DateWalk<'r> {
    repo: &'r gix::Repository,
    queue: BinaryHeap<Queued>,
    seen: gix::hashtable::HashSet<ObjectId>,
    /// The tree of every queued commit, for the path filter's parents;
    /// `None` when no path filter asks.
    trees: Option<gix::hashtable::HashMap<ObjectId, ObjectId>>,
    /// Commits of a shallow clone whose parents are not there.
    shallow: Option<gix::shallow::Commits>,
    met: u64,
    spare: Vec<Vec<u8>>,
}

/// A commit read and waiting for its turn.
struct Queued {
    time: i64,
    met: Reverse<u64>,
    id: ObjectId,
    data: Vec<u8>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.met).cmp(&(other.time, other.met))
    }
}

/// A commit's turn: its id and its undecoded text.
struct Walked {
    id: ObjectId,
    data: Vec<u8>,
    /// A shallow clone's last commit: its parents are not there.
    grafted: bool,
}

impl<'r> DateWalk<'r> {
    fn new(
        repo: &'r gix::Repository,
        tip: ObjectId,
        keep_trees: bool,
    ) -> Result<DateWalk<'r>, gix::Error> {
        let mut walk = DateWalk {
            repo,
            queue: BinaryHeap::new(),
            seen: Default::default(),
            trees: keep_trees.then(Default::default),
            shallow: repo.shallow_commits().map_err(gix::Error::from_error)?,
            met: 0,
            spare: Vec::new(),
        };
        walk.meet(tip)?;
        Ok(walk)
    }

    fn next(&mut self) -> Result<Option<Walked>, gix::Error> {
        let Some(Queued { id, data, .. }) = self.queue.pop() else {
            return Ok(None);
        };
        if let Some(trees) = &mut self.trees {
            trees.remove(&id);
        }
        let grafted = self
            .shallow
            .as_ref()
            .is_some_and(|shallow| shallow.binary_search(&id).is_ok());
        if !grafted {
            for parent in gix::objs::CommitRefIter::from_bytes(&data, id.kind()).parent_ids() {
                if !self.seen.contains(&parent) {
                    self.meet(parent)?;
                }
            }
        }
        Ok(Some(Walked { id, data, grafted }))
    }

    /// Reads a commit met for the first time and queues it.
    fn meet(&mut self, id: ObjectId) -> Result<(), gix::Error> {
        self.seen.insert(id);
        let mut data = self.spare.pop().unwrap_or_default();
        let mut commit = self.repo.objects.find_commit_iter(&id, &mut data)?;
        let tree = commit.tree_id().map_err(gix::Error::from_error)?;
        let time = commit
            .committer()
            .map_err(gix::Error::from_error)?
            .time()
            .map(|t| t.seconds)
            .unwrap_or(0);
        if let Some(trees) = &mut self.trees {
            trees.insert(id, tree);
        }
        self.met += 1;
        self.queue.push(Queued {
            time,
            met: Reverse(self.met),
            id,
            data,
        });
        Ok(())
    }

    /// The tree of a commit met and not yet walked.
    fn queued_tree(&self, id: &ObjectId) -> Option<ObjectId> {
        self.trees.as_ref()?.get(id).copied()
    }

    /// Gives back a walked commit's buffer for the next read.
    fn recycle(&mut self, data: Vec<u8>) {
        self.spare.push(data);
    }
}

/// The fields of a commit the log shows, decoded in one pass; the text is
/// borrowed, and only made into strings for commits that are listed.
struct CommitFields<'a> {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author: Option<gix::actor::SignatureRef<'a>>,
    message: &'a BStr,
    signed: bool,
}

impl<'a> CommitFields<'a> {
    fn parse(commit: gix::objs::CommitRefIter<'a>) -> Result<CommitFields<'a>, gix::Error> {
        use gix::objs::commit::ref_iter::Token;
        let mut fields = CommitFields {
            tree: ObjectId::null(gix::hash::Kind::Sha1),
            parents: Vec::new(),
            author: None,
            message: "".into(),
            signed: false,
        };
        for token in commit {
            match token? {
                Token::Tree { id } => fields.tree = id,
                Token::Parent { id } => fields.parents.push(id),
                Token::Author { signature } => fields.author = Some(signature),
                Token::ExtraHeader((name, _)) if is_signature_header(name) => fields.signed = true,
                Token::Message(message) => fields.message = message,
                Token::Committer { .. } | Token::Encoding(_) | Token::ExtraHeader(_) => {}
            }
        }
        Ok(fields)
    }

    fn into_entry(self, id: ObjectId, signature: SignatureStatus) -> LogEntry {
        let hex = id.to_hex().to_string();
        let (author, email, seconds) = match self.author {
            Some(author) => (
                author.name.to_str_lossy().into_owned(),
                author.email.to_str_lossy().into_owned(),
                author.time().map(|t| t.seconds).unwrap_or(0),
            ),
            None => (String::new(), String::new(), 0),
        };
        LogEntry {
            // Git's minimum abbreviation, not checked for ambiguous
            // prefixes, which would cost an object lookup per commit.
            short_id: short_revision(&hex).to_string(),
            id,
            author,
            email,
            time: jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            subject: gix::objs::commit::MessageRef::from_bytes(self.message)
                .summary()
                .to_str_lossy()
                .into_owned(),
            signature,
        }
    }
}

fn is_signature_header(name: &BStr) -> bool {
    name == "gpgsig" || name == "gpgsig-sha256"
}

/// Decides whether commits touch a path: true when the entry at the path
/// differs from every parent's (git's rule for listing a commit under a
/// path), or, for a root commit, exists.
struct PathFilter<'a> {
    path: &'a [&'a [u8]],
    /// The entry at `path` of commits met as parents and not yet walked:
    /// each commit's entry is looked up once, not again as a parent.
    pending: HashMap<ObjectId, Option<ObjectId>>,
    buf: Vec<u8>,
}

impl<'a> PathFilter<'a> {
    fn new(path: &'a [&'a [u8]]) -> PathFilter<'a> {
        PathFilter {
            path,
            pending: HashMap::new(),
            buf: Vec::new(),
        }
    }

    fn touches(
        &mut self,
        repo: &gix::Repository,
        walk: &DateWalk,
        id: ObjectId,
        commit: &CommitFields,
    ) -> Result<bool, gix::Error> {
        let own = match self.pending.remove(&id) {
            Some(entry) => entry,
            None => entry_at(repo, commit.tree, self.path, &mut self.buf)?,
        };
        if commit.parents.is_empty() {
            return Ok(own.is_some());
        }
        let mut differs_from_all = true;
        for parent in &commit.parents {
            let entry = match self.pending.get(parent) {
                Some(entry) => *entry,
                None => {
                    let tree = match walk.queued_tree(parent) {
                        Some(tree) => tree,
                        None => repo
                            .objects
                            .find_commit_iter(parent, &mut self.buf)?
                            .tree_id()
                            .map_err(gix::Error::from_error)?,
                    };
                    let entry = entry_at(repo, tree, self.path, &mut self.buf)?;
                    self.pending.insert(*parent, entry);
                    entry
                }
            };
            differs_from_all &= entry != own;
        }
        Ok(differs_from_all)
    }
}

/// The id of the tree entry at `path` under `tree`, if there is one.
fn entry_at(
    repo: &gix::Repository,
    tree: ObjectId,
    path: &[&[u8]],
    buf: &mut Vec<u8>,
) -> Result<Option<ObjectId>, gix::Error> {
    let mut current = tree;
    for (depth, component) in path.iter().enumerate() {
        let mut found = None;
        for entry in repo.objects.find_tree_iter(&current, buf)? {
            let entry = entry.map_err(gix::Error::from_error)?;
            if entry.filename == *component {
                found = Some((entry.oid.to_owned(), entry.mode.is_tree()));
                break;
            }
        }
        match found {
            Some((id, _)) if depth + 1 == path.len() => return Ok(Some(id)),
            Some((id, true)) => current = id,
            _ => return Ok(None),
        }
    }
    Ok(Some(current))
}

fn hex<S: serde::Serializer>(id: &ObjectId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&id.to_hex())
}

fn rfc3339<S: serde::Serializer>(time: &jiff::Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(time)
}
