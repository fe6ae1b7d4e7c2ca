//! Kustomize overlays and Helm charts that build on folders beside them
//! (`resources: [../../base]`, `repository: file://../common`), checked at a
//! revision: the folders they refer to are read from Git too, and a
//! reference leaving the repository is refused naming it.

use std::path::Path;

use super::support::{check, git, tool, write_files};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: api:1
";

/// `apps/api/base` and `apps/api/overlays/prod` (with a component from
/// `shared/ha`: three replicas and an env file), committed; then the work tree is broken,
/// so only Git can give the right answer.
pub fn overlay_repo(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    write_files(
        dir,
        &[
            (
                "apps/api/base/kustomization.yaml",
                "resources:\n- deployment.yaml\n",
            ),
            ("apps/api/base/deployment.yaml", DEPLOYMENT),
            (
                "apps/api/overlays/prod/kustomization.yaml",
                "namespace: prod\nresources:\n- ../../base\ncomponents:\n- ../../../../shared/ha\n",
            ),
            (
                "shared/ha/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: replicas.yaml\nconfigMapGenerator:\n- name: api-env\n  envs: [prod.env]\n",
            ),
            (
                "shared/ha/replicas.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 3\n",
            ),
            ("shared/ha/prod.env", "MODE=prod\n"),
            ("unrelated/big.txt", "not read\n"),
        ],
    );
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "api base and prod overlay"]);
    std::fs::remove_dir_all(dir.join("apps/api/base")).unwrap();
    git(dir, &["rev-parse", "HEAD"])
}

fn kustomize_available() -> bool {
    match tool("kustomize").or_else(|_| tool("kubectl")) {
        Ok(_) => true,
        Err(why) => {
            eprintln!("skipped: neither kustomize nor kubectl is on PATH: {why}");
            false
        }
    }
}

#[test]
fn an_overlay_renders_at_a_revision_with_its_base_and_shared_files() {
    if !kustomize_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    overlay_repo(dir.path());
    let run = check(
        dir.path(),
        &["apps/api/overlays/prod", "--rev", "HEAD", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("evalsymlink"), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<String> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}/{}/{}", o["kind"], o["namespace"], o["name"]).replace('"', ""))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"Deployment/prod/api".to_string()),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("ConfigMap/prod/api-env-")),
        "the component from shared/ was there: {names:?}"
    );
}

#[test]
fn a_reference_leaving_the_repository_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    overlay_repo(dir.path());
    write_files(
        dir.path(),
        &[(
            "apps/api/overlays/escape/kustomization.yaml",
            "resources:\n- ../../base\n- ../../../../../outside\n",
        )],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "escape"]);
    let run = check(dir.path(), &["apps/api/overlays/escape", "--rev", "HEAD"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "\"apps/api/overlays/escape/kustomization.yaml\" at \"HEAD\" refers to \"../../../../../outside\", which is outside the repository"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_inputs_of_an_overlay_or_a_chart_name_every_folder_they_reach() {
    let dir = tempfile::tempdir().unwrap();
    let head = overlay_repo(dir.path());
    write_files(
        dir.path(),
        &[
            (
                "charts/web/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: common\n  version: 0.1.0\n  repository: file://../common\n",
            ),
            (
                "charts/common/Chart.yaml",
                "apiVersion: v2\nname: common\nversion: 0.1.0\n",
            ),
        ],
    );
    git(dir.path(), &["add", "charts"]);
    git(dir.path(), &["commit", "-qm", "chart"]);
    let inputs =
        driftdeck::source::render_inputs(dir.path(), &head, "apps/api/overlays/prod").unwrap();
    assert_eq!(
        inputs,
        ["apps/api/overlays/prod", "apps/api/base", "shared/ha"]
    );
    let chart = driftdeck::source::render_inputs(dir.path(), "HEAD", "charts/web").unwrap();
    assert_eq!(chart, ["charts/web", "charts/common"]);
}
