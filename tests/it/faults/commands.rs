//! `driftdeck status` against a cluster that throttles, fails or hangs: it
//! gives up within its request timeout and exits 2 with the cause.

use std::time::Duration;

use super::sim::within_timeout;
use super::world::{Run, World};

/// The world's config with a short request timeout.
fn with_request_timeout(world: &World, timeout: &str) {
    let file = world.path("config.toml");
    let config = std::fs::read_to_string(&file).unwrap();
    let config = format!("[cluster]\nrequest_timeout = \"{timeout}\"\n\n{config}");
    std::fs::write(file, config).unwrap();
}

fn assert_unknown_with_cause(run: &Run, cause: &str) {
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.starts_with("app \"shop\": state unknown: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(cause), "{}", run.stderr);
}

#[tokio::test]
async fn status_against_a_hung_server_gives_up_at_the_timeout_and_exits_2() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        with_request_timeout(&world, "2s");
        world.sim.faults().set_latency(Duration::from_secs(600));
        let run = world.driftdeck(&["status"]).await;
        assert_unknown_with_cause(&run, "no answer within 2 s");
    })
    .await;
}

#[tokio::test]
async fn status_under_throttling_exits_2_naming_the_429() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        with_request_timeout(&world, "3s");
        world
            .sim
            .faults()
            .throttle_requests(1.0, Duration::from_secs(1))
            .unwrap();
        let run = world.driftdeck(&["status"]).await;
        assert_unknown_with_cause(&run, "429");
        let served = world.sim.metrics().snapshot().count("get", "discovery");
        assert!(
            served > 1,
            "the read was asked again, as the server said: {served}"
        );
    })
    .await;
}

#[tokio::test]
async fn status_against_an_unavailable_server_exits_2_naming_the_503() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        with_request_timeout(&world, "2s");
        world.sim.faults().fail_requests(1.0, 503).unwrap();
        let run = world.driftdeck(&["status", "-o", "json"]).await;
        assert_unknown_with_cause(&run, "503");
        let reports: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(reports[0]["status"], "Unknown");
    })
    .await;
}
