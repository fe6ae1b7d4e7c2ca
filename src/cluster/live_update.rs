//! What a watch covers (`WatchId`) and what it reports (`LiveUpdate`): the
//! messages from the watch tasks (`watch.rs`) to the store (`store.rs`).

use super::live_object::LiveObject;
use crate::resource::ResourceKey;

/// What a watch covers: every object of a kind that carries the app label
/// (any app), or every object of a kind in one namespace (cluster-wide for
/// cluster-scoped kinds), for the objects Git names that carry no label yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchId {
    Kind {
        group: String,
        kind: String,
    },
    Unlabelled {
        group: String,
        kind: String,
        namespace: Option<String>,
    },
    /// Every object of a kind across the cluster, labelled or not: the
    /// objects of in-cluster engines, each an app (`crate::engines`).
    Every {
        group: String,
        kind: String,
    },
}

impl WatchId {
    /// The watch of unlabelled objects that would show this object.
    pub fn unlabelled_for(key: &ResourceKey, namespaced: bool) -> WatchId {
        WatchId::Unlabelled {
            group: key.group.clone(),
            kind: key.kind.clone(),
            namespace: key.namespace.clone().filter(|_| namespaced),
        }
    }

    /// True when this watch would show the object with `key`.
    pub(super) fn covers(&self, key: &ResourceKey) -> bool {
        match self {
            WatchId::Kind { group, kind } | WatchId::Every { group, kind } => {
                *group == key.group && *kind == key.kind
            }
            WatchId::Unlabelled {
                group,
                kind,
                namespace,
            } => {
                *group == key.group
                    && *kind == key.kind
                    && (namespace.is_none() || *namespace == key.namespace)
            }
        }
    }
}

/// What a watch task reports.
#[derive(Debug, Clone)]
pub enum LiveUpdate {
    /// The full set of objects the watch covers, after a (re-)list.
    Listed {
        watch: WatchId,
        objects: Vec<LiveObject>,
    },
    Applied {
        watch: WatchId,
        object: LiveObject,
    },
    Deleted {
        watch: WatchId,
        key: ResourceKey,
    },
    /// The watch failed; what it reported before stays, marked stale.
    Failed {
        watch: WatchId,
        cause: String,
        at: jiff::Timestamp,
    },
    /// The watch is connected again after a failure, with nothing missed.
    Recovered {
        watch: WatchId,
    },
}
