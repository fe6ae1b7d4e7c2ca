#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Desired state: `driftdeck check` on the corpus of broken manifests, on
//! hostile inputs, on kustomize and helm folders through the real tools, at
//! Git revisions; and a bounded fuzz run of the loader.

#[path = "manifests/support.rs"]
pub(crate) mod support;

#[path = "manifests/corpus.rs"]
mod corpus;
#[path = "manifests/fuzz.rs"]
mod fuzz;
#[path = "manifests/hostile.rs"]
mod hostile;
#[path = "manifests/overlays.rs"]
mod overlays;
#[path = "manifests/render.rs"]
mod render;

#[path = "manifests/revisions.rs"]
mod revisions;
