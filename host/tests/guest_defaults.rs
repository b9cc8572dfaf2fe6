//! The host repeats three of the component's defaults, because it never
//! links the guest: the call deadline it assumes when `DISCORD_TIMEOUT_MS`
//! is unset, the largest `DISCORD_TIMEOUT_MS` the component accepts, and
//! the body cap it lowers to fit an instance's memory. These tests hold
//! each copy to the guest's own.

use std::time::Duration;

use discord_connector::config::{Config, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT};
use discord_host::{
    BODY_CAP_SETTING, DEFAULT_BODY_CAP, DEFAULT_CALL_TIMEOUT, MAX_CALL_TIMEOUT, TIMEOUT_SETTING,
};

#[test]
fn the_default_call_timeout_is_the_guests() {
    assert_eq!(DEFAULT_CALL_TIMEOUT, DEFAULT_TIMEOUT);
    let unset = Config::from_vars([]).unwrap();
    assert_eq!(unset.timeout, DEFAULT_CALL_TIMEOUT);
}

#[test]
fn the_default_body_cap_is_the_guests() {
    assert_eq!(DEFAULT_BODY_CAP as u64, DEFAULT_MAX_BODY_BYTES);
    let unset = Config::from_vars([]).unwrap();
    assert_eq!(unset.max_body_bytes, DEFAULT_BODY_CAP as u64);
}

/// The guest keeps its largest timeout as a literal in `Config::from_vars`,
/// so this holds the host's copy to what the guest accepts and refuses.
#[test]
fn the_largest_call_timeout_is_the_one_the_guest_accepts() {
    let millis = |timeout: Duration| timeout.as_millis().to_string();
    let largest = millis(MAX_CALL_TIMEOUT);
    let accepted = Config::from_vars([(TIMEOUT_SETTING, largest.as_str())]).unwrap();
    assert_eq!(accepted.timeout, MAX_CALL_TIMEOUT);
    let beyond = millis(MAX_CALL_TIMEOUT + Duration::from_millis(1));
    assert!(Config::from_vars([(TIMEOUT_SETTING, beyond.as_str())]).is_err());
}

/// The setting names the host writes into an instance's environment are
/// the ones the guest reads.
#[test]
fn the_settings_the_host_states_are_ones_the_guest_reads() {
    use discord_connector::config::SETTINGS;
    assert!(SETTINGS.contains(&TIMEOUT_SETTING));
    assert!(SETTINGS.contains(&BODY_CAP_SETTING));
}
