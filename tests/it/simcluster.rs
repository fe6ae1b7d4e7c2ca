#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The simulated cluster through real clients: kube-rs over HTTP and the
//! real kubectl 1.33, as users' tools would talk to a cluster.

#[path = "simcluster/support.rs"]
pub(crate) mod support;

#[path = "simcluster/kube_client.rs"]
mod kube_client;

#[path = "simcluster/apply.rs"]
mod apply;

#[path = "simcluster/watch.rs"]
mod watch;

#[path = "simcluster/crd.rs"]
mod crd;

#[path = "simcluster/controllers.rs"]
mod controllers;

#[path = "simcluster/faults.rs"]
mod faults;

#[path = "simcluster/state.rs"]
mod state;

#[path = "simcluster/kubectl.rs"]
mod kubectl;

#[path = "simcluster/kubectl_verbs.rs"]
mod kubectl_verbs;

#[path = "simcluster/protobuf.rs"]
mod protobuf;

#[path = "simcluster/cli.rs"]
mod cli;
