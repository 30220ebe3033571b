//! Tests of the runtime's composition: genesis presets and configuration invariants.

use crate::{
	configs::{
		CHALLENGE_PERIOD, CONGESTION_GRACE, DISPUTE_TIMEOUT, LONGEST_DISPUTE, MAX_APPEALS,
		MAX_COMMIT_PERIOD, REVEAL_PERIOD, UNBONDING_PERIOD,
	},
	genesis_config_presets, AccountId, Aura, Balances, Grandpa, RuntimeGenesisConfig, MINUTES,
	SLOT_DURATION,
};
use frame_support::{genesis_builder_helper::build_state, traits::Get};
use sp_genesis_builder::PresetId;
use sp_keyring::Sr25519Keyring;
use sp_runtime::Perbill;

mod metadata;
mod upgrade;
mod validators;

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
pub(crate) fn with_preset(preset: &str, check: impl FnOnce()) {
	let patch = genesis_config_presets::get_preset(&PresetId::from(preset))
		.unwrap_or_else(|| panic!("preset {preset} exists"));
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, serde_json::from_slice(&patch).expect("the preset is JSON"));
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
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
	// A task can be challenged at the end of its window, then waits up to the dispute timeout.
	// Commit and reveal may each be extended once for full blocks.
	let longest_task = MAX_COMMIT_PERIOD
		+ REVEAL_PERIOD
		+ 2 * CONGESTION_GRACE
		+ CHALLENGE_PERIOD
		+ DISPUTE_TIMEOUT;
	assert!(UNBONDING_PERIOD > longest_task, "{UNBONDING_PERIOD} <= {longest_task}");
	assert_eq!(UNBONDING_PERIOD, 20 * MINUTES);
}

/// A dispute with every appeal, its deadlines processed on time, reaches its verdict before the
/// inference pallet's fallback timeout (which, besides, waits while a dispute is judged).
#[test]
fn every_dispute_ends_before_the_dispute_timeout() {
	assert!(LONGEST_DISPUTE < DISPUTE_TIMEOUT, "{LONGEST_DISPUTE} >= {DISPUTE_TIMEOUT}");
	// A bisection of the largest batch: its roots, ten levels and its leaves.
	assert_eq!(crate::configs::MAX_BISECTION_STEPS, 12);
	assert_eq!(
		pallet_challenges::Pallet::<crate::Runtime>::jury_size(MAX_APPEALS),
		<<crate::Runtime as pallet_challenges::Config>::MaxJurySize as Get<u32>>::get()
	);
}

/// Frivolous challenges lose money: a bond always covers the jurors of its round.
#[test]
fn every_bond_covers_its_jury() {
	type C = pallet_challenges::Pallet<crate::Runtime>;
	let reward: u128 =
		<<crate::Runtime as pallet_challenges::Config>::JurorReward as Get<u128>>::get();
	for round in 0..=MAX_APPEALS {
		let bond = if round == 0 { C::base_bond(0) } else { C::appeal_bond(0, round) };
		assert!(bond >= reward * u128::from(C::jury_size(round)), "round {round}");
	}
}

#[test]
fn the_protocol_account_exists_from_genesis() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		let account = pallet_inference::Pallet::<crate::Runtime>::account_id();
		assert!(frame_system::Pallet::<crate::Runtime>::account_exists(&account));
		let account = pallet_challenges::Pallet::<crate::Runtime>::account_id();
		assert!(frame_system::Pallet::<crate::Runtime>::account_exists(&account));
	});
}

#[test]
fn dev_operator_keys_are_the_well_known_derivations_and_are_endowed() {
	use sp_core::{crypto::Pair as _, sr25519};
	let names = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];
	for (name, key) in names.iter().zip(genesis_config_presets::DEV_OPERATOR_KEYS) {
		let pair = sr25519::Pair::from_string(&format!("//{name}//operator"), None).unwrap();
		assert_eq!(pair.public().0, key, "operator key of {name}");
	}
	for preset in ["development", "local_testnet"] {
		with_preset(preset, || {
			for key in genesis_config_presets::DEV_OPERATOR_KEYS {
				assert!(Balances::free_balance(AccountId::from(key)) > 0, "{preset}");
			}
		});
	}
}

#[test]
fn an_off_chain_worker_transaction_is_signed_by_the_operator_key() {
	use crate::{configs::OperatorAppCrypto, Runtime, RuntimeCall};
	use frame_system::offchain::CreateSignedTransaction;
	use sp_runtime::{
		generic::Preamble,
		traits::{Checkable, IdentifyAccount},
		MultiSigner,
	};

	with_preset("development", || {
		// As in an off-chain worker after block 5: the era starts at its parent.
		frame_system::Pallet::<Runtime>::set_block_number(5);
		frame_system::BlockHash::<Runtime>::insert(4, crate::Hash::repeat_byte(4));
		let public = sp_io::crypto::sr25519_generate(
			agentchain_primitives::OPERATOR_KEY_TYPE,
			Some(b"//Alice//operator".to_vec()),
		);
		assert_eq!(public.0, genesis_config_presets::DEV_OPERATOR_KEYS[0]);
		let signer = MultiSigner::from(public);
		let account = signer.clone().into_account();
		let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![1, 2, 3] });
		let xt = <Runtime as CreateSignedTransaction<RuntimeCall>>::create_signed_transaction::<
			OperatorAppCrypto,
		>(call.clone(), signer, account.clone(), 7)
		.expect("the keystore holds the operator key");
		let Preamble::Signed(ref address, _, ref extension) = xt.preamble else {
			panic!("a signed transaction")
		};
		assert_eq!(*address, sp_runtime::MultiAddress::Id(account.clone()));
		assert_eq!(extension.5 .0, 7, "the given nonce");
		// The signature verifies against the operator account.
		let checked = xt.check(&frame_system::ChainContext::<Runtime>::default()).unwrap();
		assert_eq!(checked.function, call);
		assert!(
			matches!(checked.format, sp_runtime::generic::ExtrinsicFormat::Signed(who, _) if who == account)
		);
	});
}

/// Audits cost the protocol account no more than it keeps: an audit pays its jurors at most the
/// task's fee, and happens with a probability no higher than the part of the protocol cut that
/// data rewards leave in the account.
#[test]
fn audits_cost_no_more_than_the_protocol_cut_keeps() {
	use crate::configs::{AuditProbability, DataUsageShare, InferenceProtocolCut};
	let kept = InferenceProtocolCut::get() * (Perbill::one() - DataUsageShare::get());
	assert!(AuditProbability::get() <= kept, "{:?} > {kept:?}", AuditProbability::get());
}

/// A wrong result loses money even when nothing but audits checks it: the expected slash,
/// `AuditProbability × max(WrongResultSlash, share × SlashFeeMultiple)`, exceeds the share
/// cheating earns, for every fee.
#[test]
fn audits_alone_make_a_wrong_result_lose_money() {
	use crate::configs::{AuditProbability, SLASH_FEE_MULTIPLE};
	let audit = AuditProbability::get();
	for share in [10 * crate::MILLI_UNIT, crate::UNIT, 100 * crate::UNIT, 10_000 * crate::UNIT] {
		let slash = pallet_challenges::Pallet::<crate::Runtime>::wrong_result_slash(share);
		assert!(slash >= share * u128::from(SLASH_FEE_MULTIPLE));
		let gain = (Perbill::one() - audit) * share;
		assert!(audit * slash > gain, "share {share}: {} <= {gain}", audit * slash);
	}
}

/// Requesters lose nothing in expectation to wrong results that only audits check: what an
/// audit that finds one pays its requester (compensation out of the slash, before the jurors)
/// makes up, at `AuditProbability`, for what it paid the rest of the time. The compensation
/// always leaves enough of the slash to pay the jury.
#[test]
fn audits_alone_make_requesters_whole_in_expectation() {
	use crate::configs::{AuditProbability, COMPENSATION_FEE_MULTIPLE, SLASH_FEE_MULTIPLE};
	let audit = u128::from(AuditProbability::get().deconstruct());
	let whole = u128::from(Perbill::one().deconstruct());
	let min_fee: u128 =
		<<crate::Runtime as pallet_inference::Config>::MinFeePerExecutor as Get<u128>>::get();
	let jury: u128 =
		3 * <<crate::Runtime as pallet_challenges::Config>::JurorReward as Get<u128>>::get();
	let mut shares = vec![min_fee, crate::UNIT, 100 * crate::UNIT, 10_000 * crate::UNIT];
	// Where the floor slash and the fee multiple meet, the slash leaves the least.
	shares.push(crate::configs::WRONG_RESULT_SLASH / u128::from(SLASH_FEE_MULTIPLE));
	for share in shares {
		let slash = pallet_challenges::Pallet::<crate::Runtime>::wrong_result_slash(share);
		let compensation = share * u128::from(COMPENSATION_FEE_MULTIPLE);
		// What the slash leaves after the compensation still pays the first jury: the protocol
		// account never funds a compensation, even indirectly.
		assert!(compensation + jury <= slash, "share {share}: {compensation} + {jury} > {slash}");
		assert!(audit * compensation >= (whole - audit) * share, "share {share}");
	}
}

/// Withholding a reveal after committing never costs less than revealing a wrong result, so a
/// cheater who sees an honest reveal differ from its own gains nothing by going silent.
#[test]
fn withholding_a_reveal_costs_at_least_a_wrong_result() {
	type I = <crate::Runtime as pallet_inference::Config>::MissedRevealSlash;
	type C = <crate::Runtime as pallet_challenges::Config>::WrongResultSlash;
	assert!(<I as Get<u128>>::get() >= <C as Get<u128>>::get());
}

/// The inference deadline hook's budget holds ten of its costliest transitions and stays within
/// the quarter of a block that normal transactions never use, leaving room in it for the
/// challenges' hook, so that a backlog of deadlines does not take room from transfers.
#[test]
fn the_deadline_hooks_budget_holds_a_transition_and_leaves_normal_transactions_their_share() {
	sp_io::TestExternalities::default().execute_with(|| {
		type I = <crate::Runtime as pallet_inference::Config>::MaxDeadlineWeight;
		let budget = <I as Get<frame_support::weights::Weight>>::get();
		let block = crate::configs::RuntimeBlockWeights::get().max_block;
		let costliest = pallet_inference::Pallet::<crate::Runtime>::hook_weight(
			1,
			pallet_inference::MAX_BLOCKS_PER_RUN,
		);
		assert!(costliest.all_lte(budget), "{costliest} does not fit in {budget}");
		assert!(budget.all_lte(Perbill::from_percent(15) * block));
		assert!(costliest.saturating_mul(10).all_lte(budget));
	});
}

/// Every hook of the chain's own pallets at its most, with the block's base weight, fits in the
/// quarter of a block that normal transactions never use: a block whose hooks do all they may
/// (the inference hook its whole budget, the challenges hook its most disputes each at its
/// costliest transition, the data rewards hook an epoch's close and its most attestations
/// judged) still takes a whole share of ordinary transactions, and leaves room for
/// operational duties. FRAME's own hooks (a session rotation claims a whole block, see
/// `docs/reliability.md`) are checked by the fuzzer's weight check.
#[test]
fn every_hook_at_its_most_leaves_normal_transactions_their_share() {
	use frame_support::{dispatch::DispatchClass, weights::Weight};
	use pallet_data_rewards::WeightInfo as _;
	sp_io::TestExternalities::default().execute_with(|| {
		type I = <crate::Runtime as pallet_inference::Config>::MaxDeadlineWeight;
		type DataRewardsWeights = pallet_data_rewards::weights::SubstrateWeight<crate::Runtime>;
		let weights = crate::configs::RuntimeBlockWeights::get();
		let inference = <I as Get<Weight>>::get();
		let challenges = pallet_challenges::Pallet::<crate::Runtime>::max_hook_weight();
		let data_rewards = DataRewardsWeights::on_initialize_epoch().saturating_add(
			DataRewardsWeights::judge_attestations(pallet_data_rewards::JUDGED_PER_BLOCK),
		);
		let hooks = weights
			.base_block
			.saturating_add(inference)
			.saturating_add(challenges)
			.saturating_add(data_rewards);
		let normal = weights.get(DispatchClass::Normal).max_total.expect("normal is bounded");
		let room = weights.max_block.saturating_sub(normal);
		assert!(
			hooks.all_lte(room),
			"hooks {hooks} do not fit in {room}: base {}, inference {inference}, challenges \
			 {challenges}, data rewards {data_rewards}",
			weights.base_block
		);
		// The challenges hook's budget still holds four of its costliest transitions.
		let costliest = pallet_challenges::Pallet::<crate::Runtime>::transition_weight();
		assert!(costliest.saturating_mul(4).all_lte(challenges), "{costliest} × 4 > {challenges}");
	});
}

/// Each assignment reserves the most it can cost its executor, and each jury seat the juror
/// penalty; an agent with the minimum stake can still take on work.
#[test]
fn collateral_fits_in_the_minimum_stakes() {
	let min_fee: u128 =
		<<crate::Runtime as pallet_inference::Config>::MinFeePerExecutor as Get<u128>>::get();
	let executor = pallet_inference::Pallet::<crate::Runtime>::executor_collateral(min_fee);
	let min_executor: u128 =
		<<crate::Runtime as pallet_agents::Config>::MinExecutorStake as Get<u128>>::get();
	assert!(executor <= min_executor, "{executor} > {min_executor}");
	let juror: u128 =
		<<crate::Runtime as pallet_challenges::Config>::JurorPenalty as Get<u128>>::get();
	let min_verifier: u128 =
		<<crate::Runtime as pallet_agents::Config>::MinVerifierStake as Get<u128>>::get();
	assert!(juror <= min_verifier);
}

/// A batch at its smallest fee reserves every slash its root can owe (the audit's and 15 item
/// disputes' at 3 AGC each), and that still fits in the minimum executor stake: an executor with
/// the minimum stake can take a batch of any size, any tokens and any commit period it may have,
/// at the minimum fee. Its items are priced as a
/// task is: the least item slash is 2,000 times the least item fee, as a task's slash is of its
/// least fee.
#[test]
fn a_batchs_collateral_at_the_minimum_fee_fits_in_the_minimum_stake() {
	// The terms read from storage whether batches are taken.
	sp_io::TestExternalities::default().execute_with(|| {
		use pallet_inference::DisputeHandler;
		type Inference = pallet_inference::Pallet<crate::Runtime>;
		type I = crate::Runtime;
		let terms = <crate::Challenges as DisputeHandler<_, u128>>::batch_terms();
		assert_eq!(terms.item_slash_floor, 3 * crate::UNIT);
		assert_eq!((terms.item_disputes, terms.jurors_needed), (15, 3 + 7 + 15));
		let min_executor: u128 =
			<<I as pallet_agents::Config>::MinExecutorStake as Get<u128>>::get();
		let max_items = <<I as pallet_inference::Config>::MaxBatchItems as Get<u32>>::get();
		let tokens_per_block = <<I as pallet_inference::Config>::TokensPerBlock as Get<u32>>::get();
		// The most tokens an item may ask: what a juror re-executes in its commit period.
		for max_tokens in [1, terms.jury_commit_blocks * tokens_per_block] {
			let params = pallet_inference::TaskParams {
				max_tokens,
				temperature_milli: 0,
				seed: 0,
				mode: pallet_inference::VerificationMode::ExactMatch,
			};
			for items in [1, 2, 15, 16, 100, max_items] {
				let (shortest, longest) =
					Inference::commit_period_bounds(Some(items), &params).expect("a valid size");
				for period in [shortest, longest] {
					let share = Inference::min_fee(Some(items), 1, period);
					let collateral = Inference::collateral_of(share, Some(items));
					assert!(
						collateral <= min_executor,
						"{items} items of {max_tokens} tokens over {period} blocks: {collateral}"
					);
				}
			}
		}
		let min_item_fee: u128 =
			<<I as pallet_inference::Config>::MinFeePerItem as Get<u128>>::get();
		let min_fee: u128 =
			<<I as pallet_inference::Config>::MinFeePerExecutor as Get<u128>>::get();
		assert_eq!(
			terms.item_slash_floor / min_item_fee,
			crate::configs::WRONG_RESULT_SLASH / min_fee
		);
	});
}

/// An upheld challenge never pays its challenger the whole slash: a guilty executor's own
/// challenge still loses it most of it.
#[test]
fn a_self_challenge_keeps_most_of_the_slash() {
	use crate::configs::ChallengerShare;
	assert!(ChallengerShare::get() <= Perbill::from_percent(25));
}

/// Batches are off until root turns them on, by `system.set_storage` of a well-known key.
#[test]
fn batches_are_taken_once_root_turns_them_on() {
	use crate::configs::BatchesTaken;
	use pallet_inference::DisputeHandler;
	assert_eq!(BatchesTaken::key(), sp_io::hashing::twox_128(b":BatchesTaken:"));
	sp_io::TestExternalities::default().execute_with(|| {
		let taken = || <crate::Challenges as DisputeHandler<_, u128>>::batch_terms().items_judged;
		assert!(!taken(), "off by default");
		sp_io::storage::set(&BatchesTaken::key(), &codec::Encode::encode(&true));
		assert!(taken());
	});
}
