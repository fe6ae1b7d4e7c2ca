//! Git: where an app's desired state comes from.

mod work_tree;

pub use work_tree::offer_work_tree_app;
