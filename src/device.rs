//! Devices handed to JS before a stack takes them: TUN and MemoryLink
//! endpoints, optionally wrapped in an impairment.

use std::sync::Mutex;

use napi_derive::napi;

use tunstack_device::{memory, Device, ImpairedDevice, Impairment};

use crate::address::parse_cidr;
use crate::error::{guard, invalid, io_error, Result};
use crate::options::{NativeImpairment, NativeTunOptions};

/// A device not yet owned by a stack. Opening a stack consumes it.
#[napi]
pub struct NativeDevice {
    name: String,
    device: Mutex<Option<Box<dyn Device>>>,
    /// A memory link's carrier, which stays usable after a stack took the device.
    switch: Option<memory::LinkSwitch>,
}

impl NativeDevice {
    fn new(device: Box<dyn Device>) -> NativeDevice {
        NativeDevice {
            name: device.name(),
            device: Mutex::new(Some(device)),
            switch: None,
        }
    }

    /// The device's MTU, if no stack has taken it yet.
    pub fn mtu(&self) -> Result<usize> {
        let slot = self.device.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .map(|d| d.mtu())
            .ok_or_else(|| invalid(format!("device {} is already used by a stack", self.name)))
    }

    /// Take the device for a stack; an error if a stack already has it.
    pub fn take(&self) -> Result<Box<dyn Device>> {
        self.device
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| invalid(format!("device {} is already used by a stack", self.name)))
    }
}

#[napi]
impl NativeDevice {
    /// Device name, e.g. "tun0" or "memory:a".
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Take a memory link down (every packet either way lost) or up, also
    /// while stacks run on it. EINVAL for other devices.
    #[napi]
    pub fn set_link_up(&self, up: bool) -> Result<()> {
        guard(|| match &self.switch {
            Some(s) => {
                s.set_up(up);
                Ok(())
            }
            None => Err(invalid(format!("{} is not a memory link", self.name))),
        })
    }

    /// Wrap this device with impairments: `receive` on the packets it
    /// delivers to the stack, `send` on the packets the stack writes to it
    /// (for a TUN: what the kernel receives). Either may be absent.
    #[napi]
    pub fn impair(
        &self,
        receive: Option<NativeImpairment>,
        send: Option<NativeImpairment>,
    ) -> Result<()> {
        guard(|| {
            let rx = receive
                .as_ref()
                .map(NativeImpairment::to_config)
                .transpose()?
                .unwrap_or_default();
            let tx = send.as_ref().map(NativeImpairment::to_config).transpose()?;
            let mut slot = self.device.lock().unwrap_or_else(|p| p.into_inner());
            let inner = slot.take().ok_or_else(|| {
                invalid(format!("device {} is already used by a stack", self.name))
            })?;
            let mut device = ImpairedDevice::new(inner, Impairment::new(rx));
            if let Some(tx) = tx {
                device = device.with_send_impairment(Impairment::new(tx));
            }
            *slot = Some(Box::new(device));
            Ok(())
        })
    }
}

/// Open (create or attach to) a TUN interface.
#[napi]
pub fn open_tun(options: NativeTunOptions) -> Result<NativeDevice> {
    guard(|| {
        #[cfg(target_os = "linux")]
        {
            use crate::error::error;
            let host_address = options
                .host_address
                .as_deref()
                .map(parse_cidr)
                .transpose()?;
            let mtu = options
                .mtu
                .map(|m| {
                    u16::try_from(m).map_err(|_| error("EINVAL", format!("mtu {m} is too large")))
                })
                .transpose()?;
            let tun = tunstack_device::TunDevice::open(tunstack_device::TunOptions {
                name: options.name.clone(),
                mtu,
                host_address,
                netns: options.netns.clone(),
                offload: options.offload.unwrap_or(true),
            })
            .map_err(io_error)?;
            Ok(NativeDevice::new(Box::new(tun)))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (options, parse_cidr, io_error);
            Err(crate::error::error(
                "ENOTSUP",
                "TUN devices are supported on Linux only",
            ))
        }
    })
}

/// Two connected in-memory endpoints [a, b].
#[napi]
pub fn memory_link(mtu: Option<u32>) -> Result<Vec<NativeDevice>> {
    guard(|| {
        let mtu = mtu.unwrap_or(1500);
        if !(576..=65_535).contains(&mtu) {
            return Err(invalid(format!("mtu must be in 576..=65535, got {mtu}")));
        }
        let (a, b) =
            memory::try_pair(mtu as usize, memory::DEFAULT_QUEUE_CAPACITY).map_err(io_error)?;
        let switch = a.link_switch();
        let mut ends = vec![
            NativeDevice::new(Box::new(a)),
            NativeDevice::new(Box::new(b)),
        ];
        for end in &mut ends {
            end.switch = Some(switch.clone());
        }
        Ok(ends)
    })
}
