//! The demo's story as data: who committed what and when, at which commit
//! each app was deployed, what was changed by hand, and what the background
//! team does next. Pure; `repo.rs` and `cluster.rs` carry it out.

use serde_json::{Value, json};

use super::manifests::{Api, Payments, Settings, Shop, Tools};

/// A person committing to the demo repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Author {
    pub name: &'static str,
    pub email: &'static str,
    /// Signs commits with the demo's throwaway key.
    pub signs: bool,
}

pub const ADA: Author = Author {
    name: "Ada Lovelace",
    email: "ada@shop.example",
    signs: true,
};
pub const GRACE: Author = Author {
    name: "Grace Hopper",
    email: "grace@shop.example",
    signs: true,
};
pub const ALAN: Author = Author {
    name: "Alan Turing",
    email: "alan@shop.example",
    signs: false,
};

/// One commit of the scripted history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub author: Author,
    pub message: String,
    /// How long before the demo starts it was made.
    pub minutes_ago: u32,
    /// The apps after it.
    pub settings: Settings,
}

/// The demo's apps, in the order the Apps pane lists them first.
pub const APPS: [&str; 3] = ["shop", "api", "payments"];

/// At which commit of `script` (an index) each app was last synced: `shop`
/// and `api` one or two commits behind, `payments` at the head.
pub fn deployed_at(app: &str, script_len: usize) -> usize {
    match app {
        "payments" => script_len - 1,
        _ => script_len - 3,
    }
}

/// The settings of the first commit.
pub fn first_settings() -> Settings {
    Settings {
        shop: Shop {
            image: "nginx:1.27.2".into(),
            replicas: 2,
            cache_ttl: 60,
            banner: "Spring sale: 20% off".into(),
            config_name: "shop-settings".into(),
            legacy: true,
            broken_yaml: false,
        },
        api: None,
        payments: None,
    }
}

/// The scripted history, oldest first: 14 commits over nine days by three
/// people, with a commit that breaks the shop's YAML and a reference, and
/// its fix.
pub fn script(tools: Tools) -> Vec<Commit> {
    let mut settings = first_settings();
    let mut commits = Vec::new();
    let mut commit = |author, minutes_ago, message: &str, settings: &Settings| {
        commits.push(Commit {
            author,
            message: message.to_string(),
            minutes_ago,
            settings: settings.clone(),
        });
    };
    const DAY: u32 = 24 * 60;
    commit(
        ADA,
        9 * DAY,
        "shop: storefront deployment, service and settings",
        &settings,
    );
    settings.api = Some(Api {
        tag: "1.7.0".into(),
        replicas: 1,
        log_level: "debug".into(),
        pool_size: 10,
    });
    let api_message = if tools.kustomize {
        "api: kustomize base for the orders service"
    } else {
        "api: the orders service (plain YAML: no kustomize here)"
    };
    commit(GRACE, 8 * DAY + 300, api_message, &settings);
    set_api(&mut settings, |api| api.replicas = 3);
    commit(
        GRACE,
        8 * DAY,
        "api: prod overlay with three replicas",
        &settings,
    );
    settings.payments = Some(Payments {
        tag: "2.4.0".into(),
        replicas: 2,
        memory: "128Mi".into(),
    });
    let payments_message = if tools.helm {
        "payments: helm chart for the payment gateway"
    } else {
        "payments: the payment gateway (plain YAML: no helm here)"
    };
    commit(ALAN, 7 * DAY, payments_message, &settings);
    settings.shop.cache_ttl = 300;
    commit(
        ADA,
        6 * DAY,
        "shop: cache the catalogue for five minutes",
        &settings,
    );
    set_payments(&mut settings, |p| p.memory = "256Mi".into());
    commit(
        ALAN,
        5 * DAY,
        "payments: 256Mi memory limit after OOM kills",
        &settings,
    );
    set_api(&mut settings, |api| api.log_level = "info".into());
    commit(GRACE, 4 * DAY, "api: log level info in prod", &settings);
    settings.shop.broken_yaml = true;
    settings.shop.config_name = "shop-config".into();
    commit(
        ALAN,
        3 * DAY,
        "shop: settings read from shop-config",
        &settings,
    );
    settings.shop.broken_yaml = false;
    settings.shop.config_name = "shop-settings".into();
    commit(
        ADA,
        3 * DAY - 25,
        "shop: fix the settings' YAML and the ConfigMap's name",
        &settings,
    );
    settings.shop.image = "nginx:1.27.3".into();
    commit(ADA, 2 * DAY, "shop: nginx 1.27.3", &settings);
    set_payments(&mut settings, |p| p.replicas = 3);
    commit(
        ALAN,
        DAY + 120,
        "payments: three replicas for the sale",
        &settings,
    );
    set_api(&mut settings, |api| {
        api.tag = "1.8.0".into();
        api.pool_size = 20;
    });
    commit(
        GRACE,
        20 * 60,
        "api: 1.8.0, a bigger connection pool",
        &settings,
    );
    settings.shop.legacy = false;
    commit(ADA, 5 * 60, "shop: retire the legacy settings", &settings);
    set_api(&mut settings, |api| api.tag = "1.8.1".into());
    commit(
        GRACE,
        2 * 60,
        "api: 1.8.1, fixes the connection pool leak",
        &settings,
    );
    commits
}

fn set_api(settings: &mut Settings, change: impl FnOnce(&mut Api)) {
    if let Some(api) = settings.api.as_mut() {
        change(api);
    }
}

fn set_payments(settings: &mut Settings, change: impl FnOnce(&mut Payments)) {
    if let Some(payments) = settings.payments.as_mut() {
        change(payments);
    }
}

/// A change made in the cluster by hand, as `kubectl edit` makes it: a
/// merge patch under its field manager.
#[derive(Debug, Clone, PartialEq)]
pub struct HandEdit {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespace: &'static str,
    pub name: &'static str,
    pub patch: Value,
}

/// The field manager of `kubectl edit`: driftdeck counts its fields as
/// changed by hand.
pub const HAND_MANAGER: &str = "kubectl-edit";

/// What someone changed by hand in `shop` before the demo starts: a
/// setting and the database password (a Secret, shown masked).
pub fn hand_edits() -> Vec<HandEdit> {
    vec![
        HandEdit {
            api_version: "v1",
            kind: "ConfigMap",
            namespace: "shop",
            name: "shop-settings",
            patch: json!({"data": {"CACHE_TTL_SECONDS": "5"}}),
        },
        HandEdit {
            api_version: "v1",
            kind: "Secret",
            namespace: "shop",
            name: "shop-db",
            // "hunter2", base64.
            patch: json!({"data": {"DB_PASSWORD": "aHVudGVyMg=="}}),
        },
    ]
}

/// What the background team does next.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamMove {
    Commit(Commit),
    HandEdit(HandEdit),
}

/// The team's `turn`-th move (from 0) on top of `settings`: mostly
/// believable commits (image bumps, replicas, settings), every third turn a
/// change by hand in the cluster.
pub fn team_move(turn: u64, settings: &Settings) -> TeamMove {
    let mut next = settings.clone();
    let round = turn / 6 + 1;
    match turn % 6 {
        0 => {
            next.shop.banner = [
                "Free delivery this week",
                "New arrivals",
                "Spring sale: 20% off",
            ][(round % 3) as usize]
                .into();
            team_commit(ADA, "shop: new storefront banner", next)
        }
        1 => {
            set_api(&mut next, |api| api.tag = format!("1.8.{}", round + 1));
            let tag = next.api.as_ref().map_or(String::new(), |a| a.tag.clone());
            team_commit(GRACE, &format!("api: {tag}"), next)
        }
        2 => TeamMove::HandEdit(HandEdit {
            api_version: "apps/v1",
            kind: "Deployment",
            namespace: "payments",
            name: "gateway",
            patch: json!({"spec": {"replicas": 5 + (round % 3)}}),
        }),
        3 => {
            set_payments(&mut next, |p| p.replicas = 2 + ((round + 1) % 3) as u32);
            team_commit(ALAN, "payments: replicas for the expected load", next)
        }
        4 => {
            next.shop.cache_ttl = [600, 120, 300][(round % 3) as usize];
            team_commit(ADA, "shop: cache TTL tuned", next)
        }
        _ => TeamMove::HandEdit(HandEdit {
            api_version: "v1",
            kind: "ConfigMap",
            namespace: "shop",
            name: "shop-settings",
            patch: json!({"data": {"BANNER": "Closed for maintenance"}}),
        }),
    }
}

fn team_commit(author: Author, message: &str, settings: Settings) -> TeamMove {
    TeamMove::Commit(Commit {
        author,
        message: message.to_string(),
        minutes_ago: 0,
        settings,
    })
}

/// How long the team waits before its `turn`-th move: 20 to 40 s, the same
/// on every run, scaled by `scale` (the demo's env var makes it shorter).
pub fn team_pause(turn: u64, base_secs: u64) -> std::time::Duration {
    // A cheap spread over the range, so the moves do not tick like a clock.
    let spread = (turn.wrapping_mul(7919) % 21) * base_secs / 20;
    std::time::Duration::from_millis((base_secs + spread) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::manifests::files;

    const TOOLS: Tools = Tools {
        helm: true,
        kustomize: true,
    };

    #[test]
    fn the_history_is_believable() {
        let script = script(TOOLS);
        assert!((10..=20).contains(&script.len()), "{}", script.len());
        let authors: std::collections::BTreeSet<_> = script.iter().map(|c| c.author.name).collect();
        assert!((2..=3).contains(&authors.len()));
        assert!(script.iter().any(|c| c.author.signs));
        assert!(script.iter().any(|c| !c.author.signs));
        // Oldest first, every commit changes a file.
        for pair in script.windows(2) {
            assert!(pair[0].minutes_ago > pair[1].minutes_ago, "{pair:?}");
            assert_ne!(
                files(&pair[0].settings, TOOLS),
                files(&pair[1].settings, TOOLS)
            );
        }
        // One commit breaks the YAML and the next fixes it.
        let broken: Vec<usize> = (0..script.len())
            .filter(|&i| script[i].settings.shop.broken_yaml)
            .collect();
        assert_eq!(broken.len(), 1);
        assert_ne!(script[broken[0]].settings.shop.config_name, "shop-settings");
    }

    #[test]
    fn shop_and_api_are_deployed_behind_their_head_and_payments_at_it() {
        let script = script(TOOLS);
        let head = script.last().unwrap();
        let shop = &script[deployed_at("shop", script.len())].settings;
        assert!(
            shop.shop.legacy && !head.settings.shop.legacy,
            "an Extra to prune"
        );
        let api = &script[deployed_at("api", script.len())].settings;
        assert_ne!(api.api, head.settings.api, "a pending commit");
        let payments = &script[deployed_at("payments", script.len())].settings;
        assert_eq!(payments.payments, head.settings.payments);
    }

    #[test]
    fn the_team_commits_changes_and_edits_by_hand() {
        let mut settings = script(TOOLS).pop().unwrap().settings;
        let (mut commits, mut edits) = (0, 0);
        for turn in 0..12 {
            match team_move(turn, &settings) {
                TeamMove::Commit(commit) => {
                    assert!(
                        files(&commit.settings, TOOLS) != files(&settings, TOOLS),
                        "turn {turn} changes nothing"
                    );
                    settings = commit.settings;
                    commits += 1;
                }
                TeamMove::HandEdit(_) => edits += 1,
            }
            let pause = team_pause(turn, 20);
            assert!((20..=40).contains(&pause.as_secs()), "{pause:?}");
        }
        assert_eq!((commits, edits), (8, 4));
    }
}
