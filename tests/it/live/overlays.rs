//! The common kustomize layout, `apps/api/base` and `apps/api/overlays/prod`
//! with `resources: [../../base]`, read from Git by `status`, `diff`, `sync`
//! and `rollback --git` through the built binary: the base is rendered with
//! the overlay, and a rollback restores it too.

use std::path::Path;

use serde_json::Value;

use super::rollback::assert_ran;
use super::sim::within_timeout;
use super::support::World;
use crate::common_git::git;
use crate::manifests::support::tool;

fn deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector:\n    matchLabels: {{app: api}}\n  template:\n    metadata:\n      labels: {{app: api}}\n    spec:\n      containers:\n      - name: api\n        image: {image}\n"
    )
}

fn write(repo: &Path, path: &str, text: &str) {
    let file = repo.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

/// The overlay app `api` in namespace `prod`, committed; the config names it.
fn overlay_app(world: &World) -> String {
    let repo = world.repo();
    write(
        &repo,
        "apps/api/base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    write(&repo, "apps/api/base/deployment.yaml", &deployment("api:1"));
    write(
        &repo,
        "apps/api/overlays/prod/kustomization.yaml",
        "namespace: prod\nresources:\n- namespace.yaml\n- ../../base\n",
    );
    write(
        &repo,
        "apps/api/overlays/prod/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n",
    );
    let first = world.commit("api: base and prod overlay");
    std::fs::write(
        world.path("config.toml"),
        format!(
            "[[app]]\nname = \"api\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/api/overlays/prod\"\nnamespace = \"prod\"\n",
            repo.display()
        ),
    )
    .unwrap();
    first
}

/// The app's sync status as `status -o json` gives it.
async fn sync_status(world: &World) -> String {
    let status = world.driftdeck(&["status", "api", "-o", "json"]).await;
    let reports: Value = serde_json::from_str(&status.stdout).unwrap();
    reports[0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_overlay_is_compared_synced_and_rolled_back_with_its_base() {
    if tool("kubectl").is_err() && tool("kustomize").is_err() {
        eprintln!("skipped: neither kustomize nor kubectl is on PATH");
        return;
    }
    within_timeout(async {
        let world = World::new().await;
        let first = overlay_app(&world);

        let status = world.driftdeck(&["status", "api", "-o", "json"]).await;
        assert_eq!(
            status.code, 1,
            "OutOfSync: {}\n{}",
            status.stdout, status.stderr
        );
        assert!(!status.stderr.contains("evalsymlink"), "{}", status.stderr);
        let reports: Value = serde_json::from_str(&status.stdout).unwrap();
        let kinds: Vec<&str> = reports[0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"Deployment"),
            "the base is rendered: {kinds:?}"
        );

        let diff = world.driftdeck(&["diff", "api"]).await;
        assert_eq!(diff.code, 1, "{}\n{}", diff.stdout, diff.stderr);
        assert!(diff.stdout.contains("image: api:1"), "{}", diff.stdout);

        assert_ran(&world.driftdeck(&["sync", "api", "--yes"]).await);
        assert_eq!(sync_status(&world).await, "Synced");

        // The base changes; a Git rollback of the overlay restores the base.
        write(
            &world.repo(),
            "apps/api/base/deployment.yaml",
            &deployment("api:2"),
        );
        let second = world.commit("api 2");
        assert_ran(&world.driftdeck(&["sync", "api", "--yes"]).await);
        std::fs::create_dir_all(world.path("home")).unwrap();
        std::fs::write(
            world.path("home/.gitconfig"),
            "[user]\n\tname = Olga Operator\n\temail = olga@example.com\n",
        )
        .unwrap();
        let run = world
            .driftdeck(&["rollback", "api", "--to", &first, "--git", "--yes"])
            .await;
        assert_ran(&run);
        let repo = world.repo();
        assert_eq!(git(&repo, &["rev-parse", "main^"]), second);
        assert_eq!(
            git(&repo, &["show", "main:apps/api/base/deployment.yaml"]),
            deployment("api:1").trim_end(),
            "the base outside the app's folder is restored"
        );
        let diff = world.driftdeck(&["diff", "api"]).await;
        assert_eq!(
            diff.code, 0,
            "no drift after the rollback's sync: {}",
            diff.stdout
        );
        assert_eq!(sync_status(&world).await, "Synced");
    })
    .await;
}
