//! One app of a context, as its task keeps it: the desired state, what it
//! wants watched, the last report sent, its sync and auto-sync state.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::cluster::{PodQuery, Wanted};
use crate::config::AppConfig;
use crate::engine::auto::{AutoState, AutoStatus};
use crate::engine::{EngineEvent, Generation};
use crate::manifests::Checked;
use crate::report::AppReport;
use crate::resource::ResourceKey;
use crate::source::SignatureStatus;
use crate::sync::Inventory;

/// One app of the context.
pub(super) struct Slot {
    pub(super) config: AppConfig,
    pub(super) desired: Option<(String, Arc<Checked>)>,
    pub(super) failure: Option<String>,
    pub(super) generation: Generation,
    pub(super) wanted: Vec<Wanted>,
    /// The keys of `wanted`, to tell quickly whether a change concerns the app.
    pub(super) wanted_keys: HashSet<ResourceKey>,
    pub(super) pod_queries: Vec<PodQuery>,
    pub(super) pods_found: BTreeMap<PodQuery, bool>,
    /// Pod probes asked and not yet answered.
    pub(super) probing: bool,
    /// The live objects the last comparison saw: a change to one of them
    /// concerns this app even once it is gone or relabelled.
    pub(super) seen: HashSet<ResourceKey>,
    pub(super) last: Option<Arc<AppReport>>,
    /// Whether the last report sent was settled.
    pub(super) last_settled: bool,
    /// Stops the running sync, if one runs.
    pub(super) sync_cancel: Option<watch::Sender<bool>>,
    /// The revision the app is pinned to (a rollback): compared instead of
    /// the branch's head; auto-sync leaves a pinned app alone.
    pub(super) pinned: Option<String>,
    /// The desired revision's signature, when the app requires one.
    pub(super) signature: Option<SignatureStatus>,
    pub(super) auto: AutoState,
    /// The automatic syncing status last sent.
    pub(super) auto_shown: AutoStatus,
    /// What the app's last sync recorded it deployed.
    pub(super) inventory: Inventory,
}

impl Slot {
    pub(super) fn new(config: AppConfig) -> Slot {
        Slot {
            config,
            desired: None,
            failure: None,
            generation: 0,
            wanted: Vec::new(),
            wanted_keys: HashSet::new(),
            pod_queries: Vec::new(),
            pods_found: BTreeMap::new(),
            probing: false,
            seen: HashSet::new(),
            last: None,
            last_settled: false,
            sync_cancel: None,
            pinned: None,
            signature: None,
            auto: AutoState::default(),
            auto_shown: AutoStatus::Idle,
            inventory: Inventory::default(),
        }
    }

    pub(super) fn send_if_changed(
        &mut self,
        mut report: AppReport,
        settled: bool,
        events: &mpsc::UnboundedSender<EngineEvent>,
    ) {
        report.pinned = self.pinned.clone();
        if self.last.as_deref() == Some(&report) && self.last_settled == settled {
            return;
        }
        let report = Arc::new(report);
        self.last = Some(report.clone());
        self.last_settled = settled;
        let _ = events.send(EngineEvent::Report {
            app: self.config.name.clone(),
            generation: self.generation,
            report,
            settled,
        });
    }
}
