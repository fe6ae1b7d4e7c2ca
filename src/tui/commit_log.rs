//! The Commits pane as a GitOps log, pure: which commits it lists (by
//! default those that change the app's path, with the deployed and the
//! compared ones always), and how each is marked: deployed, head, pinned,
//! pending (newer than the deployed one, up to the head), and for an Argo
//! CD or Flux app deployed before (its engine's history). An engine app
//! whose repository driftdeck does not read lists its engine's history
//! instead (`engine_history`).

use gix::ObjectId;

use crate::engines::Deployment;
use crate::source::LogEntry;
use crate::tui::app_state::AppState;

/// How one commit is marked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitMarks {
    /// The live objects come from it.
    pub deployed: bool,
    /// The revision the verdict compares with (the branch head).
    pub head: bool,
    /// The app is pinned to it.
    pub pinned: bool,
    /// Between the deployed commit and the head: a sync would deploy it.
    pub pending: bool,
    /// An engine app's engine deployed it before (its history).
    pub deployed_before: bool,
}

/// The revisions the marks are made from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Revisions<'a> {
    pub deployed: Option<ObjectId>,
    /// The branch's head.
    pub head: Option<ObjectId>,
    /// The app's pin (`None`: not pinned).
    pub pinned: Option<ObjectId>,
    /// An engine app: what its engine deployed, newest first.
    pub history: &'a [Deployment],
}

impl<'a> Revisions<'a> {
    /// The deployed and compared revisions of the app's last verdict, and
    /// its pin. A pinned app is compared with its pin, not its branch's
    /// head: the head is then the newest commit of the branch's history,
    /// so that the commits above the pin show as pending.
    pub fn of(app: &'a AppState) -> Revisions<'a> {
        let report = app.report.as_deref();
        let pinned = object_id(report.and_then(|r| r.pinned.as_deref()));
        let head = match pinned {
            Some(_) => app.commits.as_deref().and_then(|c| c.first()).map(|c| c.id),
            None => object_id(report.and_then(|r| r.desired_revision.as_deref())),
        };
        Revisions {
            deployed: object_id(report.and_then(|r| r.summary.revision.as_deref())),
            head,
            pinned,
            history: engine_history_of(app).unwrap_or_default(),
        }
    }
}

/// The positions in `commits` (newest first) the pane lists. With `all`,
/// or while the app's path history is not known, every commit; else those
/// that change the app's path, and the deployed, head and pinned ones
/// whatever they change, so the marks are always there to see.
pub fn listed(app: &AppState, all: bool) -> Vec<usize> {
    let Some(commits) = app.commits.as_deref() else {
        return Vec::new();
    };
    let touching = match (&app.touching, all) {
        (Some(touching), false) => touching,
        _ => return (0..commits.len()).collect(),
    };
    let revisions = Revisions::of(app);
    let history = revisions
        .history
        .iter()
        .map(|d| object_id(Some(d.revision.as_str())));
    let marked: Vec<ObjectId> = [revisions.deployed, revisions.head, revisions.pinned]
        .into_iter()
        .chain(history)
        .flatten()
        .collect();
    commits
        .iter()
        .enumerate()
        .filter(|(_, commit)| touching.contains(&commit.id) || marked.contains(&commit.id))
        .map(|(index, _)| index)
        .collect()
}

/// A full commit id as Git's type (also Flux's `main@sha1:ID`); `None`
/// for anything else (a chart version).
fn object_id(revision: Option<&str>) -> Option<ObjectId> {
    let revision = revision?;
    let hex = revision.rsplit_once("sha1:").map_or(revision, |(_, id)| id);
    ObjectId::from_hex(hex.as_bytes()).ok()
}

/// The engine's history of an Argo CD or Flux app (empty when it keeps
/// none), `None` for a native app.
fn engine_history_of(app: &AppState) -> Option<&[Deployment]> {
    let controller = app.report.as_deref()?.controller.as_deref()?;
    Some(controller.history.as_slice())
}

/// What the Commits pane lists for an engine app whose branch driftdeck
/// does not walk (its repository is not known here): its engine's
/// history, newest first. `None` when it lists commits.
pub fn engine_history(app: &AppState) -> Option<&[Deployment]> {
    if app.commits.is_some() {
        return None;
    }
    engine_history_of(app)
}

/// The marks of every commit, in `commits` order. Pending needs the
/// deployed commit in the list: without it (never deployed, or deployed
/// from a commit the branch no longer has) nothing is called pending.
pub fn marks(commits: &[LogEntry], revisions: Revisions<'_>) -> Vec<CommitMarks> {
    let (deployed_id, head_id, pinned_id) = (revisions.deployed, revisions.head, revisions.pinned);
    let earlier: Vec<ObjectId> = revisions
        .history
        .iter()
        .filter_map(|d| object_id(Some(&d.revision)))
        .collect();
    let position = |id: Option<ObjectId>| {
        let id = id?;
        commits.iter().position(|c| c.id == id)
    };
    let deployed = position(deployed_id);
    // The head compared with may lag the history by a poll: then the newest.
    let head = position(head_id).unwrap_or(0);
    commits
        .iter()
        .enumerate()
        .map(|(index, commit)| CommitMarks {
            deployed: Some(index) == deployed,
            head: head_id == Some(commit.id),
            pinned: pinned_id == Some(commit.id),
            pending: deployed.is_some_and(|deployed| index >= head && index < deployed),
            deployed_before: Some(index) != deployed && earlier.contains(&commit.id),
        })
        .collect()
}

/// How many of the listed commits are pending: the `N behind` of the title.
pub fn behind(marks: &[CommitMarks], listed: &[usize]) -> usize {
    listed
        .iter()
        .filter(|&&index| marks.get(index).is_some_and(|m| m.pending))
        .count()
}

/// The commit the cursor is on: its position in `commits`.
pub fn selected(app: &AppState, all: bool, cursor: usize) -> Option<usize> {
    listed(app, all).get(cursor).copied()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;
    use crate::report::AppReport;
    use crate::source::SignatureStatus;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn commit(n: u8) -> LogEntry {
        LogEntry {
            id: id(n),
            short_id: id(n).to_string()[..7].to_string(),
            author: "Ada".into(),
            email: "ada@example.com".into(),
            time: jiff::Timestamp::UNIX_EPOCH,
            subject: format!("commit {n}"),
            signature: SignatureStatus::Unsigned,
        }
    }

    /// Commits 6 (newest) to 1; deployed at `deployed`, compared at `head`;
    /// the app's path changed by `touching`.
    fn app(deployed: u8, head: u8, touching: &[u8]) -> AppState {
        let mut app = AppState::new("shop");
        app.commits = Some(Arc::new((1..=6).rev().map(commit).collect()));
        let mut report = AppReport::unknown("shop", Some(id(head).to_string()), "x");
        report.summary.revision = Some(id(deployed).to_string());
        app.report = Some(Arc::new(report));
        let touching: HashSet<ObjectId> = touching.iter().map(|n| id(*n)).collect();
        app.touching = Some(Arc::new(touching));
        app
    }

    fn numbers(app: &AppState, positions: &[usize]) -> Vec<u8> {
        let commits = app.commits.as_deref().unwrap();
        positions
            .iter()
            .map(|&i| commits[i].id.as_bytes()[0])
            .collect()
    }

    #[test]
    fn the_path_filter_keeps_commits_of_the_path_and_the_marked_ones() {
        let app = app(2, 6, &[5, 3]);
        assert_eq!(numbers(&app, &listed(&app, false)), vec![6, 5, 3, 2]);
        assert_eq!(numbers(&app, &listed(&app, true)), vec![6, 5, 4, 3, 2, 1]);
        let mut unknown = app.clone();
        unknown.touching = None;
        assert_eq!(
            listed(&unknown, false).len(),
            6,
            "unknown path history: all"
        );
    }

    #[test]
    fn pending_commits_are_those_after_the_deployed_one_up_to_the_head() {
        let app = app(3, 5, &[]);
        let commits = app.commits.as_deref().unwrap();
        let marks = marks(commits, Revisions::of(&app));
        let pending: Vec<u8> = commits
            .iter()
            .zip(&marks)
            .filter(|(_, m)| m.pending)
            .map(|(c, _)| c.id.as_bytes()[0])
            .collect();
        assert_eq!(pending, vec![5, 4], "6 is past the compared head");
        assert!(marks[3].deployed && !marks[3].pending);
        assert!(marks[1].head);
        assert_eq!(behind(&marks, &listed(&app, true)), 2);
        let filtered = self::app(3, 5, &[4]);
        assert_eq!(
            behind(&marks, &listed(&filtered, false)),
            2,
            "4 changes the path, 5 is the head"
        );
    }

    #[test]
    fn an_engine_apps_earlier_deployments_are_marked_in_its_branch() {
        let app = app(3, 5, &[6]);
        let history: Vec<Deployment> = [3, 1]
            .iter()
            .map(|n| Deployment {
                // Flux writes `BRANCH@sha1:ID`.
                revision: format!("main@sha1:{}", id(*n)),
                deployed_at: None,
                note: None,
                id: None,
                rollback_to: None,
            })
            .collect();
        let revisions = Revisions {
            history: &history,
            ..Revisions::of(&app)
        };
        let marks = marks(app.commits.as_deref().unwrap(), revisions);
        let before: Vec<bool> = marks.iter().map(|m| m.deployed_before).collect();
        // Commits 6 to 1: 3 is the running one (deployed), 1 ran before.
        assert_eq!(before, [false, false, false, false, false, true]);
        assert!(marks[3].deployed);
    }

    #[test]
    fn nothing_is_pending_without_the_deployed_commit_in_the_history() {
        let app = app(9, 6, &[]);
        let marks = marks(app.commits.as_deref().unwrap(), Revisions::of(&app));
        assert!(marks.iter().all(|m| !m.pending && !m.deployed));
        let pinned = Revisions {
            pinned: Some(id(2)),
            ..Revisions::of(&app)
        };
        let marks = super::marks(app.commits.as_deref().unwrap(), pinned);
        assert!(marks[4].pinned);
    }

    #[test]
    fn above_a_pin_the_branch_head_and_the_commits_up_to_it_are_pending() {
        // Pinned to (and deployed at) 3, which the verdict compares with;
        // the branch has moved on to 6.
        let mut app = app(3, 3, &[]);
        let mut report = (**app.report.as_ref().unwrap()).clone();
        report.pinned = Some(id(3).to_string());
        app.report = Some(Arc::new(report));
        let marks = marks(app.commits.as_deref().unwrap(), Revisions::of(&app));
        assert!(marks[0].head, "the branch's head, not the pin");
        assert!(!marks[3].head && marks[3].pinned && marks[3].deployed);
        let pending: Vec<bool> = marks.iter().map(|m| m.pending).collect();
        assert_eq!(pending, [true, true, true, false, false, false]);
        assert_eq!(behind(&marks, &listed(&app, true)), 3);
    }
}
