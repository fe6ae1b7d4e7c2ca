//! The same object defined twice: the cluster would get only one of them.

use std::collections::HashMap;

use crate::manifests::DesiredObject;
use crate::manifests::problems::{Problem, Problems, Severity};

pub(super) fn check(objects: &[DesiredObject], problems: &mut Problems) {
    let mut first_seen = HashMap::with_capacity(objects.len());
    for object in objects {
        if let Some(first) = first_seen.insert(object.id.key(), &object.origin) {
            problems.push(Problem::on_object(
                Severity::Error,
                &object.origin,
                &object.id,
                format!("defined more than once, first at {first}"),
            ));
            // Later copies are reported against the first, not this one.
            first_seen.insert(object.id.key(), first);
        }
    }
}
