#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Load and validate 5,000 objects in 500 files, from memory (a Git tree)
//! and from a folder on disk, beside the YAML parser alone. Goal: at least
//! 50,000 objects per second.
//!
//! cargo bench --bench manifests

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftdeck::manifests::{AppSettings, ManifestFile, check_files, check_folder};

const FILES: usize = 500;
const OBJECTS_PER_FILE: usize = 10;

/// Ten objects of an ordinary app, named after `app`: a Deployment that uses
/// the ConfigMap, Secret and ServiceAccount, its Service and Ingress, a
/// StatefulSet with its Service, a CronJob, a Role and its RoleBinding.
fn app_file(app: usize) -> String {
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
    // What the YAML parser alone costs on one thread, without splitting,
    // spans, limits, validation or threads: the floor under the two above.
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
criterion_main!(benches);
