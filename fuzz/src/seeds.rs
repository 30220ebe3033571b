//! The states sequences start from, built once per process through the same `Executive` path
//! as the sequences themselves, each from the one before:
//!
//! 1. `genesis`: the `development` preset, before block 1.
//! 2. `agents`: Bob, Charlie and Dave registered as executors and verifiers of two models (Dave
//!    with the operator key One), Eve as a curator, the six stash accounts as verifiers
//!    (FerdieStash an executor too), a dataset registered and declared as a
//!    model's training data, One and Two funded.
//! 3. `tasks`: three tasks of Ferdie's assigned: one exact-match task of two executors committed
//!    and revealed, one jury-mode task committed and revealed, one of three executors with one
//!    commitment in.
//! 4. `dispute`: the revealed exact-match task challenged: a dispute with its jury drawn.
//! 5. `session-end`: `dispute` run on, with no more calls, to four blocks before the first session
//!    rotation (#200): its tasks and dispute settled by the hooks, most sequences from it cross a
//!    rotation, which a sequence from the others (26 blocks on average) almost never reaches.
//!
//! Each step asserts that its calls succeed, so a runtime change that breaks a seed fails loudly
//! here instead of leaving the fuzzer shallow.

use crate::{
	calls::{model, output_hash, salt, OUTPUTS, SIGNERS},
	chain::Chain,
};
use agentchain_primitives::{agents::Role, inference::VerificationMode};
use agentchain_runtime::{AccountId, Runtime, RuntimeCall, UNIT};
use pallet_inference::{TaskInput, TaskParams};
use sp_core::H256;
use sp_keyring::Ed25519Keyring::{
	self, Alice, AliceStash, Bob, BobStash, Charlie, CharlieStash, Dave, DaveStash, Eve, EveStash,
	Ferdie, FerdieStash, One, Two,
};

/// A trie's nodes, as `TestExternalities::into_raw_snapshot` gives them.
pub type RawNodes = Vec<(Vec<u8>, (Vec<u8>, i32))>;

/// A state to start sequences from.
pub struct Seed {
	/// What it is.
	pub name: &'static str,
	/// Its storage, as raw trie nodes.
	pub raw: RawNodes,
	/// Its storage root.
	pub root: H256,
	/// The hash of its last block.
	pub parent: H256,
}

fn must(chain: &mut Chain, signer: Ed25519Keyring, call: RuntimeCall) {
	let what = format!("{call:?}");
	match chain.apply(signer, call) {
		Ok(Ok(())) => {},
		other => panic!("seed step {what} by {signer:?} failed: {other:?}"),
	}
}

fn next_block(chain: &mut Chain) {
	chain
		.close_block()
		.unwrap_or_else(|f| panic!("a seed block failed its checks: {f}"));
	chain
		.open_block(0)
		.unwrap_or_else(|f| panic!("a seed block failed to open: {f}"));
}

fn keyring_of(account: &AccountId) -> Ed25519Keyring {
	*SIGNERS
		.iter()
		.find(|k| &crate::calls::account_of(**k) == account)
		.expect("every executor of the seeds is a signer")
}

fn submit(chain: &mut Chain, redundancy: u32, mode: VerificationMode, prompt: &[u8]) -> u64 {
	let id = chain.exec(pallet_inference::NextTaskId::<Runtime>::get);
	must(
		chain,
		Ferdie,
		RuntimeCall::Inference(pallet_inference::Call::submit_task {
			model: model(0),
			input: TaskInput::Inline(prompt.to_vec()),
			params: TaskParams { max_tokens: 16, temperature_milli: 0, seed: 1, mode },
			fee: UNIT,
			redundancy,
			commit_period: 10,
		}),
	);
	id
}

fn executors(chain: &mut Chain, task: u64) -> Vec<AccountId> {
	chain.exec(|| {
		pallet_inference::Tasks::<Runtime>::get(task)
			.map(|t| t.assignments.iter().map(|a| a.executor.clone()).collect())
			.unwrap_or_default()
	})
}

fn commit(chain: &mut Chain, task: u64, executor: &AccountId) {
	let commitment = pallet_inference::commitment_of(&output_hash(0), &salt(0), executor);
	must(
		chain,
		keyring_of(executor),
		RuntimeCall::Inference(pallet_inference::Call::commit { task, commitment }),
	);
}

fn reveal(chain: &mut Chain, task: u64, executor: &AccountId) {
	must(
		chain,
		keyring_of(executor),
		RuntimeCall::Inference(pallet_inference::Call::reveal {
			task,
			output_hash: output_hash(0),
			salt: salt(0),
			output: Some(OUTPUTS[0].to_vec()),
			uri: None,
		}),
	);
}

/// Builds the seeds.
pub fn build() -> Vec<Seed> {
	crate::logs::install();
	let mut seeds = Vec::new();
	let chain = Chain::genesis();
	seeds.push(chain.into_seed("genesis"));

	let mut chain = Chain::from_seed(&seeds[0]);
	chain.open_block(0).expect("block 1 opens");
	for operator in [One, Two] {
		must(
			&mut chain,
			Alice,
			RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: crate::calls::account_of(operator).into(),
				value: 100 * UNIT,
			}),
		);
	}
	for (who, roles, stake) in [
		(Bob, vec![Role::Executor, Role::Verifier], 1_000 * UNIT),
		(Charlie, vec![Role::Executor, Role::Verifier], 1_000 * UNIT),
		(Dave, vec![Role::Executor, Role::Verifier], 1_000 * UNIT),
		(Eve, vec![Role::Curator, Role::Verifier], 500 * UNIT),
		(AliceStash, vec![Role::Verifier], 200 * UNIT),
		(BobStash, vec![Role::Verifier], 200 * UNIT),
		(CharlieStash, vec![Role::Verifier], 200 * UNIT),
		(DaveStash, vec![Role::Verifier], 200 * UNIT),
		(EveStash, vec![Role::Verifier], 200 * UNIT),
		(FerdieStash, vec![Role::Verifier, Role::Executor], 200 * UNIT),
	] {
		must(
			&mut chain,
			who,
			RuntimeCall::Agents(pallet_agents::Call::register {
				name: format!("{who:?}").into_bytes(),
				endpoint: b"http://127.0.0.1:8000/v1".to_vec(),
				version: b"1".to_vec(),
				models: vec![model(0), model(1)],
				roles,
				stake,
			}),
		);
	}
	must(
		&mut chain,
		Dave,
		RuntimeCall::Agents(pallet_agents::Call::set_operator {
			operator: crate::calls::account_of(One).into(),
		}),
	);
	must(
		&mut chain,
		Ferdie,
		RuntimeCall::DataRewards(pallet_data_rewards::Call::register_dataset {
			content_hash: crate::calls::hash(&[0]),
			uri: b"ipfs://dataset".to_vec(),
			license: b"CC-BY-4.0".to_vec(),
			size: 1 << 20,
			description: b"a dataset".to_vec(),
		}),
	);
	next_block(&mut chain);
	must(
		&mut chain,
		One,
		RuntimeCall::Agents(pallet_agents::Call::accept_operator {
			agent: crate::calls::account_of(Dave).into(),
		}),
	);
	must(
		&mut chain,
		Bob,
		RuntimeCall::DataRewards(pallet_data_rewards::Call::declare_model {
			model: model(0),
			datasets: vec![0],
		}),
	);
	chain.close_block().expect("the agents seed's last block passes its checks");
	seeds.push(chain.into_seed("agents"));

	let mut chain = Chain::from_seed(&seeds[1]);
	chain.open_block(0).expect("a block opens");
	let exact = submit(&mut chain, 2, VerificationMode::ExactMatch, b"what is 2 + 2?");
	let jury = submit(&mut chain, 1, VerificationMode::Jury, b"write a haiku");
	let wide = submit(&mut chain, 3, VerificationMode::ExactMatch, b"name a colour");
	let mut waited = 0;
	while [exact, jury, wide].iter().any(|t| executors(&mut chain, *t).is_empty()) {
		assert!(waited < 5, "the seed's tasks were not assigned within 5 blocks");
		next_block(&mut chain);
		waited += 1;
	}
	for task in [exact, jury] {
		for executor in executors(&mut chain, task) {
			commit(&mut chain, task, &executor);
		}
	}
	let first = executors(&mut chain, wide)[0].clone();
	commit(&mut chain, wide, &first);
	next_block(&mut chain);
	for task in [exact, jury] {
		for executor in executors(&mut chain, task) {
			reveal(&mut chain, task, &executor);
		}
	}
	chain.close_block().expect("the tasks seed's last block passes its checks");
	seeds.push(chain.into_seed("tasks"));

	let mut chain = Chain::from_seed(&seeds[2]);
	chain.open_block(0).expect("a block opens");
	let mut waited = 0;
	loop {
		let bond = chain.exec(|| pallet_challenges::Pallet::<Runtime>::base_bond(UNIT));
		let call =
			RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: exact, bond });
		let applied = chain.apply(Alice, call);
		if let Ok(Ok(())) = applied {
			break;
		}
		let status =
			chain.exec(|| pallet_inference::Tasks::<Runtime>::get(exact).map(|t| t.status));
		eprintln!("challenge: {applied:?} {status:?}");
		assert!(waited < 20, "the seed's revealed task could not be challenged within 20 blocks");
		next_block(&mut chain);
		waited += 1;
	}
	// The jury is drawn at a later block than the challenge's.
	for _ in 0..3 {
		next_block(&mut chain);
	}
	let dispute = chain.exec(|| pallet_challenges::Disputes::<Runtime>::get(exact));
	assert!(dispute.is_some_and(|d| !d.jury.is_empty()), "the seed's dispute has a jury");
	chain.close_block().expect("the dispute seed's last block passes its checks");
	seeds.push(chain.into_seed("dispute"));

	let mut chain = Chain::from_seed(&seeds[3]);
	chain.open_block(0).expect("a block opens");
	while chain.number() < SESSION_END_SEED_BLOCK {
		next_block(&mut chain);
	}
	chain
		.close_block()
		.expect("the session-end seed's last block passes its checks");
	seeds.push(chain.into_seed("session-end"));
	seeds
}

/// The last block of the `session-end` seed: four blocks before the first session rotation.
const SESSION_END_SEED_BLOCK: u32 = 196;
