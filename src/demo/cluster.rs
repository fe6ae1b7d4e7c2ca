//! The demo's cluster: the simulated API server, in this process, with the
//! apps deployed the way driftdeck's sync deploys them (the sync's own plan
//! and run: labels, revision annotation, field manager `driftdeck`, audit
//! log), and changes made by hand as `kubectl edit` makes them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use tokio::sync::{mpsc, watch};

use super::DemoError;
use super::scenario::{HAND_MANAGER, HandEdit};
use crate::cluster::{ClusterClient, KindCatalog, describe_kube_error};
use crate::config::{AppConfig, DriftConfig};
use crate::drift::ManualManagers;
use crate::manifests::Checked;
use crate::simcluster::{SimCluster, SimOptions};
use crate::sync::{AuditLog, Operator, PlanRequest, SyncOptions, SyncRequest, SyncStatus};

/// How long a simulated rollout takes: quick, so a sync's health shows soon.
const ROLLOUT_TIME: Duration = Duration::from_secs(2);

/// The simulated cluster and a client of it.
pub struct DemoCluster {
    pub sim: SimCluster,
    client: ClusterClient,
    catalog: KindCatalog,
}

impl DemoCluster {
    /// Starts the cluster on `port` (0: any free one) and writes its
    /// kubeconfig to `kubeconfig`.
    pub async fn start(port: u16, kubeconfig: &Path) -> Result<DemoCluster, DemoError> {
        let sim = SimCluster::start(SimOptions {
            port,
            rollout_time: ROLLOUT_TIME,
            // Each change keeps its object for watches to resume from: a
            // demo left running for hours would keep 10,000 of them.
            watch_history: 1_000,
            ..SimOptions::default()
        })
        .await?;
        sim.write_kubeconfig(kubeconfig)?;
        let client = ClusterClient::connect(Some(kubeconfig), None)
            .await
            .map_err(|e| DemoError::Cluster(e.to_string()))?;
        let catalog = KindCatalog::discover(&client)
            .await
            .map_err(|e| DemoError::Cluster(e.to_string()))?;
        Ok(DemoCluster {
            sim,
            client,
            catalog,
        })
    }

    /// Deploys `app` as rendered at `revision`, as a sync from an empty
    /// cluster would, recorded in the audit log like any sync.
    pub async fn deploy(
        &mut self,
        app: &AppConfig,
        revision: &str,
        checked: &Checked,
        operator: &Operator,
        audit: &AuditLog,
    ) -> Result<(), DemoError> {
        let plan = crate::sync::plan(&PlanRequest {
            app,
            revision,
            checked,
            results: &[],
            live: &BTreeMap::new(),
            prune: false,
            manual: &ManualManagers::default(),
            pin: None,
            restamp: false,
            signature: None,
        })
        .map_err(|e| DemoError::Deploy(e.to_string()))?;
        let options = SyncOptions::for_app(app, &DriftConfig::default(), false, false);
        let (progress, _ignored) = mpsc::unbounded_channel();
        let (_keep, cancel) = watch::channel(false);
        let outcome = crate::sync::run(
            SyncRequest {
                client: &self.client,
                plan: &plan,
                options: &options,
                operator,
                audit: Some(audit),
            },
            &mut self.catalog,
            &progress,
            cancel,
        )
        .await
        .map_err(|e| DemoError::Deploy(e.to_string()))?;
        if outcome.status != SyncStatus::Succeeded {
            return Err(DemoError::Deploy(format!(
                "app \"{}\": {}",
                app.name,
                outcome.error.unwrap_or_else(|| "the sync failed".into())
            )));
        }
        Ok(())
    }

    /// What changes objects by hand, for the background team.
    pub fn hands(&self) -> Hands {
        Hands {
            client: self.client.clone(),
            catalog: self.catalog.clone(),
        }
    }
}

/// A client that changes objects by hand.
#[derive(Clone)]
pub struct Hands {
    client: ClusterClient,
    catalog: KindCatalog,
}

impl Hands {
    /// Changes an object by hand, as `kubectl edit` would: a merge patch
    /// under its field manager.
    pub async fn edit(&self, edit: &HandEdit) -> Result<(), DemoError> {
        let object = format!("{} {}/{}", edit.kind, edit.namespace, edit.name);
        let kind = self
            .catalog
            .find(edit.api_version, edit.kind)
            .ok_or_else(|| DemoError::Cluster(format!("{object}: kind not served")))?;
        let api = kind.api_for(&self.client, Some(edit.namespace));
        let params = PatchParams {
            field_manager: Some(HAND_MANAGER.to_string()),
            ..PatchParams::default()
        };
        api.patch(edit.name, &params, &Patch::Merge(&edit.patch))
            .await
            .map_err(|e| DemoError::Cluster(format!("{object}: {}", describe_kube_error(&e))))?;
        Ok(())
    }
}
