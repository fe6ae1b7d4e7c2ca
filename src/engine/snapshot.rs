//! One look at a set of apps, for the headless commands: each Git source
//! brought up to date once, each app's desired state rendered at its
//! branch's head, each cluster read once for all its apps, then compared.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use futures::future::join_all;

use super::assess::{AppReport, assess, live_queries};
use super::desired::{render_app, tracked_branches};
use crate::cluster::{
    ClusterClient, KindCatalog, LiveRead, PodQuery, Wanted, dry_run_apply, read_live,
};
use crate::config::{AppConfig, Paths};
use crate::drift::{ResourceResult, ResourceStatus};
use crate::manifests::Checked;
use crate::source::{NetworkLimits, SourceError, SourceLocation, update_source};

/// How to look.
#[derive(Debug, Clone, Default)]
pub struct LookOptions {
    /// The kubeconfig file, instead of the one kubectl would use.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context for every app, instead of each app's own.
    pub context: Option<String>,
    /// Compare live objects with what a server-side dry-run apply of the
    /// desired ones gives, instead of with the desired ones as written.
    pub exact: bool,
}

/// The desired state of one app, or why there is none.
type Desired = Result<(String, Checked), String>;

/// Reports on `apps`, in the same order.
pub async fn look_at(apps: &[AppConfig], paths: &Paths, options: &LookOptions) -> Vec<AppReport> {
    let desired = desired_states(apps, paths).await;
    let mut reports: Vec<Option<AppReport>> = vec![None; apps.len()];

    // One read per context, for all of its apps whose desired state is known.
    let mut by_context: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
    for (index, app) in apps.iter().enumerate() {
        match &desired[index] {
            Ok(_) => {
                let context = options.context.clone().or_else(|| app.context.clone());
                by_context.entry(context).or_default().push(index);
            }
            Err(cause) => reports[index] = Some(AppReport::unknown(&app.name, None, cause.clone())),
        }
    }
    let reads = join_all(by_context.iter().map(|(context, indexes)| {
        let checked: Vec<&Checked> = indexes
            .iter()
            .filter_map(|&i| desired[i].as_ref().ok().map(|(_, c)| c))
            .collect();
        let names: Vec<&str> = indexes.iter().map(|&i| apps[i].name.as_str()).collect();
        read_context(
            options.kubeconfig.as_deref(),
            context.as_deref(),
            names,
            checked,
            options.exact,
        )
    }))
    .await;
    for ((_, indexes), read) in by_context.iter().zip(reads) {
        for &index in indexes {
            let app = &apps[index];
            let Ok((revision, checked)) = &desired[index] else {
                continue;
            };
            reports[index] = Some(match &read {
                Ok(context_read) => {
                    let mut report = assess(app, revision, checked, &context_read.live);
                    if let Some(dry_runs) = &context_read.dry_runs {
                        apply_exact(&mut report, app, checked, &context_read.live, dry_runs);
                    }
                    report
                }
                Err(cause) => AppReport::unknown(&app.name, Some(revision.clone()), cause.clone()),
            });
        }
    }
    reports
        .into_iter()
        .zip(apps)
        .map(|(report, app)| {
            report.unwrap_or_else(|| AppReport::unknown(&app.name, None, "not assessed"))
        })
        .collect()
}

/// Each app's desired state at the head of its branch. Each source is
/// brought up to date once, for all the branches its apps track.
async fn desired_states(apps: &[AppConfig], paths: &Paths) -> Vec<Desired> {
    let mut results: Vec<Desired> = vec![Err(String::new()); apps.len()];
    let mut by_source: HashMap<SourceLocation, Vec<usize>> = HashMap::new();
    for (index, app) in apps.iter().enumerate() {
        match SourceLocation::parse(&app.repo) {
            Ok(location) => by_source.entry(location).or_default().push(index),
            Err(err) => results[index] = Err(err.to_string()),
        }
    }
    let updates = join_all(by_source.iter().map(|(location, indexes)| {
        let tracked = tracked_branches(indexes.iter().map(|&i| &apps[i]));
        async move {
            update_source(
                location,
                &paths.cache_dir,
                &tracked,
                &Arc::default(),
                NetworkLimits::default(),
            )
            .await
        }
    }))
    .await;
    let mut renders = Vec::new();
    for ((location, indexes), update) in by_source.iter().zip(updates) {
        for &index in indexes {
            let app = &apps[index];
            let head = match &update {
                Ok(update) => update.heads.iter().find(|head| head.tracked == app.branch),
                Err(err) => {
                    results[index] = Err(err.to_string());
                    continue;
                }
            };
            let Some(head) = head else {
                let missing = SourceError::BranchNotFound {
                    repo: location.to_string(),
                    branch: app.branch.clone(),
                };
                results[index] = Err(missing.to_string());
                continue;
            };
            let (repo_dir, revision, app) = (
                location.git_dir(&paths.cache_dir),
                head.commit.to_string(),
                app.clone(),
            );
            renders.push((
                index,
                tokio::task::spawn_blocking(move || {
                    render_app(&app, &repo_dir, &revision).map(|checked| (revision, checked))
                }),
            ));
        }
    }
    for (index, render) in renders {
        results[index] = render
            .await
            .unwrap_or_else(|e| Err(format!("rendering stopped: {e}")));
    }
    results
}

/// What one cluster gave for its apps.
struct ContextRead {
    live: LiveRead,
    /// In exact mode: the dry-run result per desired object present live.
    dry_runs: Option<HashMap<crate::resource::ResourceKey, Result<serde_json::Value, String>>>,
}

async fn read_context(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    apps: Vec<&str>,
    desired: Vec<&Checked>,
    exact: bool,
) -> Result<ContextRead, String> {
    let client = ClusterClient::connect(kubeconfig, context)
        .await
        .map_err(|e| e.to_string())?;
    let mut catalog = KindCatalog::discover(&client)
        .await
        .map_err(|e| e.to_string())?;
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut pods: Vec<PodQuery> = Vec::new();
    for checked in &desired {
        let (w, p) = live_queries(checked);
        wanted.extend(w);
        pods.extend(p);
    }
    let live = read_live(&client, &mut catalog, &apps, &wanted, &pods)
        .await
        .map_err(|e| e.to_string())?;
    let dry_runs = if exact {
        let mut results = HashMap::new();
        for checked in &desired {
            for object in &checked.desired.objects {
                let key = object.id.resource_key();
                if !live.objects.contains_key(&key) {
                    continue;
                }
                let result = match catalog
                    .resolve(&client, &key.group, Some(&object.id.version), &key.kind)
                    .await
                {
                    Ok(Some(kind)) => dry_run_apply(&client, &kind, &key, &object.value).await,
                    Ok(None) => Err("the kind is not served".to_string()),
                    Err(err) => Err(err.to_string()),
                };
                results.insert(key, result);
            }
        }
        Some(results)
    } else {
        None
    };
    Ok(ContextRead { live, dry_runs })
}

/// Exact mode: each resource present live is compared with what the server
/// would make of the desired object, rather than with the object as written.
fn apply_exact(
    report: &mut AppReport,
    app: &AppConfig,
    checked: &Checked,
    live: &LiveRead,
    dry_runs: &HashMap<crate::resource::ResourceKey, Result<serde_json::Value, String>>,
) {
    for resource in &mut report.resources {
        if !matches!(
            resource.status,
            ResourceStatus::Synced | ResourceStatus::OutOfSync
        ) {
            continue;
        }
        let (Some(dry_run), Some(live_object)) =
            (dry_runs.get(&resource.key), live.objects.get(&resource.key))
        else {
            continue;
        };
        let in_desired = checked
            .desired
            .objects
            .iter()
            .any(|o| o.id.resource_key() == resource.key);
        if !in_desired {
            continue;
        }
        *resource = match dry_run {
            Ok(would_be) => {
                ResourceResult::compared(resource.key.clone(), would_be, live_object, &app.ignore)
            }
            Err(cause) => ResourceResult::unknown(
                resource.key.clone(),
                format!("server-side dry run refused: {cause}"),
            ),
        };
    }
    let summary = crate::drift::summarize(&report.resources);
    if checked.can_sync() {
        report.summary = summary;
    }
}
