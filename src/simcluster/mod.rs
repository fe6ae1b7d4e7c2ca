//! The simulated cluster: an in-process HTTP server that speaks the
//! Kubernetes API well enough for kube-rs and kubectl (discovery, the verbs,
//! server-side apply with managed fields, server defaults, watches, CRDs,
//! simulated controllers), with faults to inject and requests counted. It
//! exists for the demo and the tests; it depends on nothing else of ours.

mod apply;
mod catalog;
mod defaults;
mod fieldset;
mod lifecycle;
mod managed_fields;
mod patch;
mod quantity;
mod schema;
mod selectors;
mod status;
mod store;
mod strategy;
mod validation;
