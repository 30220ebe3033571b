//! Genesis presets: the initial state of the `development` and `local_testnet` chains.
//!
//! The node builds its chain specs from these presets (`--dev`, `--chain local`); no genesis
//! JSON is written by hand.

use crate::{
	configs::{desired_candidates, CANDIDACY_BOND},
	AccountId, Balance, BalancesConfig, CollatorSelection, CollatorSelectionConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, EXISTENTIAL_DEPOSIT, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Balance given to every endowed development account.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A validator of a genesis: its account and its session keys.
struct Validator {
	account: AccountId,
	aura: AuraId,
	grandpa: GrandpaId,
}

/// A genesis state with the given validators (invulnerable, their session keys set), endowed
/// accounts and sudo key. The Aura and GRANDPA authorities come from the session keys.
fn testnet_genesis(
	validators: Vec<Validator>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	let mut balances: Vec<(AccountId, Balance)> =
		endowed_accounts.iter().cloned().map(|account| (account, ENDOWMENT)).collect();
	// The validators' pot starts with the existential deposit, as collator selection expects.
	balances.push((CollatorSelection::account_id(), EXISTENTIAL_DEPOSIT));
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		collator_selection: CollatorSelectionConfig {
			invulnerables: validators.iter().map(|v| v.account.clone()).collect::<Vec<_>>(),
			candidacy_bond: CANDIDACY_BOND,
			desired_candidates: desired_candidates(validators.len()),
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|v| {
					(v.account.clone(), v.account, SessionKeys { aura: v.aura, grandpa: v.grandpa })
				})
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

/// A well-known development account as a validator, with its development session keys.
fn validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Validator {
	Validator { account: sr.to_account_id(), aura: sr.public().into(), grandpa: ed.public().into() }
}

/// Public keys of the development operator keys `//Alice//operator` .. `//Ferdie//operator`
/// (sr25519, key type `agnt`). A node started with `--alice` (or `--dev`) .. `--ferdie` inserts
/// its own into its keystore; they are endowed so that they can pay for the transactions their
/// off-chain workers send.
pub const DEV_OPERATOR_KEYS: [[u8; 32]; 6] = [
	hex_literal::hex!("945e10040b47c3df67c4ccf156ac19f9d649c16211646798a364097791691e3d"),
	hex_literal::hex!("407f432b63c4661febeb51526c3c8127f2852cd3fb5344cbfe247f383866ec67"),
	hex_literal::hex!("b4cd86ca3c51e678b6783b33e1842c38db4f1a4c8a8c9e69dc210664521ff75a"),
	hex_literal::hex!("1405d87261bb90e9601d55547568f73e00a838c0ac6eb143cc5b3fd966572d09"),
	hex_literal::hex!("56ccd8549eca917af13ced7e5c293dd00123e81deb225dfc6a85ab526f9eec2f"),
	hex_literal::hex!("f6d54162eefd71d3b3e4cb70398b2d1f544be66207a14b01cdfa8d97f3e3c128"),
];

/// The well-known development accounts (Alice..Ferdie and their stashes) and the development
/// operator keys, all endowed.
fn endowed_development_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.chain(DEV_OPERATOR_KEYS.iter().map(|key| AccountId::from(*key)))
		.collect()
}

/// The `development` preset: Alice is the only validator and the sudo key.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		endowed_development_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset: Alice, Bob, Charlie and Dave are validators; Alice is sudo.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			validator(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		endowed_development_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	// Serialising a `serde_json::Value` cannot fail.
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of the presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
