//! Kustomize and Helm folders rendered through the real tools (installed by
//! `../shared/tools/kube-tools`); skipped, saying why, where a tool is absent.

use std::path::Path;

use super::support::{check, driftdeck, git, run, tool, write_files};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        envFrom:
        - configMapRef: {name: web-settings}
";

const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: frontend
  ports:
  - port: 80
";

fn kustomize_available() -> bool {
    match tool("kustomize").or_else(|_| tool("kubectl")) {
        Ok(_) => true,
        Err(why) => {
            eprintln!("skipped: neither kustomize nor kubectl is on PATH: {why}");
            false
        }
    }
}

fn helm_available() -> bool {
    match tool("helm") {
        Ok(_) => true,
        Err(why) => {
            eprintln!("skipped: {why}");
            false
        }
    }
}

fn kustomize_app(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "app/kustomization.yaml",
                "namespace: shop\nresources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: web-settings\n  literals:\n  - mode=fast\n",
            ),
            ("app/deployment.yaml", DEPLOYMENT),
            ("app/service.yaml", SERVICE),
        ],
    );
}

#[test]
fn a_kustomization_is_built_and_its_output_checked() {
    if !kustomize_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    kustomize_app(dir.path());
    let run = check(dir.path(), &["app"]);
    // The generated ConfigMap gets a hash in its name and kustomize rewrites
    // the reference to it, so only the Service's selector is left to warn about.
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            0,
            "app (kustomize build):17: warning: Service \"shop/web\": selector app=frontend matches no pod template in Git (spec.selector)\n"
        ),
        "{}",
        run.stderr
    );
    let json = check(dir.path(), &["app", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let objects = report["objects"].as_array().unwrap();
    let names: Vec<_> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[0].starts_with("ConfigMap/web-settings-"), "{names:?}");
    assert!(
        objects
            .iter()
            .all(|o| o["namespace"] == "shop" && o["origin"]["rendered_by"] == "kustomize")
    );
}

#[test]
fn a_failing_kustomization_gives_the_tools_complaint() {
    if !kustomize_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[("app/kustomization.yaml", "resources:\n- missing.yaml\n")],
    );
    let run = check(dir.path(), &["app"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("app: error: kustomize build failed: "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("missing.yaml"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

#[test]
fn a_missing_renderer_means_the_check_could_not_run() {
    let dir = tempfile::tempdir().unwrap();
    kustomize_app(dir.path());
    write_files(
        dir.path(),
        &[(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
        )],
    );
    let empty_path = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    for (app, expected) in [
        (
            "app",
            "app: neither kustomize nor kubectl is on PATH, needed for kustomize build\n",
        ),
        (
            "chart",
            "chart: helm is not on PATH, needed for helm template\n",
        ),
    ] {
        let mut command = driftdeck(dir.path(), home.path());
        command.env("PATH", empty_path.path()).args(["check", app]);
        let run = run(command);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (2, "", expected)
        );
    }
}

fn chart(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "apps/web/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            ),
            ("apps/web/values.yaml", "replicas: 2\ntier: front\n"),
            ("apps/web/values-prod.yaml", "tier: front end\n"),
            (
                "apps/web/templates/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  namespace: {{ .Release.Namespace }}\n  labels:\n    tier: {{ .Values.tier }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
            ),
            (
                "apps/web/templates/service.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  selector:\n    app: api\n  ports:\n  - port: 80\n",
            ),
        ],
    );
}

#[test]
fn a_chart_is_templated_and_problems_name_the_template() {
    if !helm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let run = check(dir.path(), &["apps/web"]);
    // Without an app in the config the release is named after the folder.
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            0,
            "apps/web/templates/service.yaml (helm template):8: warning: Service \"default/web-web\": selector app=api matches no pod template in Git (spec.selector)\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_apps_name_namespace_and_values_files_come_from_the_config() {
    if !helm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("deploy");
    chart(&repo);
    git(&repo, &["init", "-q", "-b", "main"]);
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[app]]\nname = \"shop-web\"\nrepo = \"{}\"\npath = \"apps/web\"\nnamespace = \"shop\"\nvalues = [\"values-prod.yaml\"]\n",
            repo.display()
        ),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut command = driftdeck(&repo, home.path());
    command
        .arg("--config")
        .arg(&config)
        .args(["check", "apps/web"]);
    let run = run(command);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout,
        "apps/web/templates/deployment.yaml (helm template):20: error: Deployment \"shop/shop-web-web\": metadata.labels: value \"front end\" of \"tier\" is not valid: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character\n\
         apps/web/templates/service.yaml (helm template):8: warning: Service \"shop/shop-web-web\": selector app=api matches no pod template in Git (spec.selector)\n"
    );
}

#[test]
fn a_failing_template_gives_helms_complaint() {
    if !helm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    write_files(
        dir.path(),
        &[(
            "apps/web/templates/broken.yaml",
            "kind: {{ .Values.tier | nosuchfunction }}\n",
        )],
    );
    let run = check(dir.path(), &["apps/web"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("apps/web: error: helm template failed: "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("nosuchfunction"), "{}", run.stdout);
}
