//! The background team: every 20–40 s a believable commit or a change by
//! hand, so that drift, new commits and (with auto-sync) syncs can be
//! watched happening. What it does is `scenario::team_move`; here it is done.

use tokio::task::JoinHandle;

use super::cluster::Hands;
use super::manifests::files;
use super::repo::DemoRepo;
use super::scenario::{Commit, TeamMove, team_move, team_pause};

/// Starts the team on the repository (whose last commit had `head`'s
/// settings) and the cluster; it stops when the task is aborted.
pub fn start(repo: DemoRepo, hands: Hands, head: &Commit, pause_secs: u64) -> JoinHandle<()> {
    let mut settings = head.settings.clone();
    let tools = repo.tools();
    tokio::spawn(async move {
        for turn in 0.. {
            tokio::time::sleep(team_pause(turn, pause_secs)).await;
            match team_move(turn, &settings) {
                TeamMove::Commit(commit) => {
                    let before = files(&settings, tools);
                    let repo = repo.clone();
                    let message = commit.message.clone();
                    let done = tokio::task::spawn_blocking(move || {
                        repo.commit_on(&before, &commit).map(|id| (id, commit))
                    })
                    .await;
                    match done {
                        Ok(Ok((id, commit))) => {
                            tracing::info!(%id, %message, "demo team: committed");
                            settings = commit.settings;
                        }
                        Ok(Err(err)) => tracing::warn!(%err, "demo team: commit failed"),
                        Err(err) => tracing::warn!(%err, "demo team: commit failed"),
                    }
                }
                TeamMove::HandEdit(edit) => match hands.edit(&edit).await {
                    Ok(()) => tracing::info!(
                        object = %format!("{} {}/{}", edit.kind, edit.namespace, edit.name),
                        "demo team: changed by hand"
                    ),
                    Err(err) => tracing::warn!(%err, "demo team: change by hand failed"),
                },
            }
        }
    })
}

/// The team's base pause: 20 s, or `DRIFTDECK_DEMO_TEAM_SECS` (for the
/// memory benchmark, which wants many moves in a few minutes).
pub fn pause_secs() -> u64 {
    std::env::var("DRIFTDECK_DEMO_TEAM_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&secs| secs > 0)
        .unwrap_or(20)
}
