#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Drift and health through the built binary: every conformance case in
//! ../shared/conformance, and the offline `diff` and `health` commands.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A command that has not finished by then is hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the built binary with a timeout, reading its output as it goes.
fn driftdeck(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_driftdeck"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start driftdeck");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("driftdeck {args:?} did not finish within {COMMAND_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code().expect("exit code"),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn conformance_dir(corpus: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance")
        .join(corpus)
}

/// The cases of an expected.tsv, split on tabs (every line but comments
/// and blank ones).
fn cases(corpus: &str) -> (PathBuf, Vec<Vec<String>>) {
    let dir = conformance_dir(corpus);
    let text = std::fs::read_to_string(dir.join("expected.tsv"))
        .unwrap_or_else(|err| panic!("read {}/expected.tsv: {err}", dir.display()));
    let is_case = |line: &&str| !line.trim().is_empty() && !line.starts_with('#');
    let cases = text
        .lines()
        .filter(is_case)
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect();
    (dir, cases)
}

/// The files of a corpus that no case names: a fixture added without its
/// line in expected.tsv would otherwise never run.
fn unnamed_fixtures(dir: &Path, cases: &[Vec<String>]) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "expected.tsv")
        .filter(|name| !cases.iter().any(|case| case.contains(name)))
        .collect();
    files.sort();
    files
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn conformance_health_matches_argo_cd() {
    let (dir, cases) = cases("health");
    assert!(!cases.is_empty(), "no health cases in {}", dir.display());
    assert_eq!(unnamed_fixtures(&dir, &cases), Vec::<String>::new());
    for case in &cases {
        let [file, expected] = &case[..] else {
            panic!("health/expected.tsv: bad line {case:?}");
        };
        let run = driftdeck(&["health", "-f", path_str(&dir.join(file)), "-o", "json"]);
        assert_eq!(
            run.code, 0,
            "case {file}: exit code, stderr: {}",
            run.stderr
        );
        let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|err| {
            panic!("case {file}: output is not JSON ({err}): {}", run.stdout)
        });
        let got = report["resources"][0]["health"]["status"]
            .as_str()
            .unwrap_or("(none)");
        assert_eq!(got, expected, "case {file}: health");
    }
}

#[test]
fn conformance_diff_matches_argo_cd() {
    let (dir, cases) = cases("diff");
    assert!(!cases.is_empty(), "no diff cases in {}", dir.display());
    assert_eq!(unnamed_fixtures(&dir, &cases), Vec::<String>::new());
    for case in &cases {
        let [name, desired, live, drift, why] = &case[..] else {
            panic!("diff/expected.tsv: bad line {case:?}");
        };
        let run = driftdeck(&[
            "diff",
            "--desired",
            path_str(&dir.join(desired)),
            "--live",
            path_str(&dir.join(live)),
        ]);
        let expected_code = match drift.as_str() {
            "yes" => 1,
            "no" => 0,
            other => panic!("case {name}: drift must be yes or no, not {other}"),
        };
        assert_eq!(
            run.code, expected_code,
            "case {name} ({why}): exit code\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
    }
}

#[test]
fn conformance_drift_names_the_field_that_changed() {
    let dir = conformance_dir("diff");
    let run = driftdeck(&[
        "diff",
        "--desired",
        path_str(&dir.join("smd-service-config.yaml")),
        "--live",
        path_str(&dir.join("smd-service-live.yaml")),
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = &report["resources"][0]["changes"];
    assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
    assert_eq!(changes[0]["path"], "spec.ports[1935/TCP].targetPort");
    assert_eq!(changes[0]["pointer"], "/spec/ports/1/targetPort");
    assert_eq!(changes[0]["change"], "Changed");
    assert_eq!(changes[0]["live"], 1935);
    assert_eq!(changes[0]["desired"], 1936);
}

/// Writes files into a temporary folder for one test.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

const DESIRED_APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources:
          limits: {cpu: 1, memory: 1Gi}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
";

const LIVE_APP: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: shop
    uid: 0a1b
    annotations:
      driftdeck.dev/revision: 9c1e0b2
  spec:
    replicas: 2
    progressDeadlineSeconds: 600
    template:
      spec:
        containers:
        - name: web
          image: nginx:1.25
          imagePullPolicy: IfNotPresent
          resources:
            limits: {cpu: 1000m, memory: 1024Mi}
  status:
    observedGeneration: 1
    replicas: 2
    updatedReplicas: 2
    availableReplicas: 2
- apiVersion: v1
  kind: Service
  metadata:
    name: old
    namespace: shop
  spec:
    type: ClusterIP
";

#[test]
fn diff_names_each_drifted_object_and_its_fields() {
    let files = Files::new();
    let desired = files.write("desired.yaml", DESIRED_APP);
    let live = files.write("live.yaml", LIVE_APP);
    let run = driftdeck(&["diff", "--desired", &desired, "--live", &live]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let out = &run.stdout;
    assert!(
        out.contains(
            "Deployment shop/web: OutOfSync: spec.replicas changed, \
             spec.template.spec.containers[web].image changed\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  ~ spec.template.spec.containers[web].image\n"),
        "{out}"
    );
    assert!(
        out.contains("-        image: nginx:1.25\n+        image: nginx:1.27\n"),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with(['-', '+']) && l.contains("memory")),
        "quantities that agree are no drift: {out}"
    );
    assert!(
        out.contains("@@ -4,13 +4,13 @@\n   name: web\n   namespace: shop\n spec:\n"),
        "{out}"
    );
    assert!(
        out.contains("ConfigMap shop/settings: Missing: in Git, not in the cluster\n"),
        "{out}"
    );
    assert!(out.contains("+  mode: fast\n"), "{out}");
    assert!(
        out.contains("Service shop/old: Extra: in the cluster, no longer in Git\n"),
        "{out}"
    );
    assert!(out.ends_with("3 of 3 resources differ: Deployment shop/web: spec.replicas changed, spec.template.spec.containers[web].image changed; ConfigMap shop/settings: missing; Service shop/old: extra\n"), "{out}");
}

#[test]
fn diff_json_gives_summary_and_resources() {
    let files = Files::new();
    let desired = files.write("desired.yaml", DESIRED_APP);
    let live = files.write("live.yaml", LIVE_APP);
    let run = driftdeck(&["diff", "--desired", &desired, "--live", &live, "-o", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["status"], "OutOfSync");
    assert_eq!(summary["health"], "Missing");
    assert_eq!(summary["revision"], "9c1e0b2");
    assert_eq!(
        summary["counts"],
        serde_json::json!({"Synced": 0, "OutOfSync": 1, "Missing": 1, "Extra": 1, "Unknown": 0})
    );
    let web = &report["resources"][0];
    assert_eq!(web["kind"], "Deployment");
    assert_eq!(web["group"], "apps");
    assert_eq!(web["namespace"], "shop");
    assert_eq!(web["status"], "OutOfSync");
    assert_eq!(web["health"]["status"], "Healthy");
    assert_eq!(web["changes"][0]["pointer"], "/spec/replicas");
    assert!(
        web["diff"]
            .as_str()
            .unwrap()
            .starts_with("--- live/Deployment/shop/web\n")
    );
    assert_eq!(report["resources"][2]["status"], "Extra");
}

#[test]
fn diff_without_drift_exits_zero() {
    let files = Files::new();
    let object =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\ndata: {k: v}\n";
    let desired = files.write("desired.yaml", object);
    let live = files.write(
        "live.json",
        &serde_json::to_string(&serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "shop", "resourceVersion": "12"},
            "data": {"k": "v"}
        }))
        .unwrap(),
    );
    let run = driftdeck(&["diff", "--desired", &desired, "--live", &live]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "no drift: 1 object in sync\n");
}

#[test]
fn secret_drift_names_keys_and_never_values() {
    let files = Files::new();
    // stringData in Git against base64 data live; "token" changed, "user"
    // unchanged, "old" applied before and now gone from Git, "ca" new.
    let desired = files.write(
        "desired.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\n\
         stringData:\n  user: admin-user\n  token: new-token-value\n  ca: brand-new-ca\n",
    );
    let applied = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"user": "YWRtaW4tdXNlcg==", "token": "b2xkLXRva2VuLXZhbHVl", "old": "b2xkLXZhbHVl"}});
    let live = files.write(
        "live.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n  annotations:\n    \
             kubectl.kubernetes.io/last-applied-configuration: '{applied}'\n\
             data:\n  user: YWRtaW4tdXNlcg==\n  token: b2xkLXRva2VuLXZhbHVl\n  old: b2xkLXZhbHVl\n"
        ),
    );
    let secrets = [
        "admin-user",
        "YWRtaW4tdXNlcg==",
        "new-token-value",
        "bmV3LXRva2VuLXZhbHVl",
        "old-token-value",
        "b2xkLXRva2VuLXZhbHVl",
        "old-value",
        "b2xkLXZhbHVl",
        "brand-new-ca",
        "YnJhbmQtbmV3LWNh",
    ];
    for output in ["text", "json"] {
        let run = driftdeck(&["diff", "--desired", &desired, "--live", &live, "-o", output]);
        assert_eq!(run.code, 1, "{output}: {}", run.stderr);
        let everything = format!("{}{}", run.stdout, run.stderr);
        for secret in secrets {
            assert!(
                !everything.contains(secret),
                "{output}: {secret} leaked:\n{everything}"
            );
        }
        for key in [
            "data.token changed",
            "data.old removed from Git",
            "data.ca added in Git",
        ] {
            assert!(
                everything.contains(key),
                "{output}: {key} not named:\n{everything}"
            );
        }
        assert!(
            !everything.contains("data.user"),
            "{output}: unchanged key reported:\n{everything}"
        );
    }
}

#[test]
fn diff_errors_exit_two_and_name_the_file() {
    let files = Files::new();
    let good = files.write("good.yaml", "kind: ConfigMap\nmetadata: {name: a}\n");
    let broken = files.write("broken.yaml", "kind: ConfigMap\nmetadata:\n  name: \"a\n");
    let nameless = files.write("nameless.yaml", "kind: ConfigMap\nmetadata: {}\n");

    let run = driftdeck(&[
        "diff",
        "--desired",
        &good,
        "--live",
        "/nonexistent/live.yaml",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("/nonexistent/live.yaml: cannot read the file:"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(run.stdout, "");

    let run = driftdeck(&["diff", "--desired", &broken, "--live", &good]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with(&format!("{broken}:3: error: invalid YAML at column 9: ")),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    let run = driftdeck(&["diff", "--desired", &good, "--live", &nameless]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!("{nameless}: object 1: ConfigMap has no metadata.name\n")
    );

    let run = driftdeck(&["diff", "--desired", &good]);
    assert_eq!(run.code, 2, "a missing --live is a usage error");
}

#[test]
fn health_prints_a_table_and_exits_zero_whatever_the_health() {
    let files = Files::new();
    let live = files.write(
        "live.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\n\
         status: {phase: Lost}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    let run = driftdeck(&["health", "-f", &live]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "KIND                   NAMESPACE  NAME  HEALTH    MESSAGE\n\
         PersistentVolumeClaim  shop       data  Degraded  claim is Lost\n\
         Namespace              -          shop  Healthy\n"
    );
    let run = driftdeck(&["health", "-f", &live, "-o", "json"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["health"], "Degraded");
    assert_eq!(report["resources"][1]["namespace"], Value::Null);
    assert_eq!(report["resources"][0]["health"]["message"], "claim is Lost");
}

#[test]
fn health_error_exits_two() {
    let run = driftdeck(&["health", "-f", "/nonexistent/live.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("/nonexistent/live.yaml: cannot read the file:"),
        "{}",
        run.stderr
    );
}
