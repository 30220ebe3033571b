//! Tests of the runtime's composition: genesis presets and configuration invariants.

use crate::{
	configs::{
		CHALLENGE_PERIOD, DISPUTE_TIMEOUT, MAX_COMMIT_PERIOD, REVEAL_PERIOD, UNBONDING_PERIOD,
	},
	genesis_config_presets, AccountId, Aura, Balances, Grandpa, RuntimeGenesisConfig, MINUTES,
	SLOT_DURATION,
};
use frame_support::genesis_builder_helper::build_state;
use sp_genesis_builder::PresetId;
use sp_keyring::Sr25519Keyring;

/// Merges the JSON `patch` into `base`, as the node does with a preset and the default config.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// Builds the genesis state of `preset` into a fresh externality and runs `check` in it.
fn with_preset(preset: &str, check: impl FnOnce()) {
	let patch = genesis_config_presets::get_preset(&PresetId::from(preset))
		.unwrap_or_else(|| panic!("preset {preset} exists"));
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, serde_json::from_slice(&patch).expect("the preset is JSON"));
	let mut ext = sp_io::TestExternalities::default();
	ext.execute_with(|| {
		build_state::<RuntimeGenesisConfig>(config.to_string().into_bytes())
			.expect("preset builds a genesis state");
		check();
	});
}

fn account(keyring: Sr25519Keyring) -> AccountId {
	keyring.to_account_id()
}

#[test]
fn the_runtime_lists_both_presets() {
	let names = genesis_config_presets::preset_names();
	assert!(names.contains(&PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET)));
	assert!(names.contains(&PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)));
	assert!(genesis_config_presets::get_preset(&PresetId::from("no-such-preset")).is_none());
}

#[test]
fn the_development_preset_has_alice_as_only_validator_and_sudo() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		assert_eq!(pallet_aura::Authorities::<crate::Runtime>::get().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		assert_eq!(pallet_sudo::Key::<crate::Runtime>::get(), Some(account(Sr25519Keyring::Alice)));
		for who in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Ferdie] {
			assert_eq!(Balances::free_balance(account(who)), genesis_config_presets::ENDOWMENT);
		}
	});
}

#[test]
fn the_local_preset_has_four_validators() {
	with_preset(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET, || {
		assert_eq!(pallet_aura::Authorities::<crate::Runtime>::get().len(), 4);
		let weights: Vec<u64> = Grandpa::grandpa_authorities().iter().map(|(_, w)| *w).collect();
		assert_eq!(weights, vec![1, 1, 1, 1]);
	});
}

#[test]
fn blocks_are_three_seconds_apart() {
	assert_eq!(SLOT_DURATION, 3_000);
	assert_eq!(MINUTES, 20);
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		assert_eq!(Aura::slot_duration(), 3_000);
	});
}

/// Stake must not be able to leave before the work it backed is judged: the unbonding period
/// outlasts a task's longest path from assignment to finalisation or dispute timeout.
#[test]
fn unbonding_outlasts_every_task_phase() {
	let longest_task = MAX_COMMIT_PERIOD + REVEAL_PERIOD + CHALLENGE_PERIOD.max(DISPUTE_TIMEOUT);
	assert!(UNBONDING_PERIOD > longest_task, "{UNBONDING_PERIOD} <= {longest_task}");
	assert_eq!(UNBONDING_PERIOD, 10 * MINUTES);
}

#[test]
fn the_protocol_account_exists_from_genesis() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		let account = pallet_inference::Pallet::<crate::Runtime>::protocol_account();
		assert!(frame_system::Pallet::<crate::Runtime>::account_exists(&account));
	});
}
