//! The apps' inventories in the context task: each app's ConfigMap
//! carries its label, so the label watch of ConfigMaps brings it (no
//! polling, no watch of its own); the objects it lists are wanted like
//! those Git names, so that they are seen once their label is gone.

use std::collections::HashSet;

use super::{Context, Slot};
use crate::cluster::LiveStore;
use crate::engine::assess::live_queries;
use crate::resource::ResourceKey;
use crate::sync::{Inventory, inventory};

impl Slot {
    /// What to find live by name: what the desired state names and the
    /// objects the app's inventory lists.
    pub(super) fn set_wanted(&mut self) {
        let Some((_, checked)) = &self.desired else {
            return;
        };
        let (mut wanted, pods) = live_queries(checked);
        let mut keys: HashSet<ResourceKey> = wanted.iter().map(|w| w.key.clone()).collect();
        for listed in self.inventory.wanted() {
            if keys.insert(listed.key.clone()) {
                wanted.push(listed);
            }
        }
        self.wanted_keys = keys;
        self.wanted = wanted;
        self.pod_queries = pods;
    }
}

impl Context {
    /// Takes in the inventories among the changed objects. True when an
    /// app now lists other objects: watches to start or stop.
    pub(super) fn take_inventories(&mut self, changed: &[ResourceKey], store: &LiveStore) -> bool {
        let mut lists_changed = false;
        for slot in self.apps.values_mut() {
            let key = inventory::key_of(&slot.config);
            if !changed.contains(&key) {
                continue;
            }
            let (read, unreadable) = store
                .object(&key)
                .map(|object| Inventory::from_object(&object))
                .unwrap_or_default();
            if !unreadable.is_empty() {
                tracing::warn!(app = %slot.config.name, inventory = %key, lines = ?unreadable,
                    "inventory lines that cannot be read are left out");
            }
            if read.objects != slot.inventory.objects {
                slot.inventory = read;
                slot.set_wanted();
                lists_changed = true;
            } else {
                slot.inventory = read;
            }
        }
        lists_changed
    }
}
