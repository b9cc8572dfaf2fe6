//! The two server-side scripts, their arguments and their answers. The
//! decisions are made in the scripts, atomically and on Redis's clock; the
//! Rust here only names things and reads the answers.

use std::sync::LazyLock;
use std::time::Duration;

use hmac::{Hmac, Mac};
use redis::{Script, Value};
use sha2::Sha256;

/// Decides one request: invalid-request budgets, the bucket, the global
/// limit (see the script's header for its answers).
pub static ACQUIRE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/acquire.lua")));

/// Stores what one answer said.
pub static REPORT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/report.lua")));

/// The id of requests with no `Authorization` header, which share one
/// account as they do in the in-process limiter.
pub const ANONYMOUS: &str = "-";

/// Makes the ids that stand for credentials, routes and buckets in key
/// names: HMAC-SHA256 under the deployment's secret, so a key never holds
/// a token (nor a webhook token from a path), and every replica with the
/// same secret names the same thing alike.
#[derive(Clone)]
pub struct Hasher {
    mac: Hmac<Sha256>,
}

impl Hasher {
    /// A hasher keyed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    /// 128 bits of the keyed hash of `value` in the domain `kind`, in hex.
    fn id(&self, kind: &str, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(32);
        for byte in &digest[..16] {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }

    /// The id of an `Authorization` value ([`ANONYMOUS`] without one).
    pub fn credential(&self, authorization: Option<&[u8]>) -> String {
        match authorization {
            Some(value) => self.id("credential", value),
            None => ANONYMOUS.to_owned(),
        }
    }

    /// The id of a route key (`discord_host::limiter::route_key`).
    pub fn route(&self, route: &str) -> String {
        self.id("route", route.as_bytes())
    }

    /// The name of the bucket Discord called `key`
    /// (`discord_host::limiter::bucket_key`): `b` and its id, where a
    /// route's own bucket, before Discord names one, is `r` and the route's.
    pub fn bucket(&self, key: &str) -> String {
        format!("b{}", self.id("bucket", key.as_bytes()))
    }
}

/// Milliseconds, rounded up, for a script's argument.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// Why the invalid-request budget refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// The whole deployment's count reached its limit.
    Total,
    /// The count reached the reserve line, and the credential has no good
    /// standing.
    Reserve,
    /// The credential reached its own limit.
    Own,
    /// Past the reserve line, the credential used its share of the reserve.
    ReserveShare,
}

/// What the acquire script decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go; `probe` when this request holds the bucket's probe, `bucket` the
    /// bucket it was counted against.
    Go {
        /// This request is the one allowed to learn an unknown bucket.
        probe: bool,
        /// The bucket's name, for the report.
        bucket: String,
    },
    /// Come back after this long (a bucket's reset, or the global window).
    Wait(Duration),
    /// Another request probes the bucket; its lock expires in this long.
    Probed(Duration),
    /// Refused by the invalid-request budget.
    Refused {
        /// Which line.
        budget: Budget,
        /// When it would be let through.
        retry_after: Duration,
        /// The deployment's count.
        total: u64,
        /// The credential's count.
        own: u64,
    },
    /// The secret in Redis is not the one this replica hashes with (it
    /// expired and another replica made a new one).
    SecretChanged,
}

/// An answer the scripts never give: a bug, or another program's script.
#[derive(Debug)]
pub struct Unexpected(pub String);

impl std::fmt::Display for Unexpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unexpected answer from the limiter script: {}", self.0)
    }
}

impl std::error::Error for Unexpected {}

fn number(values: &[Value], at: usize) -> Result<u64, Unexpected> {
    match values.get(at) {
        Some(Value::Int(n)) => Ok((*n).max(0) as u64),
        other => Err(Unexpected(format!("item {at} is {other:?}"))),
    }
}

impl Decision {
    /// Reads the acquire script's answer.
    pub fn read(values: &[Value]) -> Result<Self, Unexpected> {
        let ms = |at| number(values, at).map(Duration::from_millis);
        Ok(match number(values, 0)? {
            0 => Self::Go {
                probe: number(values, 1)? == 1,
                bucket: match values.get(2) {
                    Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
                    other => return Err(Unexpected(format!("bucket is {other:?}"))),
                },
            },
            1 => Self::Wait(ms(1)?),
            2 => Self::Probed(ms(1)?),
            3 => Self::Refused {
                budget: match number(values, 1)? {
                    1 => Budget::Total,
                    2 => Budget::Reserve,
                    3 => Budget::Own,
                    _ => Budget::ReserveShare,
                },
                retry_after: ms(2)?,
                total: number(values, 3)?,
                own: number(values, 4)?,
            },
            4 => Self::SecretChanged,
            code => return Err(Unexpected(format!("code {code}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read() {
        let go = [
            Value::Int(0),
            Value::Int(1),
            Value::BulkString(b"rabc".to_vec()),
        ];
        assert_eq!(
            Decision::read(&go).unwrap(),
            Decision::Go {
                probe: true,
                bucket: "rabc".to_owned()
            }
        );
        assert_eq!(
            Decision::read(&[Value::Int(1), Value::Int(1500)]).unwrap(),
            Decision::Wait(Duration::from_millis(1500))
        );
        assert_eq!(
            Decision::read(&[Value::Int(2), Value::Int(-3)]).unwrap(),
            Decision::Probed(Duration::ZERO),
            "never a negative wait"
        );
        assert_eq!(
            Decision::read(&[
                Value::Int(3),
                Value::Int(4),
                Value::Int(60_000),
                Value::Int(90),
                Value::Int(5)
            ])
            .unwrap(),
            Decision::Refused {
                budget: Budget::ReserveShare,
                retry_after: Duration::from_secs(60),
                total: 90,
                own: 5
            }
        );
        assert_eq!(
            Decision::read(&[Value::Int(4)]).unwrap(),
            Decision::SecretChanged
        );
        assert!(Decision::read(&[Value::Int(9)]).is_err());
        assert!(Decision::read(&[]).is_err());
        assert!(Decision::read(&[Value::Int(0), Value::Int(0), Value::Nil]).is_err());
    }

    #[test]
    fn ids_are_keyed_hashes_that_never_show_the_token() {
        let one = Hasher::new(b"secret one");
        let two = Hasher::new(b"secret two");
        let token = b"Bot MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
        let id = one.credential(Some(token));
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, one.credential(Some(token)), "stable");
        assert_ne!(id, two.credential(Some(token)), "keyed");
        assert_ne!(one.route("x"), one.credential(Some(b"x")), "domains apart");
        assert_eq!(one.credential(None), ANONYMOUS);
        assert!(one.bucket("abc@1").starts_with('b'));
        assert_eq!(millis(Duration::from_micros(1001)), 2);
    }
}
