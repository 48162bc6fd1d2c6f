//! Option objects from JS and their conversion to the Rust configs.

use napi_derive::napi;

use tunstack_device::ImpairmentConfig;
use tunstack_runtime::{CongestionAlgorithm, StackConfig, SynCookies, TcpConfig};

use crate::address::parse_cidr;
use crate::error::{invalid, Result};

/// One direction's impairment (see `NativeDevice::impair`).
#[napi(object)]
pub struct NativeImpairment {
    pub loss: Option<f64>,
    pub duplicate: Option<f64>,
    pub reorder: Option<f64>,
    pub corrupt: Option<f64>,
    pub delay_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub rate_bps: Option<f64>,
    pub seed: Option<f64>,
}

/// How to open a TUN device.
#[napi(object)]
pub struct NativeTunOptions {
    pub name: Option<String>,
    pub host_address: Option<String>,
    pub mtu: Option<u32>,
    pub netns: Option<String>,
    /// Segmentation/checksum offload (IFF_VNET_HDR + TUNSETOFFLOAD); default true.
    pub offload: Option<bool>,
}

/// TCP tunables; times in milliseconds.
#[napi(object)]
pub struct NativeTcpOptions {
    pub msl_ms: Option<f64>,
    pub max_retries: Option<u32>,
    pub syn_retries: Option<u32>,
    pub synack_retries: Option<u32>,
    pub rto_initial_ms: Option<f64>,
    pub rto_min_ms: Option<f64>,
    pub rto_max_ms: Option<f64>,
    pub send_buffer: Option<u32>,
    pub recv_buffer: Option<u32>,
    pub syn_backlog: Option<u32>,
    /// 'auto' | 'always' | 'never'.
    pub syn_cookies: Option<String>,
    pub abort_on_overflow: Option<bool>,
    pub max_connections: Option<u32>,
    pub ephemeral_first: Option<u32>,
    pub ephemeral_last: Option<u32>,
    pub rfc1337: Option<bool>,
    pub tail_loss_probe: Option<bool>,
    pub max_time_wait: Option<u32>,
    pub keep_alive_time_ms: Option<f64>,
    pub keep_alive_interval_ms: Option<f64>,
    pub keep_alive_probes: Option<u32>,
    pub user_timeout_ms: Option<f64>,
    pub congestion_control: Option<String>,
    pub abc_limit: Option<u32>,
    pub quick_ack: Option<bool>,
}

/// Stack options.
#[napi(object)]
pub struct NativeStackOptions {
    pub address: String,
    pub mtu: Option<u32>,
    pub seed: Option<f64>,
    pub ttl: Option<u32>,
    pub trace: Option<bool>,
    pub tcp: Option<NativeTcpOptions>,
}

fn probability(name: &str, p: Option<f64>) -> Result<f64> {
    match p {
        None => Ok(0.0),
        Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Some(p) => Err(invalid(format!(
            "{name} must be a probability in [0, 1], got {p}"
        ))),
    }
}

fn non_negative(name: &str, v: Option<f64>) -> Result<Option<f64>> {
    match v {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(invalid(format!(
            "{name} must be a finite number >= 0, got {v}"
        ))),
        other => Ok(other),
    }
}

/// Milliseconds to microseconds, rounded.
fn ms_to_us(name: &str, v: Option<f64>) -> Result<Option<u64>> {
    Ok(non_negative(name, v)?.map(|ms| (ms * 1000.0).round() as u64))
}

/// A seed from JS: any finite number; its bits are what matter.
pub fn seed(v: f64) -> Result<u64> {
    if !v.is_finite() {
        return Err(invalid(format!("seed must be a finite number, got {v}")));
    }
    // Integers (the usual case) map to themselves; others to their bits.
    if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        Ok(v as i64 as u64)
    } else {
        Ok(v.to_bits())
    }
}

impl NativeImpairment {
    pub fn to_config(&self) -> Result<ImpairmentConfig> {
        Ok(ImpairmentConfig {
            loss: probability("loss", self.loss)?,
            duplicate: probability("duplicate", self.duplicate)?,
            reorder: probability("reorder", self.reorder)?,
            corrupt: probability("corrupt", self.corrupt)?,
            delay_us: ms_to_us("delayMs", self.delay_ms)?.unwrap_or(0),
            jitter_us: ms_to_us("jitterMs", self.jitter_ms)?.unwrap_or(0),
            rate_bps: non_negative("rateBps", self.rate_bps)?.map_or(0, |r| r as u64),
            seed: self.seed.map(seed).transpose()?.unwrap_or(0),
        })
    }
}

fn u16_option(name: &str, v: Option<u32>) -> Result<Option<u16>> {
    v.map(|v| u16::try_from(v).map_err(|_| invalid(format!("{name} must be below 65536, got {v}"))))
        .transpose()
}

impl NativeStackOptions {
    /// The engine configuration; `device_mtu` when no MTU is given.
    pub fn to_config(&self, device_mtu: usize, random_seed: u64) -> Result<StackConfig> {
        let (address, prefix) = parse_cidr(&self.address)?;
        if address.is_unspecified() {
            return Err(invalid(format!(
                "the stack needs an address, got {:?}",
                self.address
            )));
        }
        let mut config = StackConfig::new(address, prefix);
        let mtu = match self.mtu {
            Some(m) => m,
            None => u32::try_from(device_mtu).unwrap_or(u32::MAX).min(65_535),
        };
        config.mtu = u16_option("mtu", Some(mtu))?.unwrap_or(1500);
        if config.mtu < 576 {
            return Err(invalid(format!(
                "mtu must be at least 576, got {}",
                config.mtu
            )));
        }
        if let Some(ttl) = self.ttl {
            config.ttl = u8::try_from(ttl)
                .ok()
                .filter(|&t| t > 0)
                .ok_or_else(|| invalid(format!("ttl must be 1..255, got {ttl}")))?;
        }
        config.seed = match self.seed {
            Some(s) => seed(s)?,
            None => random_seed,
        };
        if let Some(tcp) = &self.tcp {
            tcp.apply(&mut config.tcp)?;
        }
        Ok(config)
    }
}

impl NativeTcpOptions {
    fn apply(&self, c: &mut TcpConfig) -> Result<()> {
        if let Some(v) = ms_to_us("mslMs", self.msl_ms)? {
            c.msl = v;
        }
        if let Some(v) = self.max_retries {
            c.max_retries = v;
        }
        if let Some(v) = self.syn_retries {
            c.syn_retries = v;
        }
        if let Some(v) = self.synack_retries {
            c.synack_retries = v;
        }
        if let Some(v) = ms_to_us("rtoInitialMs", self.rto_initial_ms)? {
            c.rto_initial = v;
        }
        if let Some(v) = ms_to_us("rtoMinMs", self.rto_min_ms)? {
            c.rto_min = v;
        }
        if let Some(v) = ms_to_us("rtoMaxMs", self.rto_max_ms)? {
            c.rto_max = v;
        }
        if let Some(v) = self.send_buffer {
            c.send_buffer = v as usize;
        }
        if let Some(v) = self.recv_buffer {
            c.recv_buffer = v as usize;
        }
        if let Some(v) = self.syn_backlog {
            c.syn_backlog = v as usize;
        }
        if let Some(v) = &self.syn_cookies {
            c.syn_cookies = match v.as_str() {
                "auto" => SynCookies::Auto,
                "always" => SynCookies::Always,
                "never" => SynCookies::Never,
                _ => {
                    return Err(invalid(format!(
                        "synCookies must be 'auto', 'always' or 'never', got {v:?}"
                    )))
                }
            };
        }
        if let Some(v) = self.abort_on_overflow {
            c.abort_on_overflow = v;
        }
        if let Some(v) = self.max_connections {
            c.max_connections = v as usize;
        }
        if let Some(v) = u16_option("ephemeralFirst", self.ephemeral_first)? {
            c.ephemeral_first = v;
        }
        if let Some(v) = u16_option("ephemeralLast", self.ephemeral_last)? {
            c.ephemeral_last = v;
        }
        if let Some(v) = self.rfc1337 {
            c.rfc1337 = v;
        }
        if let Some(v) = self.tail_loss_probe {
            c.tail_loss_probe = v;
        }
        if let Some(v) = self.max_time_wait {
            c.max_time_wait = v as usize;
        }
        if let Some(v) = ms_to_us("keepAliveTimeMs", self.keep_alive_time_ms)? {
            c.keepalive_time = v.max(1);
        }
        if let Some(v) = ms_to_us("keepAliveIntervalMs", self.keep_alive_interval_ms)? {
            c.keepalive_interval = v.max(1);
        }
        if let Some(v) = self.keep_alive_probes {
            if v == 0 {
                return Err(invalid("keepAliveProbes must be at least 1"));
            }
            c.keepalive_probes = v;
        }
        if let Some(v) = ms_to_us("userTimeoutMs", self.user_timeout_ms)? {
            c.user_timeout = v;
        }
        if let Some(v) = self.quick_ack {
            c.quick_ack = v;
        }
        if let Some(v) = self.abc_limit {
            c.abc_limit = v;
        }
        if let Some(name) = &self.congestion_control {
            c.congestion_control = congestion_algorithm(name)?;
        }
        if c.ephemeral_first > c.ephemeral_last || c.ephemeral_first == 0 {
            return Err(invalid(format!(
                "bad ephemeral port range {}..={}",
                c.ephemeral_first, c.ephemeral_last
            )));
        }
        if c.rto_min > c.rto_max {
            return Err(invalid("rtoMinMs must not exceed rtoMaxMs"));
        }
        Ok(())
    }
}

/// A congestion-control algorithm by its Linux name (`cubic`, `reno`).
pub fn congestion_algorithm(name: &str) -> Result<CongestionAlgorithm> {
    CongestionAlgorithm::from_name(name).ok_or_else(|| {
        invalid(format!(
            "unknown congestion control {name:?} (expected 'cubic' or 'reno')"
        ))
    })
}
