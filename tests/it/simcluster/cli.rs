//! `driftdeck sim`, the built binary: the kubeconfig it prints or writes is
//! used as is by kube-rs and kubectl, Ctrl-C stops it and saves its state.

use std::process::Stdio;
use std::time::Duration;

use kube::api::{Api, DynamicObject, PostParams};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::support::{kubectl, object, within_timeout};

fn driftdeck() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
    command.kill_on_drop(true);
    command
}

/// Sends Ctrl-C to the child and waits for it to exit.
async fn interrupt(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().expect("the child runs").to_string();
    let sent = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("driftdeck sim stops on Ctrl-C")
        .unwrap()
}

#[tokio::test]
async fn driftdeck_sim_writes_a_kubeconfig_clients_use_as_is_and_saves_state_on_ctrl_c() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let state = dir.path().join("state.json");
        let mut child = driftdeck()
            .arg("sim")
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .arg("--state")
            .arg(&state)
            .arg("--no-controllers")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let banner = stderr.next_line().await.unwrap().unwrap();
        assert!(banner.starts_with("simulated cluster at http://127.0.0.1:"), "{banner}");

        let config = Config::from_custom_kubeconfig(Kubeconfig::read_from(&kubeconfig).unwrap(), &KubeConfigOptions::default())
            .await
            .unwrap();
        assert_eq!(config.default_namespace, "default");
        let client = kube::Client::try_from(config).unwrap();
        let ar = super::support::resource(&client, "ConfigMap").await;
        let maps: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
        maps.create(
            &PostParams::default(),
            &object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "remember-me"}})),
        )
        .await
        .unwrap();
        match kubectl() {
            Some(binary) => {
                let listed = Command::new(binary)
                    .arg("--kubeconfig")
                    .arg(&kubeconfig)
                    .arg("--cache-dir")
                    .arg(dir.path().join("cache"))
                    .args(["get", "configmaps", "-o", "name"])
                    .env("HOME", dir.path())
                    .output()
                    .await
                    .unwrap();
                assert!(String::from_utf8_lossy(&listed.stdout).contains("configmap/remember-me"));
            }
            None => eprintln!("kubectl 1.33 is not installed: checked the kubeconfig with kube-rs only"),
        }

        let status = interrupt(child).await;
        assert!(status.success(), "{status:?}");
        let saved = std::fs::read_to_string(&state).unwrap();
        assert!(saved.contains("remember-me"));
    })
    .await;
}

#[tokio::test]
async fn driftdeck_sim_prints_its_kubeconfig_on_stdout() {
    within_timeout(async {
        let mut child = driftdeck()
            .args(["sim", "--no-controllers"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = String::new();
        while let Some(line) = stdout.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("preferences") {
                break;
            }
        }
        let kubeconfig = Kubeconfig::from_yaml(&printed).unwrap();
        assert_eq!(kubeconfig.current_context.as_deref(), Some("driftdeck-sim"));
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let version = client.apiserver_version().await.unwrap();
        assert_eq!(
            (version.major.as_str(), version.minor.as_str()),
            ("1", "33")
        );
        assert!(interrupt(child).await.success());
    })
    .await;
}

#[tokio::test]
async fn driftdeck_sim_refuses_a_state_file_it_cannot_read() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        std::fs::write(&state, "[]").unwrap();
        let output = driftdeck()
            .arg("sim")
            .arg("--state")
            .arg(&state)
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(
            message.contains("state.json") && message.contains("not valid"),
            "{message}"
        );
    })
    .await;
}
