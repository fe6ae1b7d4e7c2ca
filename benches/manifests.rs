#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Load and validate 5,000 objects in 500 files, from memory (a Git tree)
//! and from a folder on disk, beside the YAML parsers alone. Goal: at least
//! 50,000 objects per second.
//!
//! cargo bench --bench manifests
//!
//! Wall time depends on what else the machine runs; instructions do not.
//! With `DRIFTDECK_BENCH_LOADS=N` the binary loads and validates the 5,000
//! objects from memory N times, prints the fastest and the median time and
//! exits; under callgrind, the difference between two values of N is the
//! instruction count of the extra loads:
//!
//! cargo bench --bench manifests --no-run
//! DRIFTDECK_BENCH_LOADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/manifests-<hash>
//! DRIFTDECK_BENCH_LOADS=11 valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/manifests-<hash>

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use driftdeck::manifests::{AppSettings, ManifestFile, check_files, check_folder};

const FILES: usize = 500;
const OBJECTS_PER_FILE: usize = 10;

/// Ten objects of an ordinary app, named after `app`: a Deployment that uses
/// the ConfigMap, Secret and ServiceAccount, its Service and Ingress, a
/// StatefulSet with its Service, a CronJob, a Role and its RoleBinding.
/// Values that only look like numbers, as real manifests carry them: a log
/// level `info` and a config digest in hex.
fn app_file(app: usize) -> String {
    // Helm-rendered Deployments roll on a ConfigMap change through a hash of
    // it in the pod template: 64 hex digits, different for every app.
    let digest = (1..=4u64)
        .map(|part| {
            format!(
                "{:016x}",
                (app as u64 * 4 + part).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            )
        })
        .collect::<String>();
    format!(
        "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app{app}-settings
  labels: {{app.kubernetes.io/name: app{app}, app.kubernetes.io/part-of: shop}}
data:
  mode: fast
  retries: \"3\"
  log-level: info
---
apiVersion: v1
kind: Secret
metadata:
  name: app{app}-credentials
type: Opaque
stringData:
  password: not-a-real-one
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app{app}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{app}
  labels:
    app.kubernetes.io/name: app{app}
    app.kubernetes.io/version: \"1.4.2\"
  annotations:
    driftdeck.dev/sync-wave: \"1\"
spec:
  replicas: 3
  selector:
    matchLabels: {{app: app{app}}}
  template:
    metadata:
      labels: {{app: app{app}, tier: web}}
      annotations:
        checksum/config: {digest}
    spec:
      serviceAccountName: app{app}
      containers:
      - name: web
        image: registry.example.com/shop/app{app}:1.4.2
        ports:
        - {{name: http, containerPort: 8080}}
        envFrom:
        - configMapRef: {{name: app{app}-settings}}
        env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {{name: app{app}-credentials, key: password}}
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 256Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
---
apiVersion: v1
kind: Service
metadata:
  name: app{app}
spec:
  selector: {{app: app{app}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app{app}
spec:
  rules:
  - host: app{app}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: app{app}
            port: {{name: http}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: app{app}-db
spec:
  serviceName: app{app}-db
  selector:
    matchLabels: {{app: app{app}-db}}
  template:
    metadata:
      labels: {{app: app{app}-db}}
    spec:
      containers:
      - name: db
        image: postgres:16
        env:
        - name: POSTGRES_PASSWORD
          valueFrom:
            secretKeyRef: {{name: app{app}-credentials, key: password}}
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: 10Gi}}}}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: app{app}-backup
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: registry.example.com/shop/backup:2
            envFrom:
            - secretRef: {{name: app{app}-credentials}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app{app}-reader
rules:
- apiGroups: [\"\"]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app{app}-reader
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: app{app}-reader}}
subjects:
- {{kind: ServiceAccount, name: app{app}}}
"
    )
}

fn files() -> Vec<ManifestFile> {
    (0..FILES)
        .map(|app| ManifestFile {
            path: PathBuf::from(format!("apps/app{app}.yaml")),
            bytes: app_file(app).into_bytes(),
            rendered_by: None,
        })
        .collect()
}

fn load_and_validate(c: &mut Criterion) {
    let files = files();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let first = check_files(&files, Path::new("bench"), "shop");
    assert_eq!(first.desired.objects.len(), FILES * OBJECTS_PER_FILE);
    assert!(
        first.problems.is_empty(),
        "{:?}",
        first.problems.iter().next()
    );
    eprintln!(
        "{} objects in {FILES} files, {} KiB of YAML",
        FILES * OBJECTS_PER_FILE,
        bytes / 1024
    );

    let disk = tempfile::tempdir().unwrap();
    for file in &files {
        let target = disk.path().join(&file.path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, &file.bytes).unwrap();
    }
    let app = AppSettings {
        name: "bench",
        namespace: "shop",
        values: &[],
    };

    let mut group = c.benchmark_group("manifests");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements((FILES * OBJECTS_PER_FILE) as u64));
    group.bench_function("5000 objects in 500 files, from memory", |b| {
        b.iter(|| check_files(&files, Path::new("bench"), "shop"));
    });
    group.bench_function("5000 objects in 500 files, from disk", |b| {
        b.iter(|| check_folder(disk.path(), Path::new("bench"), &app).unwrap());
    });
    // What the YAML parsers alone cost on one thread, without splitting,
    // limits, validation or threads: granit-parser's events are the floor
    // under the two above; serde-saphyr builds its values from them.
    group.bench_function("granit-parser events alone, one thread", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| {
                    let text = std::str::from_utf8(&f.bytes).unwrap();
                    let parser = serde_saphyr::granit_parser::Parser::new_from_str(text);
                    parser.inspect(|event| assert!(event.is_ok())).count()
                })
                .sum::<usize>()
        });
    });
    group.bench_function("serde-saphyr alone, one thread", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| {
                    let text = std::str::from_utf8(&f.bytes).unwrap();
                    serde_saphyr::from_multiple::<serde_json::Value>(text)
                        .unwrap()
                        .len()
                })
                .sum::<usize>()
        });
    });
    group.finish();
}

criterion_group!(benches, load_and_validate);

fn main() {
    let loads = std::env::var("DRIFTDECK_BENCH_LOADS").ok();
    if let Some(loads) = loads.and_then(|n| n.parse::<usize>().ok()) {
        let files = files();
        let mut times: Vec<Duration> = (0..loads)
            .map(|_| {
                let start = std::time::Instant::now();
                let checked = check_files(&files, Path::new("bench"), "shop");
                assert_eq!(checked.desired.objects.len(), FILES * OBJECTS_PER_FILE);
                drop(checked);
                start.elapsed()
            })
            .collect();
        times.sort();
        if let (Some(fastest), Some(median)) = (times.first(), times.get(loads / 2)) {
            let rate = |time: &Duration| (FILES * OBJECTS_PER_FILE) as f64 / time.as_secs_f64();
            eprintln!(
                "{loads} loads: fastest {fastest:.1?} ({:.0} objects/s), median {median:.1?} ({:.0} objects/s)",
                rate(fastest),
                rate(median)
            );
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
