//! The order of the Apps and Resources lists: what needs attention first
//! (Unknown, then drifted, then Degraded, then Progressing, then Synced),
//! or by name, or by kind; names in natural number order (`cm-9` before
//! `cm-10`).

use std::cmp::Ordering;

use crate::drift::{AppStatus, Health, ResourceResult, ResourceStatus};
use crate::tui::app_state::AppState;

/// How the lists are sorted; a key cycles through them and the choice is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortMode {
    #[default]
    Attention,
    Name,
    Kind,
}

impl SortMode {
    pub const ALL: [SortMode; 3] = [SortMode::Attention, SortMode::Name, SortMode::Kind];

    pub fn next(self) -> SortMode {
        match self {
            SortMode::Attention => SortMode::Name,
            SortMode::Name => SortMode::Kind,
            SortMode::Kind => SortMode::Attention,
        }
    }

    /// The word in the config, the state file and `:sort`.
    pub fn name(self) -> &'static str {
        match self {
            SortMode::Attention => "attention",
            SortMode::Name => "name",
            SortMode::Kind => "kind",
        }
    }

    pub fn from_name(name: &str) -> Option<SortMode> {
        SortMode::ALL
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(name))
    }
}

/// Compares names as people read them: runs of digits by their value, the
/// rest without regard to case (case breaks ties, so the order is total).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let (n, rest_x) = digits(x);
                let (m, rest_y) = digits(y);
                // Without leading zeros, a longer run is a bigger number.
                let order = n.len().cmp(&m.len()).then_with(|| n.cmp(m));
                if order != Ordering::Equal {
                    return order;
                }
                (x, y) = (rest_x, rest_y);
            }
            (Some(c), Some(d)) => {
                let order = c.to_ascii_lowercase().cmp(&d.to_ascii_lowercase());
                if order != Ordering::Equal {
                    return order;
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

/// A run of digits without its leading zeros, and what follows it.
fn digits(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (run, rest) = text.split_at(end);
    let first = run
        .iter()
        .position(|c| *c != b'0')
        .unwrap_or(run.len().saturating_sub(1));
    (&run[first..], rest)
}

/// How urgently a resource wants a look: lower first.
pub fn resource_rank(resource: &ResourceResult) -> u8 {
    match resource.status {
        ResourceStatus::Unknown => 0,
        ResourceStatus::OutOfSync | ResourceStatus::Missing | ResourceStatus::Extra => 1,
        ResourceStatus::Synced => health_rank(resource.health.status),
    }
}

/// The same for an app: one whose repository cannot be read, or whose state
/// is not known, first; one still waiting for its first verdict last.
pub fn app_rank(app: &AppState) -> u8 {
    if app.source_error().is_some() {
        return 0;
    }
    let Some(report) = &app.report else {
        return 5;
    };
    match report.summary.status {
        AppStatus::Unknown => 0,
        AppStatus::OutOfSync => 1,
        AppStatus::Synced => health_rank(report.summary.health),
    }
}

fn health_rank(health: Health) -> u8 {
    match health {
        Health::Unknown | Health::Degraded => 2,
        Health::Progressing => 3,
        _ => 4,
    }
}

/// The positions of `resources` in the order `mode` asks for.
pub fn sort_resources(resources: &[ResourceResult], mode: SortMode, order: &mut [usize]) {
    order.sort_by(|&i, &j| {
        let (a, b) = (&resources[i], &resources[j]);
        let by_name = || {
            natural_cmp(&a.key.name, &b.key.name).then_with(|| {
                natural_cmp(
                    a.key.namespace.as_deref().unwrap_or_default(),
                    b.key.namespace.as_deref().unwrap_or_default(),
                )
            })
        };
        let by_kind = || natural_cmp(&a.key.kind, &b.key.kind);
        match mode {
            SortMode::Attention => resource_rank(a)
                .cmp(&resource_rank(b))
                .then_with(by_name)
                .then_with(by_kind),
            SortMode::Name => by_name().then_with(by_kind),
            SortMode::Kind => by_kind().then_with(by_name),
        }
    });
}

/// The positions of `apps` in the order `mode` asks for; apps have no kind,
/// so `Kind` orders them by name.
pub fn sort_apps(apps: &[AppState], mode: SortMode, order: &mut [usize]) {
    order.sort_by(|&i, &j| {
        let (a, b) = (&apps[i], &apps[j]);
        let by_name = || natural_cmp(&a.name, &b.name);
        match mode {
            SortMode::Attention => app_rank(a).cmp(&app_rank(b)).then_with(by_name),
            SortMode::Name | SortMode::Kind => by_name(),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::test_support::guestbook_resources;

    #[test]
    fn numbers_in_names_sort_by_value() {
        let mut names = vec!["cm-10", "cm-9", "cm-100", "CM-2", "cm-1", "cm-01", "cm"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["cm", "cm-01", "cm-1", "CM-2", "cm-9", "cm-10", "cm-100"]
        );
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
        assert_ne!(natural_cmp("cm-1", "cm-01"), Ordering::Equal);
    }

    #[test]
    fn attention_puts_drift_first_then_names_in_natural_order() {
        let resources = guestbook_resources();
        let mut order: Vec<usize> = (0..resources.len()).collect();
        sort_resources(&resources, SortMode::Attention, &mut order);
        let shown: Vec<String> = order
            .iter()
            .map(|&i| format!("{} {:?}", resources[i].key.name, resources[i].status))
            .collect();
        assert_eq!(
            shown,
            [
                "data Missing",
                "db OutOfSync",
                "frontend OutOfSync",
                "settings Extra",
                "frontend Synced",
                "guestbook Synced",
            ]
        );
        sort_resources(&resources, SortMode::Kind, &mut order);
        assert_eq!(resources[order[0]].key.kind, "ConfigMap");
    }

    #[test]
    fn sort_modes_cycle_and_read_back_by_name() {
        let mut mode = SortMode::default();
        for expected in [SortMode::Name, SortMode::Kind, SortMode::Attention] {
            mode = mode.next();
            assert_eq!(mode, expected);
            assert_eq!(SortMode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(SortMode::from_name("size"), None);
    }
}
