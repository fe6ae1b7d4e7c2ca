//! Who runs a sync, for the Lease's holder and the audit log: the OS user,
//! the host, and the kubeconfig user of the context.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub user: String,
    pub host: String,
    /// The `user` entry the kubeconfig context names, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_user: Option<String>,
}

impl Operator {
    /// The OS user and host of this process, and the kubeconfig user of
    /// `context` (or of the current context) from `kubeconfig` (or the file
    /// kubectl would read).
    pub fn current(kubeconfig: Option<&Path>, context: Option<&str>) -> Operator {
        let user = ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "unknown".to_string());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        let read = match kubeconfig {
            Some(file) => kube::config::Kubeconfig::read_from(file),
            None => kube::config::Kubeconfig::read(),
        };
        let kube_user = read.ok().and_then(|config| {
            let name = context
                .map(str::to_string)
                .or_else(|| config.current_context.clone())?;
            config
                .contexts
                .iter()
                .find(|c| c.name == name)?
                .context
                .as_ref()?
                .user
                .clone()
        });
        Operator {
            user,
            host,
            kube_user,
        }
    }

    /// `user@host`: the Lease's holder identity.
    pub fn identity(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_user_comes_from_the_contexts_user_entry() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kubeconfig");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context: {cluster: c, user: alice-admin}\n- name: dev\n  context: {cluster: c, user: bob}\nclusters: []\nusers: []\n",
        )
        .unwrap();
        let operator = Operator::current(Some(&file), None);
        assert_eq!(operator.kube_user.as_deref(), Some("alice-admin"));
        assert_eq!(
            Operator::current(Some(&file), Some("dev"))
                .kube_user
                .as_deref(),
            Some("bob")
        );
        assert!(operator.identity().contains('@'));
        assert_eq!(
            Operator::current(Some(&dir.path().join("none")), None).kube_user,
            None
        );
    }
}
