//! The walk over a desired/live pair that applies the drift rules
//! (`compare.rs`) field by field, recording each change.

use serde_json::{Map, Value};

use super::evidence::Evidence;
use super::field_change::{ChangeKind, FieldChange};
use super::field_path::{self, Item, Locator, Segment, is_quantity_path};
use super::lookup::field;
use super::merge_keys::{ListKind, list_kind, same_key};
use super::normalize::Normalization;
use super::value_eq::{is_empty_like, scalars_equal, values_equal};

/// One walk over a desired/live pair. Each step returns what the live value
/// becomes after a sync when `build` is set (`None`: the field goes away),
/// and nothing otherwise, so a pair in sync costs no copies.
pub(super) struct Walk<'a, 'v> {
    rules: &'a Normalization<'a>,
    evidence: &'a Evidence<'a>,
    build: bool,
    /// Where the walk is; field names borrow from the objects.
    path: Vec<Segment<'v>>,
    /// Where the path is in driftdeck's field sets, level by level, as deep
    /// as evidence was last asked for, so that each level is looked up once:
    /// the nodes for `path[..i]` start at `owned_levels[i]` in `owned_nodes`.
    owned_nodes: Vec<&'a Value>,
    owned_levels: Vec<usize>,
    pub(super) changes: Vec<FieldChange>,
}

impl<'a, 'v> Walk<'a, 'v> {
    pub(super) fn new(
        rules: &'a Normalization<'a>,
        evidence: &'a Evidence<'a>,
        build: bool,
    ) -> Self {
        Walk {
            rules,
            evidence,
            build,
            path: Vec::new(),
            owned_nodes: evidence.owned_roots().to_vec(),
            owned_levels: vec![0],
            changes: Vec::new(),
        }
    }

    fn enter(&mut self, segment: Segment<'v>) {
        self.path.push(segment);
    }

    fn leave(&mut self) {
        self.path.pop();
        if let Some(&cut) = self.owned_levels.get(self.path.len() + 1) {
            self.owned_levels.truncate(self.path.len() + 1);
            self.owned_nodes.truncate(cut);
        }
    }

    /// Whether Git once set the field being walked.
    fn has_evidence(&mut self) -> bool {
        while self.owned_levels.len() <= self.path.len() {
            let depth = self.owned_levels.len() - 1;
            let (start, end) = (self.owned_levels[depth], self.owned_nodes.len());
            self.owned_levels.push(end);
            for index in start..end {
                if let Some(child) =
                    Evidence::owned_child(self.owned_nodes[index], &self.path[depth])
                {
                    self.owned_nodes.push(child);
                }
            }
        }
        let owned = self.owned_nodes.len() > self.owned_levels[self.path.len()];
        self.evidence.has_at(&self.path, owned)
    }

    fn keep(&self, value: &Value) -> Option<Value> {
        self.build.then(|| value.clone())
    }

    fn record(&mut self, change: ChangeKind, live: Option<&Value>, desired: Option<&Value>) {
        self.record_by(change, live, desired, None);
    }

    fn record_by(
        &mut self,
        change: ChangeKind,
        live: Option<&Value>,
        desired: Option<&Value>,
        by_hand: Option<&str>,
    ) {
        self.changes.push(FieldChange {
            pointer: field_path::pointer(&self.path),
            path: field_path::display(&self.path),
            change,
            live: live.cloned(),
            desired: desired.cloned(),
            by_hand: by_hand.map(str::to_string),
        });
    }

    /// The name of the field being walked, for list rules.
    fn field_name(&self) -> &str {
        match self.path.last() {
            Some(Segment::Field(name)) => name,
            _ => "",
        }
    }

    /// A value Git sets (or leaves empty, which means unset) against live.
    pub(super) fn both(&mut self, desired: &'v Value, live: &'v Value) -> Option<Value> {
        if is_empty_like(desired) {
            return self.live_only(live);
        }
        match (desired, live) {
            (_, Value::Null) => self.desired_only(desired),
            (Value::Object(d), Value::Object(l)) => self.maps(Some(d), l),
            (Value::Array(d), Value::Array(l)) => self.lists(d, l),
            _ => {
                if scalars_equal(desired, live, is_quantity_path(&self.path)) {
                    self.keep(live)
                } else {
                    self.record(ChangeKind::Changed, Some(live), Some(desired));
                    self.keep(desired)
                }
            }
        }
    }

    /// A value only Git has.
    fn desired_only(&mut self, desired: &Value) -> Option<Value> {
        if is_empty_like(desired) {
            return None;
        }
        self.record(ChangeKind::Added, None, Some(desired));
        self.keep(desired)
    }

    /// A value only live has: drift only where there is evidence.
    fn live_only(&mut self, live: &'v Value) -> Option<Value> {
        if is_empty_like(live) {
            return self.keep(live);
        }
        match live {
            Value::Object(map) => {
                // A field Git set has every parent in the evidence too.
                if self.rules.has_rules_below(&self.path)
                    || self.has_evidence()
                    || self.evidence.set_by_hand(&self.path).is_some()
                {
                    self.maps(None, map)
                } else {
                    self.keep(live)
                }
            }
            Value::Array(items) => match list_kind(self.field_name(), &[], items) {
                ListKind::Keyed(fields) => self.keyed_lists(fields, &[], items),
                ListKind::Set => self.sets(&[], items),
                ListKind::Atomic => self.live_only_leaf(live),
            },
            _ => self.live_only_leaf(live),
        }
    }

    /// A scalar, an atomic list or a list item only live has.
    /// A field set by hand counts even without evidence that Git set it.
    fn live_only_leaf(&mut self, live: &'v Value) -> Option<Value> {
        let by_hand = self.evidence.set_by_hand(&self.path);
        if by_hand.is_some() || self.has_evidence() {
            self.record_by(ChangeKind::Removed, Some(live), None, by_hand);
            None
        } else {
            self.keep(live)
        }
    }

    fn maps(
        &mut self,
        desired: Option<&'v Map<String, Value>>,
        live: &'v Map<String, Value>,
    ) -> Option<Value> {
        let mut after = Map::new();
        for (key, live_value) in live {
            if self.rules.is_ignored(&self.path, key) {
                continue;
            }
            self.enter(Segment::Field(key));
            let kept = match desired.and_then(|d| field(d, key)) {
                Some(desired_value) => self.both(desired_value, live_value),
                None => self.live_only(live_value),
            };
            self.leave();
            if let Some(value) = kept {
                after.insert(key.clone(), value);
            }
        }
        for (key, desired_value) in desired.into_iter().flatten() {
            if field(live, key).is_some() || self.rules.is_ignored(&self.path, key) {
                continue;
            }
            self.enter(Segment::Field(key));
            let added = self.desired_only(desired_value);
            self.leave();
            if let Some(value) = added {
                after.insert(key.clone(), value);
            }
        }
        self.build.then_some(Value::Object(after))
    }

    fn lists(&mut self, desired: &'v [Value], live: &'v [Value]) -> Option<Value> {
        match list_kind(self.field_name(), desired, live) {
            ListKind::Keyed(fields) => self.keyed_lists(fields, desired, live),
            ListKind::Set => self.sets(desired, live),
            ListKind::Atomic if desired.len() == live.len() => {
                let mut after = Vec::new();
                for (index, (d, l)) in desired.iter().zip(live).enumerate() {
                    self.enter(Segment::Item(Item {
                        locator: Locator::Position(index),
                        live_index: Some(index),
                        desired_index: Some(index),
                    }));
                    let kept = self.both(d, l);
                    self.leave();
                    after.push(kept.unwrap_or(Value::Null));
                }
                self.build.then_some(Value::Array(after))
            }
            ListKind::Atomic if live.is_empty() => {
                self.desired_only(&Value::from(desired.to_vec()))
            }
            ListKind::Atomic => {
                let (live, desired) = (Value::from(live.to_vec()), Value::from(desired.to_vec()));
                self.record(ChangeKind::Changed, Some(&live), Some(&desired));
                self.keep(&desired)
            }
        }
    }

    /// Items pair by key; live order is kept and Git's new items go last.
    fn keyed_lists(
        &mut self,
        fields: &'static [&'static str],
        desired: &'v [Value],
        live: &'v [Value],
    ) -> Option<Value> {
        let mut paired = vec![false; desired.len()];
        let mut after = Vec::new();
        for (live_index, live_item) in live.iter().enumerate() {
            let desired_index = desired
                .iter()
                .position(|desired_item| same_key(fields, desired_item, live_item));
            self.enter(Segment::Item(Item {
                locator: Locator::Keyed {
                    fields,
                    item: live_item,
                },
                live_index: Some(live_index),
                desired_index,
            }));
            let kept = match desired_index {
                Some(index) => {
                    paired[index] = true;
                    self.both(&desired[index], live_item)
                }
                None => self.live_only_leaf(live_item),
            };
            self.leave();
            after.extend(kept);
        }
        for (desired_index, desired_item) in desired.iter().enumerate() {
            if paired[desired_index] {
                continue;
            }
            self.enter(Segment::Item(Item {
                locator: Locator::Keyed {
                    fields,
                    item: desired_item,
                },
                live_index: None,
                desired_index: Some(desired_index),
            }));
            after.extend(self.desired_only(desired_item));
            self.leave();
        }
        self.build.then_some(Value::Array(after))
    }

    /// Scalars as a set: order does not matter.
    fn sets(&mut self, desired: &'v [Value], live: &'v [Value]) -> Option<Value> {
        let mut after = Vec::new();
        for (live_index, member) in live.iter().enumerate() {
            let desired_index = desired.iter().position(|d| values_equal(d, member));
            self.enter(Segment::Item(Item {
                locator: Locator::Member(member),
                live_index: Some(live_index),
                desired_index,
            }));
            let kept = match desired_index {
                Some(_) => self.keep(member),
                None => self.live_only_leaf(member),
            };
            self.leave();
            after.extend(kept);
        }
        for (desired_index, member) in desired.iter().enumerate() {
            if live.iter().any(|l| values_equal(l, member)) {
                continue;
            }
            self.enter(Segment::Item(Item {
                locator: Locator::Member(member),
                live_index: None,
                desired_index: Some(desired_index),
            }));
            after.extend(self.desired_only(member));
            self.leave();
        }
        self.build.then_some(Value::Array(after))
    }
}
