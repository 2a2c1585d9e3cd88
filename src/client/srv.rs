//! `connect_srv`: find the brokers of a domain through DNS SRV records and connect to
//! the first that answers, in RFC 2782 order (as paho's `connect_srv`, which also
//! tries each target with a blocking `connect`).

use super::{lock, Client};
use crate::error::Error;
use crate::transport::srv;
use std::time::Instant;

impl Client {
    /// Look up `_secure-mqtt._tcp.<domain>` (TLS set) or `_mqtt._tcp.<domain>` and
    /// `connect` to each target in turn until one works. `domain` None or "": this
    /// host's domain (`Inval` when it has none). No records: `NotFound`; no DNS answer:
    /// `Io(ETIMEDOUT)`; every target failing: the last target's error.
    pub fn connect_srv(
        &self,
        domain: Option<&str>,
        keepalive: u16,
        bind: Option<&str>,
    ) -> Result<(), Error> {
        let domain = match domain.filter(|d| !d.is_empty()) {
            Some(d) => d.to_string(),
            None => srv::own_domain().ok_or(Error::Inval)?,
        };
        let (secure, timeout) = {
            let inner = lock(&self.shared.inner);
            (inner.opts.tls.is_some(), inner.opts.connect_timeout)
        };
        let name = srv::service_name(&domain, secure);
        let targets = match srv::resolve(&name, Instant::now() + timeout) {
            Ok(t) => t,
            Err(e) => {
                self.with(|i| i.log(0x08, || format!("SRV lookup failed: {}", e.reason)));
                return Err(e.error);
            }
        };
        let mut last = Error::NotFound;
        for t in targets {
            self.with(|i| {
                i.log(0x10, || {
                    format!(
                        "{name}: trying {}:{} (priority {}, weight {})",
                        t.host, t.port, t.priority, t.weight
                    )
                })
            });
            match self.connect(&t.host, t.port, keepalive, bind) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
