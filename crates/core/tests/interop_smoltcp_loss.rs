//! Interop with smoltcp through loss (2%), and through loss, duplication
//! and reordering with jitter: bulk transfer each way stays byte-exact,
//! both sides retransmit, and the connection still closes completely.
//! The harness is in `interop/mod.rs`.

mod interop;
mod support;

use interop::{check, run, OurRole, Scenario};

#[test]
fn smoltcp_client_to_our_server_with_loss() {
    let scenario = Scenario {
        our_role: OurRole::Server,
        bytes_each_way: 1_100_000,
        loss: 0.02,
        duplicate: 0.0,
        reorder: 0.0,
        seed: 3,
    };
    let out = run(&scenario);
    check(&scenario, out);
}

#[test]
fn our_client_to_smoltcp_server_with_loss() {
    let scenario = Scenario {
        our_role: OurRole::Client,
        bytes_each_way: 1_100_000,
        loss: 0.02,
        duplicate: 0.0,
        reorder: 0.0,
        seed: 4,
    };
    let out = run(&scenario);
    check(&scenario, out);
}

#[test]
fn smoltcp_client_to_our_server_with_loss_duplication_and_reordering() {
    let scenario = Scenario {
        our_role: OurRole::Server,
        bytes_each_way: 1_000_000,
        loss: 0.02,
        duplicate: 0.02,
        reorder: 0.03,
        seed: 5,
    };
    let out = run(&scenario);
    check(&scenario, out);
}

#[test]
fn our_client_to_smoltcp_server_with_loss_duplication_and_reordering() {
    let scenario = Scenario {
        our_role: OurRole::Client,
        bytes_each_way: 1_000_000,
        loss: 0.02,
        duplicate: 0.02,
        reorder: 0.03,
        seed: 6,
    };
    let out = run(&scenario);
    check(&scenario, out);
}
