//! The files of each demo app, written from a few settings so that a commit
//! (scripted or by the background team) is a change of settings. Pure.

use std::collections::BTreeMap;

/// The files of the repository: path → content.
pub type Files = BTreeMap<String, String>;

/// What the demo apps look like at one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub shop: Shop,
    /// `None` until the commit that adds the app.
    pub api: Option<Api>,
    pub payments: Option<Payments>,
}

/// `shop`: plain YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    pub image: String,
    pub replicas: u32,
    pub cache_ttl: u32,
    pub banner: String,
    /// The ConfigMap the Deployment reads its settings from (the one in Git
    /// is `shop-settings`).
    pub config_name: String,
    /// The retired `shop-legacy` ConfigMap still in Git.
    pub legacy: bool,
    /// The settings file has a YAML error (the commit that breaks it).
    pub broken_yaml: bool,
}

/// `api`: a kustomize base and its `overlays/prod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    pub tag: String,
    pub replicas: u32,
    pub log_level: String,
    pub pool_size: u32,
}

/// `payments`: a Helm chart, or plain YAML without helm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payments {
    pub tag: String,
    pub replicas: u32,
    pub memory: String,
}

/// Which renderers the machine has; without one the app is plain YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tools {
    pub helm: bool,
    pub kustomize: bool,
}

pub const SHOP_PATH: &str = "apps/shop";
/// `api`'s folder: a kustomization at its top builds `overlays/prod`, so
/// that the base (`../../base` from the overlay) is inside the folder
/// driftdeck reads at a revision.
pub const API_PATH: &str = "apps/api";
pub const PAYMENTS_PATH: &str = "apps/payments";

/// Every file of the repository for these settings.
pub fn files(settings: &Settings, tools: Tools) -> Files {
    let mut files = Files::new();
    files.insert(
        "README.md".into(),
        "# deploy\n\nThe manifests of the shop, its orders API and the payment gateway, \
         one folder per app under `apps/`. driftdeck's demo made this repository.\n"
            .into(),
    );
    shop_files(&settings.shop, &mut files);
    if let Some(api) = &settings.api {
        api_files(api, tools, &mut files);
    }
    if let Some(payments) = &settings.payments {
        payments_files(payments, tools, &mut files);
    }
    files
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

fn service(name: &str, namespace: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {namespace}\n\
         spec:\n  selector:\n    app: {labels}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n"
    )
}

fn shop_files(shop: &Shop, files: &mut Files) {
    let dir = SHOP_PATH;
    files.insert(format!("{dir}/namespace.yaml"), namespace("shop"));
    files.insert(
        format!("{dir}/deployment.yaml"),
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: storefront
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: storefront
  template:
    metadata:
      labels:
        app: storefront
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef:
            name: {config}
        - secretRef:
            name: shop-db
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
",
            replicas = shop.replicas,
            image = shop.image,
            config = shop.config_name,
        ),
    );
    files.insert(
        format!("{dir}/service.yaml"),
        service("storefront", "shop", "storefront"),
    );
    // The broken commit misses the closing quote of the banner.
    let quote = if shop.broken_yaml { "" } else { "\"" };
    files.insert(
        format!("{dir}/config.yaml"),
        format!(
            "apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-settings
  namespace: shop
data:
  CACHE_TTL_SECONDS: \"{ttl}\"
  BANNER: \"{banner}{quote}
  CURRENCY: EUR
",
            ttl = shop.cache_ttl,
            banner = shop.banner,
        ),
    );
    // A made-up password for the demo: it shows as *** in driftdeck.
    files.insert(
        format!("{dir}/secret.yaml"),
        "apiVersion: v1
kind: Secret
metadata:
  name: shop-db
  namespace: shop
type: Opaque
stringData:
  DB_USER: shop
  DB_PASSWORD: correct-horse-battery-staple
"
        .into(),
    );
    if shop.legacy {
        files.insert(
            format!("{dir}/legacy.yaml"),
            "apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-legacy
  namespace: shop
data:
  CHECKOUT: v1
"
            .into(),
        );
    }
}

fn api_deployment(api: &Api, image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: api
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: orders
  template:
    metadata:
      labels:
        app: orders
    spec:
      containers:
      - name: orders
        image: {image}
        ports:
        - containerPort: 8080
        env:
        - name: LOG_LEVEL
          value: {log}
        - name: POOL_SIZE
          value: \"{pool}\"
",
        log = api.log_level,
        pool = api.pool_size,
    )
}

fn api_files(api: &Api, tools: Tools, files: &mut Files) {
    if !tools.kustomize {
        let dir = API_PATH;
        files.insert(format!("{dir}/namespace.yaml"), namespace("api"));
        let image = format!("ghcr.io/example/orders:{}", api.tag);
        files.insert(
            format!("{dir}/deployment.yaml"),
            api_deployment(api, &image, api.replicas),
        );
        files.insert(
            format!("{dir}/service.yaml"),
            service("orders", "api", "orders"),
        );
        return;
    }
    // The base runs one replica of the last tag it was written with; the
    // prod overlay says what prod runs.
    let base = "apps/api/base";
    files.insert(format!("{base}/namespace.yaml"), namespace("api"));
    files.insert(
        format!("{base}/deployment.yaml"),
        api_deployment(api, "ghcr.io/example/orders:1.7.0", 1),
    );
    files.insert(
        format!("{base}/service.yaml"),
        service("orders", "api", "orders"),
    );
    files.insert(
        format!("{base}/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- namespace.yaml
- deployment.yaml
- service.yaml
"
        .into(),
    );
    files.insert(
        format!("{API_PATH}/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- overlays/prod
"
        .into(),
    );
    files.insert(
        format!("{API_PATH}/overlays/prod/kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
images:
- name: ghcr.io/example/orders
  newTag: \"{tag}\"
replicas:
- name: orders
  count: {replicas}
",
            tag = api.tag,
            replicas = api.replicas,
        ),
    );
}

fn payments_deployment(payments: &Payments, namespace: &str, replicas: &str, tag: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
  namespace: {namespace}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: gateway
  template:
    metadata:
      labels:
        app: gateway
    spec:
      containers:
      - name: gateway
        image: ghcr.io/example/payments-gateway:{tag}
        ports:
        - containerPort: 8080
        resources:
          limits:
            memory: {memory}
",
        memory = payments.memory,
    )
}

fn payments_files(payments: &Payments, tools: Tools, files: &mut Files) {
    let dir = PAYMENTS_PATH;
    if !tools.helm {
        files.insert(format!("{dir}/namespace.yaml"), namespace("payments"));
        files.insert(
            format!("{dir}/deployment.yaml"),
            payments_deployment(
                payments,
                "payments",
                &payments.replicas.to_string(),
                &payments.tag,
            ),
        );
        files.insert(
            format!("{dir}/service.yaml"),
            service("gateway", "payments", "gateway"),
        );
        return;
    }
    files.insert(
        format!("{dir}/Chart.yaml"),
        "apiVersion: v2\nname: payments\ndescription: The payment gateway\nversion: 0.3.0\nappVersion: \"2.4\"\n"
            .into(),
    );
    files.insert(
        format!("{dir}/values.yaml"),
        format!(
            "replicas: {}\nimage:\n  tag: \"{}\"\n",
            payments.replicas, payments.tag
        ),
    );
    files.insert(
        format!("{dir}/templates/namespace.yaml"),
        namespace("{{ .Release.Namespace }}"),
    );
    files.insert(
        format!("{dir}/templates/deployment.yaml"),
        payments_deployment(
            payments,
            "{{ .Release.Namespace }}",
            "{{ .Values.replicas }}",
            "{{ .Values.image.tag }}",
        ),
    );
    files.insert(
        format!("{dir}/templates/service.yaml"),
        service("gateway", "{{ .Release.Namespace }}", "gateway"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::scenario::first_settings;

    const ALL_TOOLS: Tools = Tools {
        helm: true,
        kustomize: true,
    };

    #[test]
    fn the_tools_decide_the_shape_of_api_and_payments() {
        let settings = crate::demo::scenario::script(ALL_TOOLS)
            .last()
            .unwrap()
            .settings
            .clone();
        let with = files(&settings, ALL_TOOLS);
        assert!(with.contains_key("apps/api/overlays/prod/kustomization.yaml"));
        assert!(with.contains_key("apps/payments/Chart.yaml"));
        let none = Tools {
            helm: false,
            kustomize: false,
        };
        let without = files(&settings, none);
        assert!(!without.keys().any(|path| path.contains("kustomization")));
        assert!(!without.contains_key("apps/payments/Chart.yaml"));
        assert!(without.contains_key("apps/payments/deployment.yaml"));
    }

    #[test]
    fn the_broken_settings_name_a_config_map_that_does_not_parse() {
        let mut shop = first_settings().shop;
        shop.broken_yaml = true;
        shop.config_name = "shop-config".into();
        let settings = Settings {
            shop,
            api: None,
            payments: None,
        };
        let files = files(&settings, ALL_TOOLS);
        let config = &files["apps/shop/config.yaml"];
        assert!(
            config.contains("BANNER: \"") && !config.contains("\"\n  CURRENCY"),
            "{config}"
        );
    }
}
