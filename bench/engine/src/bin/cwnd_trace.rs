//! cwnd and ssthresh over time for Reno and CUBIC: two engines on virtual
//! time (no clock is read) over a seeded link with 1 % loss and 20 ms
//! one-way delay, a bulk transfer for 30 s, the sender's TCP_INFO sampled
//! every 10 ms. Writes a hand-made SVG (no plotting dependency) so a person
//! sees slow start, congestion avoidance (Reno's line, CUBIC's concave and
//! convex curve) and the multiplicative decrease at each loss (to 1/2 or
//! 0.7), and prints its path.
//!
//! Usage: cwnd-trace [OUT.svg]   (default bench/out/cwnd.svg)

#[path = "../virtual_pair.rs"]
mod virtual_pair;
use std::fmt::Write as _;
use tunstack_core::{CongestionAlgorithm, CongestionCause, Event, Instant, StackConfig};
use tunstack_device::{Impairment, ImpairmentConfig};
use virtual_pair::VirtualPair;

const MS: u64 = 1_000;
const DURATION: Instant = 30_000 * MS;
const SAMPLE: Instant = 10 * MS;
const LOSS: f64 = 0.01;
const DELAY: u64 = 20 * MS;

/// One sample: (virtual seconds, cwnd segments, ssthresh segments or None while "infinite").
type Sample = (f64, f64, Option<f64>);

struct Trace {
    alg: CongestionAlgorithm,
    samples: Vec<Sample>,
    losses: u32,
    bytes: u64,
}

fn run(alg: CongestionAlgorithm) -> Trace {
    let config = |addr, seed| {
        let mut c = StackConfig::new(addr, 24);
        c.seed = seed;
        c.tcp.congestion_control = alg;
        c.tcp.send_buffer = 8 << 20;
        c.tcp.recv_buffer = 8 << 20;
        c
    };
    let link = |seed| {
        Impairment::new(ImpairmentConfig {
            loss: LOSS,
            delay_us: DELAY,
            seed,
            ..Default::default()
        })
    };
    let VirtualPair {
        mut client,
        mut server,
        mut c2s,
        mut s2c,
        listener,
        id,
    } = virtual_pair::connect(config, link);
    let mut now: Instant = 0;
    let chunk = vec![0x5au8; 256 << 10];
    let mut conn = None;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut next_sample = 0;
    let mut trace = Trace {
        alg,
        samples: Vec::new(),
        losses: 0,
        bytes: 0,
    };
    while now < DURATION {
        while let Some(p) = c2s.pop(now) {
            server.receive(now, &p);
        }
        while let Some(p) = s2c.pop(now) {
            client.receive(now, &p);
        }
        client.poll(now);
        server.poll(now);
        while let Some(ev) = client.poll_event() {
            if let Event::Congestion { cause, .. } = ev {
                if cause != CongestionCause::RecoveryExit && cause != CongestionCause::IdleRestart {
                    trace.losses += 1;
                }
            }
        }
        // Keep the send buffer full: the sender is never application-limited.
        while client.tcp_send(now, id, &chunk).unwrap_or(0) > 0 {}
        while let Some(ev) = server.poll_event() {
            if let Event::Acceptable { .. } = ev {
                conn = server.tcp_accept(listener);
            }
        }
        if let Some(c) = conn {
            loop {
                buf.clear();
                match server.tcp_recv(now, c, &mut buf, 1 << 20) {
                    Ok(n) if n > 0 => trace.bytes += n as u64,
                    _ => break,
                }
            }
        }
        client.transmit(&mut |p| c2s.push(now, p));
        server.transmit(&mut |p| s2c.push(now, p));
        if now >= next_sample {
            if let Some(i) = client.tcp_info(id) {
                let mss = f64::from(i.mss.max(1));
                let ss = (i.ssthresh != u32::MAX).then(|| f64::from(i.ssthresh) / mss);
                trace
                    .samples
                    .push((now as f64 / 1e6, f64::from(i.cwnd) / mss, ss));
            }
            next_sample += SAMPLE;
        }
        if client.has_transmit() || server.has_transmit() {
            continue;
        }
        let next = [
            client.poll_at(),
            server.poll_at(),
            c2s.poll_at(),
            s2c.poll_at(),
            Some(next_sample),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(DURATION);
        now = next.max(now + 1).min(DURATION);
    }
    trace
}

fn svg(traces: &[Trace]) -> String {
    let (w, h, left, top, panel_h, gap) = (960.0, 0.0, 60.0, 40.0, 260.0, 60.0);
    let height = top + traces.len() as f64 * (panel_h + gap) + h;
    let plot_w = w - left - 20.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="20" font-size="15">cwnd (solid) and ssthresh (dashed), segments — {}% loss, {} ms one-way delay, virtual time</text>"#,
        LOSS * 100.0,
        DELAY / MS
    );
    let secs = DURATION as f64 / 1e6;
    for (n, t) in traces.iter().enumerate() {
        let y0 = top + n as f64 * (panel_h + gap);
        let ymax = t
            .samples
            .iter()
            .map(|&(_, c, s)| c.max(s.unwrap_or(0.0)))
            .fold(10.0, f64::max)
            * 1.1;
        let x = |sec: f64| left + sec / secs * plot_w;
        let y = |seg: f64| y0 + panel_h - seg.min(ymax) / ymax * panel_h;
        let _ = writeln!(
            s,
            r##"<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_h}" fill="none" stroke="#888"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" font-size="14">{} — {} loss responses, {:.1} Mbit/s goodput</text>"#,
            left + 8.0,
            y0 + 16.0,
            t.alg.name(),
            t.losses,
            t.bytes as f64 * 8.0 / secs / 1e6
        );
        // Axes: seconds along the bottom, segments on the left.
        for i in 0..=6 {
            let sec = secs * f64::from(i) / 6.0;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{sec:.0} s</text>"#,
                x(sec),
                y0 + panel_h + 16.0
            );
        }
        for i in 0..=4 {
            let seg = ymax * f64::from(i) / 4.0;
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{seg:.0}</text><line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#eee"/>"##,
                left - 6.0,
                y(seg) + 4.0,
                left + plot_w,
                y(seg),
                y(seg)
            );
        }
        let line = |pts: &mut dyn Iterator<Item = (f64, f64)>| {
            pts.map(|(a, b)| format!("{:.1},{:.1}", x(a), y(b)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let cwnd = line(&mut t.samples.iter().map(|&(a, c, _)| (a, c)));
        let ss = line(&mut t.samples.iter().filter_map(|&(a, _, s)| s.map(|s| (a, s))));
        let _ = writeln!(
            s,
            r##"<polyline fill="none" stroke="#c0392b" stroke-dasharray="5,4" points="{ss}"/>"##
        );
        let _ = writeln!(
            s,
            r##"<polyline fill="none" stroke="#1f4e9c" stroke-width="1.5" points="{cwnd}"/>"##
        );
    }
    s.push_str("</svg>\n");
    s
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/out/cwnd.svg".to_string());
    let traces: Vec<Trace> = [CongestionAlgorithm::Reno, CongestionAlgorithm::Cubic]
        .into_iter()
        .map(run)
        .collect();
    for t in &traces {
        println!(
            "{:<5}: {} samples, {} loss responses, {:.2} Mbit/s goodput over {} s virtual",
            t.alg.name(),
            t.samples.len(),
            t.losses,
            t.bytes as f64 * 8.0 / (DURATION as f64 / 1e6) / 1e6,
            DURATION / 1_000_000
        );
    }
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).expect("create the output directory");
    }
    std::fs::write(&out, svg(&traces)).expect("write the SVG");
    println!("{out}");
}
