//! Injected faults: random 429/500/503 answers, dropped connections, failed LROs, added
//! latency and a proxy's damage to the `Authorization` header, so that clients' retry,
//! recovery and error paths can be tested against a real server.
//!
//! Draws come from a generator seeded by the configuration, so a test that sets a seed sees
//! the same sequence of faults on every run. Changing the configuration (admin `PUT faults`)
//! re-seeds it.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::seed::{AuthorizationFault, Faults};

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    None,
    /// Answer 429 `TooManyRequests`.
    Throttle,
    /// Answer 500 `InternalServerError`.
    Error500,
    /// Answer 503 `ServiceUnavailable`.
    Error503,
    /// Close the connection without answering.
    Drop,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    /// Milliseconds to wait before handling.
    pub latency_ms: u64,
    /// The fault, if any.
    pub fault: Fault,
    /// Whether an LRO started by the request must fail.
    pub fail_operation: bool,
    /// What happens to the request's `Authorization` header before ARM sees it.
    pub authorization: Option<AuthorizationFault>,
}

/// The seeded fault generator and its configuration.
#[derive(Debug)]
pub struct Injector {
    config: Faults,
    rng: StdRng,
}

impl Injector {
    /// A generator for a configuration.
    pub fn new(config: Faults) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Self { config, rng }
    }

    /// The configuration.
    pub fn config(&self) -> &Faults {
        &self.config
    }

    /// Replaces the configuration and re-seeds.
    pub fn set(&mut self, config: Faults) {
        *self = Self::new(config);
    }

    /// Draws the decision for a request.
    pub fn decide(&mut self, method: &str, path: &str) -> Decision {
        let c = &self.config;
        let applies = c
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && c.path_contains
                .as_deref()
                .is_none_or(|p| path.to_ascii_lowercase().contains(&p.to_ascii_lowercase()));
        if !applies {
            return Decision {
                latency_ms: 0,
                fault: Fault::None,
                fail_operation: false,
                authorization: None,
            };
        }
        let roll: f64 = self.rng.r#gen();
        let mut edge = 0.0;
        let mut fault = Fault::None;
        for (rate, f) in [
            (c.throttle_rate, Fault::Throttle),
            (c.error_500_rate, Fault::Error500),
            (c.error_503_rate, Fault::Error503),
            (c.drop_rate, Fault::Drop),
        ] {
            edge += rate;
            if fault == Fault::None && roll < edge {
                fault = f;
            }
        }
        let fail_operation =
            c.lro_failure_rate > 0.0 && self.rng.r#gen::<f64>() < c.lro_failure_rate;
        Decision {
            latency_ms: c.latency_ms,
            fault,
            fail_operation,
            authorization: c.authorization,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_filters_apply() {
        let cfg = Faults {
            seed: 7,
            error_500_rate: 0.5,
            ..Faults::default()
        };
        let a: Vec<Fault> = {
            let mut i = Injector::new(cfg.clone());
            (0..20).map(|_| i.decide("GET", "/x").fault).collect()
        };
        let mut i = Injector::new(cfg.clone());
        let b: Vec<Fault> = (0..20).map(|_| i.decide("GET", "/x").fault).collect();
        assert_eq!(a, b);
        assert!(a.contains(&Fault::Error500) && a.contains(&Fault::None));
        let mut only_put = Injector::new(Faults {
            method: Some("PUT".into()),
            error_500_rate: 1.0,
            ..cfg
        });
        assert_eq!(only_put.decide("GET", "/x").fault, Fault::None);
        assert_eq!(only_put.decide("PUT", "/x").fault, Fault::Error500);
    }

    #[test]
    fn authorization_damage_hits_every_matching_request_and_no_other() {
        let mut i = Injector::new(Faults {
            authorization: Some(AuthorizationFault::Strip),
            method: Some("PUT".into()),
            path_contains: Some("/virtualMachines/".into()),
            ..Faults::default()
        });
        for _ in 0..5 {
            let d = i.decide("PUT", "/subscriptions/s/x/virtualmachines/web");
            assert_eq!(d.authorization, Some(AuthorizationFault::Strip));
            assert_eq!(d.fault, Fault::None);
        }
        assert_eq!(
            i.decide("GET", "/x/virtualMachines/web").authorization,
            None
        );
        assert_eq!(
            i.decide("PUT", "/x/networkInterfaces/n").authorization,
            None
        );
    }
}
