//! Interop with smoltcp on a clean link: the three-way handshake, 1.2 MB
//! each way byte-exact, and the four-way close, with us as the server and
//! as the client. No retransmission and no RST may happen on a link that
//! only delays. The harness is in `interop/mod.rs`; the lossy variants are
//! in `interop_smoltcp_loss.rs`.

mod interop;
mod support;

use interop::{check, run, OurRole, Scenario};

#[test]
fn smoltcp_client_to_our_server() {
    let scenario = Scenario {
        our_role: OurRole::Server,
        bytes_each_way: 1_200_000,
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        seed: 1,
    };
    let out = run(&scenario);
    check(&scenario, out);
}

#[test]
fn our_client_to_smoltcp_server() {
    let scenario = Scenario {
        our_role: OurRole::Client,
        bytes_each_way: 1_200_000,
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        seed: 2,
    };
    let out = run(&scenario);
    check(&scenario, out);
}
