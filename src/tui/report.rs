//! What the engine reports about an app, in the words of DESIGN.md section 2.
//! The UI only stores and shows these; the engine computes them.

/// Sync status of an app: does the cluster match Git?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    /// Live state could not be read.
    Unknown,
}

/// Health of a resource, or of an app (its worst resource's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Progressing,
    Degraded,
    Suspended,
    Missing,
    Unknown,
}

/// Where one resource stands against Git.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceStatus {
    Synced,
    OutOfSync,
    /// In Git, not live.
    Missing,
    /// Labelled as the app's, live, gone from Git: prunable.
    Extra,
    /// Could not be read.
    Unknown,
}

/// The app-level summary: the line above its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatus {
    pub sync: SyncStatus,
    pub health: Health,
    /// The full commit id recorded on the live objects, if any are live.
    pub deployed: Option<String>,
}

/// One object of the app, desired or live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRow {
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
    pub status: ResourceStatus,
    /// `None` for kinds that have no health (a ConfigMap).
    pub health: Option<Health>,
}

impl ResourceRow {
    /// Identity across refreshes, so a selection survives a newer list.
    pub fn same_object(&self, other: &ResourceRow) -> bool {
        self.kind == other.kind && self.namespace == other.namespace && self.name == other.name
    }
}

/// One line of the drift diff. The text has no `+`/`-` marker: the view adds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: DiffLineKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffLineKind {
    /// Names the object or field the lines below are about.
    Header,
    Context,
    /// In Git, not live.
    Added,
    /// Live, not in Git.
    Removed,
}

/// One commit of the app's branch, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRow {
    /// The full commit id.
    pub id: String,
    /// The first line of the message.
    pub summary: String,
}

/// Requests sent to Git remotes and API servers since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCounts {
    pub git: u64,
    pub cluster: u64,
}
