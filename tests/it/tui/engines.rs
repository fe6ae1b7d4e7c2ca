//! Argo CD and Flux apps driven from the TUI at 80x24, against the
//! simulated cluster with the engines' real CRDs, the test playing the
//! controller: `s` on an Argo CD app shows what will be written and `y`
//! writes the `operation` as the command line does, the result the test
//! sets shows in the row and the status bar; `r` sets the refresh
//! annotation; `S` suspends a Flux Kustomization after confirmation;
//! under `--readonly` none of them writes.

use serde_json::{Value, json};

use super::sim::within_timeout;
use super::terminal::{Home, Tmux};
use super::world::World;
use crate::engines::support::{api_of, operation_written, read_back, read_until, world_with};

const ARGO_APP: &str = "argocd/podinfo";
const FLUX_APP: &str = "flux/flux-system/apps";

/// The cluster with the engines' CRDs and these example objects; the TUI
/// on it in tmux at 80x24 (with `flags`). `None` without tmux.
async fn engines_in_tmux(files: &[&str], flags: &str) -> Option<(World, Vec<Value>, Home, Tmux)> {
    let (world, objects) = world_with(files).await;
    let (home, tmux) = tmux_on(&world, flags)?;
    Some((world, objects, home, tmux))
}

/// The TUI with the world's config (engine sources not read: the examples
/// name github.com) on its cluster, in tmux at 80x24, started outside any
/// Git work tree (which driftdeck would offer as an app).
fn tmux_on(world: &World, flags: &str) -> Option<(Home, Tmux)> {
    let config = std::fs::read_to_string(world.path("config.toml")).unwrap();
    let home = Home::new(&config);
    let tmux = Tmux::start(&home, 80, 24)?;
    tmux.type_line(&format!("cd {}", home.path("home").display()));
    let kubeconfig = world.path("kubeconfig");
    let args = format!("{flags} --kubeconfig {}", kubeconfig.display());
    tmux.start_driftdeck(&home, "", &args);
    Some((home, tmux))
}

fn audit_lines(home: &Home) -> Vec<Value> {
    crate::engines::support::audit_lines(&home.path("home/.local/share/driftdeck/audit.jsonl"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_then_y_writes_the_argocd_operation_and_the_result_set_by_the_controller_shows() {
    within_timeout(async {
        let Some((world, objects, home, tmux)) =
            engines_in_tmux(&["argocd/application-outofsync-progressing.yaml"], "").await
        else {
            return;
        };
        let app = &objects[0];
        tmux.wait_for("the app OutOfSync", |s| {
            s.contains(&format!("{ARGO_APP} · OutOfSync"))
        });
        let compared = read_back(&world, app).await["status"]["sync"]["revision"].clone();

        tmux.press("s");
        let screen = tmux.wait_for("the dialog", |s| s.contains("y go"));
        for line in [
            &format!("Sync {ARGO_APP} through Argo CD"),
            "operation.sync.prune: false",
            "status.operationState: null",
            "(•) keep extra objects",
        ] {
            assert!(screen.contains(line), "{line} missing:\n{screen}");
        }
        tmux.press("y");
        // As `driftdeck sync` (and Argo CD's API server) writes it.
        let asked = operation_written(&world, app, &compared, false).await;
        let operation = &asked["operation"];
        tmux.wait_for("the action in the row", |s| s.contains("sync…"));

        // The controller runs it and says it succeeded.
        let api = api_of(&world, app).await;
        api.patch(
            "podinfo",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"operation": null, "status": {
                "sync": {"status": "Synced", "revision": compared},
                "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                    "operation": operation, "startedAt": "2026-08-21T16:00:00Z",
                    "finishedAt": "2026-08-21T16:00:09Z"}
            }})),
        )
        .await
        .unwrap();
        let screen = tmux.wait_for("the result", |s| {
            s.contains("sync done: successfully synced")
        });
        assert!(!screen.contains("sync…"), "{screen}");
        tmux.wait_for("the app Synced", |s| {
            s.contains(&format!("{ARGO_APP} · Synced"))
        });
        let audit = audit_lines(&home);
        assert_eq!(audit.len(), 2, "{audit:#?}");
        assert_eq!(audit[0]["app"], ARGO_APP);
        assert_eq!(audit[1]["status"], "succeeded");

        // `r`: a normal refresh, asked without a dialog.
        tmux.press("r");
        let refreshed = read_until(&world, app, "the refresh annotation", |o| {
            o["metadata"]["annotations"]["argocd.argoproj.io/refresh"].is_string()
        })
        .await;
        assert_eq!(
            refreshed["metadata"]["annotations"]["argocd.argoproj.io/refresh"],
            "normal"
        );
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capital_s_suspends_a_flux_kustomization_after_confirmation() {
    within_timeout(async {
        let Some((world, objects, _home, tmux)) =
            engines_in_tmux(&["flux/kustomization-ready.yaml"], "").await
        else {
            return;
        };
        let app = &objects[0];
        tmux.wait_for("the app", |s| s.contains(&format!("{FLUX_APP} · ")));
        tmux.press("S");
        let screen = tmux.wait_for("the dialog", |s| s.contains("y go"));
        assert!(screen.contains(&format!("Suspend {FLUX_APP}")), "{screen}");
        assert!(screen.contains("spec.suspend: true"), "{screen}");
        tmux.press("Escape");
        tmux.wait_for("the dialog closed", |s| !s.contains("y go"));
        assert!(read_back(&world, app).await["spec"]["suspend"].is_null());

        tmux.press("S");
        tmux.wait_for("the dialog again", |s| s.contains("y go"));
        tmux.press("y");
        let suspended = read_until(&world, app, "spec.suspend", |o| {
            o["spec"]["suspend"] == json!(true)
        })
        .await;
        assert_eq!(suspended["spec"]["suspend"], true);
        tmux.wait_for("the result", |s| s.contains("suspend done: suspended"));
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_asks_no_engine_anything() {
    within_timeout(async {
        let Some((world, objects, _home, tmux)) = engines_in_tmux(
            &[
                "argocd/application-outofsync-progressing.yaml",
                "flux/kustomization-ready.yaml",
            ],
            "--readonly",
        )
        .await
        else {
            return;
        };
        let screen = tmux.wait_for("the Argo CD app", |s| {
            s.contains(&format!("{ARGO_APP} · OutOfSync"))
        });
        assert!(!screen.contains("s sync"), "{screen}");
        world.sim.metrics().reset();
        for key in ["s", "S", "r"] {
            tmux.press(key);
        }
        tmux.wait_for("the refusal", |s| s.contains("read-only"));
        tmux.press("j");
        tmux.wait_for("the Flux app", |s| s.contains(&format!("{FLUX_APP} · ")));
        for key in ["s", "S"] {
            tmux.press(key);
        }
        tmux.wait_for("the refusal", |s| {
            s.contains("is off: driftdeck is read-only")
        });
        let metrics = world.sim.metrics().snapshot();
        assert_eq!(metrics.count_verb("patch"), 0, "nothing written");
        let argo = read_back(&world, &objects[0]).await;
        assert!(argo["operation"].is_null(), "{argo:#}");
        assert!(argo["metadata"]["annotations"]["argocd.argoproj.io/refresh"].is_null());
        let flux = read_back(&world, &objects[1]).await;
        assert!(flux["spec"]["suspend"].is_null(), "{flux:#}");
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_refused_by_rbac_is_said_and_the_other_apps_get_their_verdicts() {
    within_timeout(async {
        let world = crate::engines::forbidden::applications_forbidden().await;
        let Some((_home, tmux)) = tmux_on(&world, "") else {
            return;
        };
        let screen = tmux.wait_for("the refusal", |s| {
            s.contains("cannot list Application (argoproj.io) in the current")
        });
        assert!(
            screen.contains("applications.argoproj.io is forbidden"),
            "{screen}"
        );
        let screen = tmux.wait_for("the other apps' verdicts", |s| {
            s.contains("flux/flux-syst")
                && s.contains(&format!("{} · OutOfSync", super::world::APP))
        });
        assert!(!screen.contains("argocd/"), "{screen}");
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capital_r_on_a_history_entry_rolls_an_argocd_app_back_once_auto_sync_is_off() {
    within_timeout(async {
        let (world, objects) =
            world_with(&["argocd/application-synced-healthy-history.yaml"]).await;
        let app = &objects[0];
        // Argo CD allows a rollback only without auto-sync.
        api_of(&world, app)
            .await
            .patch(
                "guestbook",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(json!({"spec": {"syncPolicy": {"automated": null}}})),
            )
            .await
            .unwrap();
        let Some((_home, tmux)) = tmux_on(&world, "") else {
            return;
        };
        tmux.wait_for("the history", |s| s.contains("#2") && s.contains("#1"));
        // The Commits pane, its second entry (#1, newest first).
        for _ in 0..3 {
            tmux.press("Tab");
        }
        tmux.press("j");
        tmux.press("R");
        let screen = tmux.wait_for("the dialog", |s| s.contains("y go"));
        assert!(
            screen.contains("Roll back argocd/guestbook to #1 through Argo CD"),
            "{screen}"
        );
        tmux.press("y");
        let asked = read_until(&world, app, "the rollback's operation", |o| {
            !o["operation"].is_null()
        })
        .await;
        let sync = &asked["operation"]["sync"];
        assert_eq!(sync["revision"], "29d0e778698648ac642cb7d3b015a2265da66937");
        assert_eq!(sync["syncStrategy"], json!({"apply": {}}));
        assert_eq!(sync["source"]["path"], "guestbook", "{sync}");
        assert_eq!(sync["prune"], false);
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}
