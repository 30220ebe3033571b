//! Calls built from the fuzzer's bytes.
//!
//! Arguments are biased toward what reaches deep code: ids of tasks, disputes and datasets that
//! exist (and their neighbours), amounts at and around every threshold of the runtime (the
//! existential deposit, each role's minimum stake, the minimum fee, the signer's whole balance),
//! lengths at and one past every bound, and commitments that a later reveal can open (outputs
//! and salts come from small sets, so a commit and a reveal drawn apart still match). A share of
//! the calls is any call at all: a `RuntimeCall` decoded from raw bytes.
//!
//! Root is trusted: `sudo` calls are never built (a root call may rewrite any storage), and a
//! decoded call of the sudo pallet is replaced by a remark.

use crate::input::Source;
use agentchain_primitives::{
	agents::Role,
	inference::{TaskId, VerificationMode, INPUT_UNAVAILABLE},
	ModelId,
};
use agentchain_runtime::{
	configs::MAX_COMMIT_PERIOD, AccountId, Address, Balance, Balances, Runtime, RuntimeCall,
	SessionKeys, EXISTENTIAL_DEPOSIT, MILLI_UNIT, UNIT,
};
use codec::Decode;
use frame_support::traits::fungible::Inspect;
use pallet_inference::{TaskInput, TaskParams};
use sp_core::{Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::MultiAddress;
use std::sync::OnceLock;

/// The signers: twelve accounts the fuzzer's genesis endows and two with nothing, which serve as
/// operator keys. Ed25519 keys: their signatures are deterministic (sr25519 ones are not), and a
/// signature is part of the block, hence of the block hash the runtime draws executors and
/// juries from; so the same input replays the same run.
pub const SIGNERS: [Ed25519Keyring; 14] = [
	Ed25519Keyring::Alice,
	Ed25519Keyring::Bob,
	Ed25519Keyring::Charlie,
	Ed25519Keyring::Dave,
	Ed25519Keyring::Eve,
	Ed25519Keyring::Ferdie,
	Ed25519Keyring::AliceStash,
	Ed25519Keyring::BobStash,
	Ed25519Keyring::CharlieStash,
	Ed25519Keyring::DaveStash,
	Ed25519Keyring::EveStash,
	Ed25519Keyring::FerdieStash,
	Ed25519Keyring::One,
	Ed25519Keyring::Two,
];

/// How many of [`SIGNERS`] the fuzzer's genesis endows (the first ones).
pub const ENDOWED_SIGNERS: usize = 12;

/// The key pair of `signer`, derived once (a keyring derives it from its phrase at every call,
/// which costs more than everything else the fuzzer does).
pub fn pair(signer: Ed25519Keyring) -> &'static sp_core::ed25519::Pair {
	static PAIRS: OnceLock<Vec<(Ed25519Keyring, sp_core::ed25519::Pair)>> = OnceLock::new();
	let pairs = PAIRS.get_or_init(|| SIGNERS.iter().map(|k| (*k, k.pair())).collect());
	&pairs.iter().find(|(k, _)| *k == signer).expect("every signer is in SIGNERS").1
}

/// The account of `signer`.
pub fn account_of(signer: Ed25519Keyring) -> AccountId {
	AccountId::from(pair(signer).public().0)
}

/// A signer for the next call: most of the time one whose agent has a duty (a task to commit or
/// reveal, a dispute to vote on), when any has; otherwise any.
pub fn signer(src: &mut Source) -> Ed25519Keyring {
	if src.below(2) == 0 {
		let on_duty: Vec<Ed25519Keyring> = SIGNERS
			.iter()
			.copied()
			.filter(|s| {
				let agent = agent_of(&account_of(*s));
				pallet_inference::AssignedTasks::<Runtime>::iter_key_prefix(&agent)
					.next()
					.is_some() || pallet_challenges::JurorDuties::<Runtime>::iter_key_prefix(&agent)
					.next()
					.is_some()
			})
			.collect();
		if !on_duty.is_empty() {
			return src.pick(&on_duty);
		}
	}
	src.pick(&SIGNERS)
}

/// The outputs executors commit to and reveal (an index past the end means "input unavailable").
pub const OUTPUTS: [&[u8]; 3] = [b"the answer", b"another answer", b""];

/// blake2-256.
pub fn hash(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

/// The models agents serve and tasks name.
pub fn model(index: usize) -> ModelId {
	hash(format!("model {index}").as_bytes())
}

/// The output hash of choice `k`: one of [`OUTPUTS`], or [`INPUT_UNAVAILABLE`].
pub fn output_hash(k: usize) -> H256 {
	OUTPUTS.get(k).map_or(INPUT_UNAVAILABLE, |output| hash(output))
}

/// The salt of choice `k`.
pub fn salt(k: u8) -> [u8; 32] {
	[k; 32]
}

/// The account `signer` acts for: its agent when it is an operator key, itself otherwise.
pub fn agent_of(signer: &AccountId) -> AccountId {
	pallet_agents::Operators::<Runtime>::get(signer).unwrap_or_else(|| signer.clone())
}

fn amount(src: &mut Source, who: &AccountId) -> Balance {
	let free = Balances::balance(who);
	match src.below(18) {
		0 => 0,
		1 => 1,
		2 => EXISTENTIAL_DEPOSIT - 1,
		3 => EXISTENTIAL_DEPOSIT,
		4 => UNIT,
		5 => 50 * UNIT - 1,
		6 => 50 * UNIT,
		7 => 100 * UNIT - 1,
		8 => 100 * UNIT,
		9 => 1_000 * UNIT,
		10 => free,
		11 => free / 2,
		12 => free.saturating_sub(EXISTENTIAL_DEPOSIT),
		13 => u128::MAX,
		14 => u128::from(src.u64()),
		15 => 10 * MILLI_UNIT,
		16 => 10 * MILLI_UNIT - 1,
		_ => 20 * UNIT,
	}
}

fn bytes(src: &mut Source, lengths: &[usize]) -> Vec<u8> {
	let len = src.pick(lengths);
	let fill = src.u8();
	// Mostly text (inputs are checked as UTF-8 by executors, never by the chain).
	(0..len).map(|i| b'a' + ((fill as usize + i) % 26) as u8).collect()
}

fn account(src: &mut Source) -> AccountId {
	match src.below(12) {
		0..=7 => account_of(src.pick(&SIGNERS)),
		8 => pallet_inference::Pallet::<Runtime>::account_id(),
		9 => pallet_challenges::Pallet::<Runtime>::account_id(),
		10 => pallet_data_rewards::Pallet::<Runtime>::account_id(),
		_ => AccountId::from(src.array::<32>()),
	}
}

fn address(src: &mut Source) -> Address {
	MultiAddress::Id(account(src))
}

fn task_id(src: &mut Source) -> TaskId {
	let next = pallet_inference::NextTaskId::<Runtime>::get();
	match src.below(8) {
		0..=4 => next.saturating_sub(1 + src.below(4) as u64),
		5 => next,
		6 => src.u64(),
		_ => pallet_challenges::Disputes::<Runtime>::iter_keys().next().unwrap_or(0),
	}
}

/// A task the signer's agent is assigned to (most of the time, when it has one) or any task id.
fn assigned_task(src: &mut Source, agent: &AccountId) -> TaskId {
	if src.below(4) != 0 {
		let assigned: Vec<TaskId> =
			pallet_inference::AssignedTasks::<Runtime>::iter_key_prefix(agent)
				.take(8)
				.collect();
		if !assigned.is_empty() {
			return src.pick(&assigned);
		}
	}
	task_id(src)
}

/// A dispute the signer's agent sits on as a juror (most of the time, when it sits on one) or
/// any task id.
fn juror_task(src: &mut Source, juror: &AccountId) -> TaskId {
	if src.below(4) != 0 {
		let duties: Vec<TaskId> = pallet_challenges::JurorDuties::<Runtime>::iter_key_prefix(juror)
			.take(8)
			.collect();
		if !duties.is_empty() {
			return src.pick(&duties);
		}
	}
	task_id(src)
}

fn dataset_id(src: &mut Source) -> u64 {
	let next = pallet_data_rewards::NextDatasetId::<Runtime>::get();
	match src.below(6) {
		0..=3 => next.saturating_sub(1 + src.below(3) as u64),
		4 => next,
		_ => src.u64(),
	}
}

fn model_id(src: &mut Source) -> ModelId {
	if src.below(8) == 0 {
		H256(src.array())
	} else {
		model(src.below(3))
	}
}

fn models(src: &mut Source) -> Vec<ModelId> {
	let count = src.pick(&[0usize, 1, 1, 2, 3, 17]);
	(0..count).map(|_| model_id(src)).collect()
}

fn roles(src: &mut Source) -> Vec<Role> {
	let count = src.pick(&[0usize, 1, 1, 2, 3, 4]);
	(0..count).map(|_| src.pick(&Role::ALL)).collect()
}

fn session_keys(src: &mut Source) -> SessionKeys {
	static AURA: OnceLock<Vec<sp_core::sr25519::Public>> = OnceLock::new();
	let aura = AURA.get_or_init(|| {
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob]
			.iter()
			.map(|k| k.pair().public())
			.collect()
	});
	SessionKeys {
		aura: sp_consensus_aura::sr25519::AuthorityId::from(src.pick(aura)),
		grandpa: sp_consensus_grandpa::AuthorityId::from(pair(src.pick(&SIGNERS[..6])).public()),
	}
}

/// A call of the agents pallet.
fn agents(src: &mut Source, signer: &AccountId) -> RuntimeCall {
	use pallet_agents::Call;
	let call = match src.below(14) {
		0 | 1 => Call::register {
			name: bytes(src, &[0, 1, 8, 64, 65]),
			endpoint: bytes(src, &[0, 10, 256, 257]),
			version: bytes(src, &[0, 5, 32, 33]),
			models: models(src),
			roles: roles(src),
			stake: amount(src, signer),
		},
		2 => Call::bond_extra { amount: amount(src, signer) },
		3 => Call::unbond { amount: amount(src, signer) },
		4 => Call::withdraw_unbonded {},
		5 => Call::set_operator { operator: address(src) },
		6 => Call::accept_operator { agent: address(src) },
		7 => Call::pause {},
		8 => Call::resume {},
		9 => Call::deregister {},
		10 => Call::update_metadata {
			name: bytes(src, &[0, 8, 65]),
			endpoint: bytes(src, &[0, 10, 257]),
			version: bytes(src, &[0, 5, 33]),
		},
		11 => Call::set_models { models: models(src) },
		12 => Call::set_roles { roles: roles(src) },
		_ => match src.below(3) {
			0 => Call::heartbeat {},
			1 => Call::rejoin {},
			// 0 to 3: the bounds' edge (0) refused, small speeds taken.
			_ => Call::set_batch_speed { speed: src.below(4) as u32 },
		},
	};
	RuntimeCall::Agents(call)
}

/// A call of the inference pallet.
fn inference(src: &mut Source, signer: &AccountId) -> RuntimeCall {
	use pallet_inference::Call;
	let agent = agent_of(signer);
	let call = match src.below(10) {
		0 | 1 => {
			let input = match src.below(16) {
				0..4 => TaskInput::Reference {
					hash: hash(&[src.u8()]),
					uri: bytes(src, &[0, 10, 256, 257]),
				},
				// Refused while the dispute handler does not judge batches item by item: a
				// refusal must change nothing.
				4 => TaskInput::Batch {
					root: hash(&[src.u8()]),
					uri: bytes(src, &[0, 10, 256, 257]),
					items: src.pick(&[0, 1, 16, 1024, 1025, u32::MAX]),
					// Mostly a secret the reveal below can open.
					audit_commitment: hash(audit_secret(src.u8() % 3).as_bytes()),
				},
				_ => TaskInput::Inline(bytes(src, &[0, 1, 12, 4096, 4097])),
			};
			Call::submit_task {
				model: model_id(src),
				input,
				params: TaskParams {
					max_tokens: src.pick(&[0, 1, 256, u32::MAX]),
					temperature_milli: src.pick(&[0, 700, 2000, 2001]),
					seed: u64::from(src.u8()),
					mode: src.pick(&[VerificationMode::ExactMatch, VerificationMode::Jury]),
				},
				fee: amount(src, signer),
				redundancy: src.pick(&[0, 1, 1, 2, 3, 5, 6]),
				commit_period: src.pick(&[
					0,
					1,
					2,
					3,
					10,
					100,
					MAX_COMMIT_PERIOD,
					MAX_COMMIT_PERIOD + 1,
				]),
			}
		},
		2 | 3 => {
			let task = assigned_task(src, &agent);
			let commitment = if src.below(8) == 0 {
				H256(src.array())
			} else {
				let k = src.below(OUTPUTS.len() + 1);
				pallet_inference::commitment_of(&output_hash(k), &salt(src.u8() % 2), &agent)
			};
			Call::commit { task, commitment }
		},
		4 | 5 => {
			let task = assigned_task(src, &agent);
			let k = src.below(OUTPUTS.len() + 1);
			let output = match (OUTPUTS.get(k), src.below(4)) {
				(_, 0) => None,
				(Some(bytes), 1 | 2) => Some(bytes.to_vec()),
				(_, _) => Some(b"not what was committed".to_vec()),
			};
			Call::reveal {
				task,
				output_hash: output_hash(k),
				salt: salt(src.u8() % 2),
				output,
				uri: src.pick(&[None, Some(b"ipfs://output".to_vec()), Some(vec![b'u'; 257])]),
			}
		},
		// Prepaid funds: the submissions above take their fees and deposits from them when
		// they cover both; a withdrawal past them must be refused and change nothing.
		8 => Call::prepay { amount: amount(src, signer) },
		9 => {
			let prepaid = pallet_inference::Prepaid::<Runtime>::get(signer);
			let amount = match src.below(4) {
				0 => prepaid,
				1 => prepaid.saturating_add(1),
				_ => amount(src, signer),
			};
			Call::withdraw_prepaid { amount }
		},
		7 if src.below(2) == 0 => {
			Call::reveal_audit_secret { task: task_id(src), secret: audit_secret(src.u8() % 3) }
		},
		_ => Call::advance { task: task_id(src) },
	};
	RuntimeCall::Inference(call)
}

/// The audit secrets batches commit to and reveals open: a set of three, so that a reveal
/// drawn apart from its batch opens its commitment now and then, and as often does not.
fn audit_secret(k: u8) -> H256 {
	H256([k; 32])
}

/// A call of the challenges pallet.
fn challenges(src: &mut Source, signer: &AccountId) -> RuntimeCall {
	use pallet_challenges::Call;
	let juror = agent_of(signer);
	let task = juror_task(src, &juror);
	let dispute = pallet_challenges::Disputes::<Runtime>::get(task);
	let call = match src.below(8) {
		0 => Call::challenge { task, bond: amount(src, signer) },
		1 | 2 => {
			let round = dispute.as_ref().map_or(0, |d| d.round);
			let vote = vote(src, dispute.as_ref().and_then(|d| d.result));
			let commitment =
				pallet_challenges::vote_commitment(task, round, &vote, &salt(src.u8() % 2), &juror);
			Call::commit_vote { task, commitment }
		},
		3 => Call::reveal_vote {
			task,
			vote: vote(src, dispute.as_ref().and_then(|d| d.result)),
			salt: salt(src.u8() % 2),
		},
		4 => Call::appeal { task, bond: amount(src, signer) },
		// A batch's item dispute and bisection (refused while the chain takes no batch: a
		// refusal must change nothing).
		5 => {
			let proof = (0..src.below(12)).map(|_| hash(&[src.u8()])).collect::<Vec<_>>();
			match src.below(4) {
				0 => Call::challenge_item {
					task,
					item: src.pick(&[0, 1, 15, 1023, u32::MAX]),
					bond: amount(src, signer),
				},
				1 => Call::show_item_input { task, input: bytes(src, &[0, 12, 4097]), proof },
				2 => Call::show_item_output { task, output: output_hash(src.below(3)), proof },
				_ => Call::open_node {
					task,
					left: hash(&[src.u8()]),
					right: src.bool().then(|| hash(&[src.u8()])),
				},
			}
		},
		_ => Call::advance { task },
	};
	RuntimeCall::Challenges(call)
}

fn vote(src: &mut Source, result: Option<H256>) -> H256 {
	match src.below(5) {
		0 => pallet_challenges::REJECT,
		1 => result.unwrap_or_default(),
		2 => INPUT_UNAVAILABLE,
		k => output_hash(k - 3),
	}
}

/// A call of the data-rewards pallet.
fn data_rewards(src: &mut Source) -> RuntimeCall {
	use pallet_data_rewards::Call;
	let call = match src.below(10) {
		0 | 1 => Call::register_dataset {
			content_hash: hash(&[src.u8() % 4]),
			uri: bytes(src, &[0, 10, 256, 257]),
			license: bytes(src, &[0, 7, 64, 65]),
			size: src.pick(&[0, 1, 1 << 20, u64::MAX]),
			description: bytes(src, &[0, 20, 512, 513]),
		},
		2 => Call::update_dataset {
			dataset: dataset_id(src),
			uri: bytes(src, &[0, 10, 257]),
			license: bytes(src, &[0, 7, 65]),
			description: bytes(src, &[0, 20, 513]),
		},
		3 => Call::retire_dataset { dataset: dataset_id(src) },
		4 => Call::remove_dataset { dataset: dataset_id(src) },
		5 => {
			let count = src.pick(&[0usize, 1, 2, 3, 33]);
			Call::declare_model {
				model: model_id(src),
				datasets: (0..count).map(|_| dataset_id(src)).collect(),
			}
		},
		6 => Call::remove_model { model: model_id(src) },
		7 => Call::unlink_retired { model: model_id(src), dataset: dataset_id(src) },
		8 => Call::attest { dataset: dataset_id(src), score: src.pick(&[0, 1, 50, 100, 101, 255]) },
		_ => Call::claim { dataset: dataset_id(src) },
	};
	RuntimeCall::DataRewards(call)
}

/// A call of one of FRAME's pallets that a signed account may make.
fn frame(src: &mut Source, signer: &AccountId) -> RuntimeCall {
	use pallet_balances::Call as B;
	use pallet_collator_selection::Call as C;
	match src.below(10) {
		0 | 1 => RuntimeCall::Balances(B::transfer_allow_death {
			dest: address(src),
			value: amount(src, signer),
		}),
		2 | 3 => RuntimeCall::Balances(B::transfer_keep_alive {
			dest: address(src),
			value: amount(src, signer),
		}),
		4 => RuntimeCall::Balances(B::transfer_all { dest: address(src), keep_alive: src.bool() }),
		5 => RuntimeCall::Balances(B::burn { value: amount(src, signer), keep_alive: src.bool() }),
		6 => RuntimeCall::CollatorSelection(match src.below(4) {
			0 => C::register_as_candidate {},
			1 => C::leave_intent {},
			2 => C::update_bond { new_deposit: amount(src, signer) },
			_ => C::take_candidate_slot { deposit: amount(src, signer), target: account(src) },
		}),
		7 => RuntimeCall::Session(if src.bool() {
			pallet_session::Call::set_keys { keys: session_keys(src), proof: src.raw(80) }
		} else {
			pallet_session::Call::purge_keys {}
		}),
		8 => RuntimeCall::System(frame_system::Call::remark { remark: src.raw(40) }),
		_ => raw(src),
	}
}

/// Any call at all, decoded from the input's bytes (a remark when they decode to none, or to a
/// call of the sudo pallet).
fn raw(src: &mut Source) -> RuntimeCall {
	// A pallet index of the runtime first (a random byte names one only one time in twenty),
	// then the call index and its arguments, raw.
	let pallet = src.pick(&[0u8, 4, 5, 7, 8, 9, 20, 21, 22, 23]);
	let bytes = [&[pallet][..], &src.raw(96)].concat();
	match RuntimeCall::decode(&mut &bytes[..]) {
		Ok(RuntimeCall::Sudo(_)) | Err(_) => {
			RuntimeCall::System(frame_system::Call::remark { remark: bytes })
		},
		Ok(call) => call,
	}
}

/// A call for `signer` to make, built in the chain's current state.
pub fn call(src: &mut Source, signer: &AccountId) -> RuntimeCall {
	match src.below(16) {
		0..=2 => agents(src, signer),
		3..=7 => inference(src, signer),
		8..=10 => challenges(src, signer),
		11..=12 => data_rewards(src),
		_ => frame(src, signer),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::input::{Rng, Source};
	use frame_support::traits::{GetCallMetadata, GetCallName};
	use std::collections::BTreeSet;

	/// Every call of the chain's own pallets is generated, in a fresh state, from random inputs:
	/// a call the generator never makes is never fuzzed.
	#[test]
	fn every_call_of_the_chains_pallets_is_generated() {
		let signer = account_of(Ed25519Keyring::Alice);
		let mut seen = BTreeSet::new();
		sp_io::TestExternalities::default().execute_with(|| {
			let mut rng = Rng::new(7);
			for _ in 0..20_000 {
				let data = rng.bytes(256);
				let metadata = call(&mut Source::new(&data), &signer).get_call_metadata();
				seen.insert((metadata.pallet_name, metadata.function_name));
			}
		});
		let pallets: [(&str, &[&str]); 4] = [
			("Agents", pallet_agents::Call::<Runtime>::get_call_names()),
			("Inference", pallet_inference::Call::<Runtime>::get_call_names()),
			("Challenges", pallet_challenges::Call::<Runtime>::get_call_names()),
			("DataRewards", pallet_data_rewards::Call::<Runtime>::get_call_names()),
		];
		let missing: Vec<String> = pallets
			.iter()
			.flat_map(|(pallet, names)| {
				names
					.iter()
					.filter(|name| !seen.contains(&(*pallet, **name)))
					.map(move |name| format!("{pallet}.{name}"))
			})
			.collect();
		assert!(missing.is_empty(), "never generated: {missing:?}");
	}
}
