//! A test runtime with `pallet-balances`, the real agent registry, the real inference pallet
//! and the challenges pallet.

use crate as pallet_challenges;
use agentchain_primitives::{agents::Role, ModelId};
use codec::Encode;
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::HoldConsideration, ConstBool, ConstU32, ConstU64, LinearStoragePrice,
		VariantCountOf,
	},
	PalletId,
};
use sp_core::H256;
use sp_runtime::Perbill;

type Block = frame_system::mocking::MockBlock<Test>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(2)]
	pub type Agents = pallet_agents;

	#[runtime::pallet_index(3)]
	pub type Inference = pallet_inference;

	#[runtime::pallet_index(4)]
	pub type Challenges = pallet_challenges;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type ExistentialDeposit = ConstU64<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

parameter_types! {
	pub const AgentDepositReason: RuntimeHoldReason =
		RuntimeHoldReason::Agents(pallet_agents::HoldReason::AgentDeposit);
	pub const ChallengesPalletId: PalletId = PalletId(*b"ac/chlng");
	pub static AuditProbability: Perbill = Perbill::zero();
	/// The deadline hook's budget: unbounded unless a test sets it.
	pub static MaxDeadlineWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::MAX;
	pub const ChallengerShare: Perbill = Perbill::from_percent(CHALLENGER_SHARE_PERCENT);
}

#[derive_impl(pallet_agents::config_preludes::TestDefaultConfig)]
impl pallet_agents::Config for Test {
	type OperatorCrypto = TestOperatorCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Consideration = HoldConsideration<
		u64,
		Balances,
		AgentDepositReason,
		LinearStoragePrice<ConstU64<10>, ConstU64<0>, u64>,
	>;
	type MaxCandidates = ConstU32<32>;
}

/// Test randomness: a hash of the subject and the block it is tied to.
pub struct TestRandomness;
impl agentchain_support::BlockRandomness<u64> for TestRandomness {
	fn random_at(subject: &[u8], block: u64) -> Option<[u8; 32]> {
		Some(sp_io::hashing::blake2_256(&(subject, block).encode()))
	}
}

pub const FEE: u64 = 100;
/// The inference challenge period, from `pallet_inference::config_preludes`.
pub const CHALLENGE_PERIOD: u64 = 10;
pub const MIN_BOND: u64 = 50;
pub const BOND_FEE_MULTIPLE: u32 = 2;
pub const COMMIT_PERIOD: u64 = 4;
pub const REVEAL_PERIOD: u64 = 3;
pub const APPEAL_PERIOD: u64 = 3;
pub const WRONG_RESULT_SLASH: u64 = 200;
pub const JUROR_REWARD: u64 = 10;
pub const JUROR_PENALTY: u64 = 5;
pub const CHALLENGER_SHARE_PERCENT: u32 = 25;
/// A fee share of [`FEE`] gives a slash of `max(WRONG_RESULT_SLASH, FEE × 2)` = the floor.
pub const SLASH_FEE_MULTIPLE: u32 = 2;
/// The requester of a result found wrong is paid up to its fee once more out of the slash.
pub const COMPENSATION_FEE_MULTIPLE: u32 = 1;
/// Blocks a duty deadline moves by when blocks before it were full (the inference default).
pub const CONGESTION_GRACE: u64 = 2;
/// Blocks to show a disputed item.
pub const ITEM_PROOF_PERIOD: u64 = 3;
pub const BISECTION_STEP_PERIOD: u64 = 2;
/// Blocks an item dispute's first jury is waited for (drawn again every `COMMIT_PERIOD`).
pub const JURY_WAIT_LIMIT: u64 = 12;

#[derive_impl(pallet_inference::config_preludes::TestDefaultConfig)]
impl pallet_inference::Config for Test {
	type OperatorCrypto = TestOperatorCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	type Disputes = Challenges;
	type OnFinalised = ();
	type Randomness = TestRandomness;
	type MissedRevealSlash = ConstU64<WRONG_RESULT_SLASH>;
}

impl pallet_challenges::Config for Test {
	type OperatorCrypto = TestOperatorCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	type Tasks = Inference;
	type Randomness = TestRandomness;
	type PalletId = ChallengesPalletId;
	type Treasury = Inference;
	type MinChallengeBond = ConstU64<MIN_BOND>;
	type ChallengeBondFeeMultiple = ConstU32<BOND_FEE_MULTIPLE>;
	type JurySize = ConstU32<3>;
	type MaxJurySize = ConstU32<7>;
	type MaxAppeals = ConstU32<1>;
	type MaxExecutors = ConstU32<3>;
	type CommitPeriod = ConstU64<COMMIT_PERIOD>;
	type RevealPeriod = ConstU64<REVEAL_PERIOD>;
	type AppealPeriod = ConstU64<APPEAL_PERIOD>;
	type WrongResultSlash = ConstU64<WRONG_RESULT_SLASH>;
	type SlashFeeMultiple = ConstU32<SLASH_FEE_MULTIPLE>;
	type JurorReward = ConstU64<JUROR_REWARD>;
	type JurorPenalty = ConstU64<JUROR_PENALTY>;
	type ChallengerShare = ChallengerShare;
	type AuditProbability = AuditProbability;
	type CompensationFeeMultiple = ConstU32<COMPENSATION_FEE_MULTIPLE>;
	type MaxDeadlinesPerBlock = ConstU32<4>;
	type MaxDeadlineWeight = MaxDeadlineWeight;
	type CongestionGrace = ConstU64<CONGESTION_GRACE>;
	type BatchesTaken = ConstBool<true>;
	type MaxItemLen = ConstU32<64>;
	type ItemProofPeriod = ConstU64<ITEM_PROOF_PERIOD>;
	type BisectionStepPeriod = ConstU64<BISECTION_STEP_PERIOD>;
	type JuryWaitLimit = ConstU64<JURY_WAIT_LIMIT>;
	type WeightInfo = ();
}

agentchain_support::impl_test_signing!(Test);
pub use agentchain_support::mock_helpers::{ExtBuilder, TestOperatorCrypto};

/// The model the test agents serve.
pub fn model() -> ModelId {
	H256::repeat_byte(0xAA)
}

/// The genesis of a test: executors 11..=13, stake 500, 21 the operator key of 11; verifiers
/// 31..=42, stake 500, 51 the operator key of 31; requester 1, challengers 2 and 3 (10_000
/// each); 4 has 60; no audits.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut balances = vec![(1, 10_000), (2, 10_000), (3, 10_000), (4, 60), (21, 100), (51, 100)];
	balances.extend((11..=13).map(|who| (who, 10_000)));
	balances.extend((31..=42).map(|who| (who, 10_000)));
	let genesis = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		..Default::default()
	};
	ExtBuilder::<Test, _>::new(genesis).set_up(register_agents).build()
}

fn register_agents() {
	AuditProbability::set(Perbill::zero());
	let register = |who: u64, roles: Vec<Role>| {
		Agents::register(
			RuntimeOrigin::signed(who),
			b"agent".to_vec(),
			vec![],
			vec![],
			vec![model()],
			roles,
			500,
		)
		.unwrap();
	};
	(11..=13).for_each(|who| register(who, vec![Role::Executor, Role::BatchExecutor]));
	(31..=42).for_each(|who| register(who, vec![Role::Verifier]));
	Agents::set_operator(RuntimeOrigin::signed(11), 21).unwrap();
	Agents::accept_operator(RuntimeOrigin::signed(21), 11).unwrap();
	Agents::set_operator(RuntimeOrigin::signed(31), 51).unwrap();
	Agents::accept_operator(RuntimeOrigin::signed(51), 31).unwrap();
}

/// The bare genesis the benchmarks start from: no account funded and no agent (they fund and
/// register their own).
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	ExtBuilder::<Test, _>::new(RuntimeGenesisConfig::default()).build()
}

/// Runs `test`, then checks the invariants of the three pallets.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Challenges::do_try_state().expect("challenge invariants hold");
		Inference::do_try_state().expect("inference invariants hold");
		Agents::do_try_state().expect("agent invariants hold");
	});
}

/// Advances to block `n`, running every pallet's `on_finalize` and `on_initialize` on the way.
pub fn run_to_block(n: u64) {
	agentchain_support::mock_helpers::run_to_block::<Test, AllPalletsWithSystem>(n)
}

/// Submits an exact-match task for `model` with one executor per output, has executor `i`
/// commit to and reveal `outputs[i]`, and returns the task.
pub fn revealed_task(requester: u64, model: ModelId, outputs: &[&[u8]]) -> u64 {
	reveal_all(pallet_inference::VerificationMode::ExactMatch, requester, model, outputs)
}

/// A task in verification mode `mode` whose executors reveal `outputs`.
pub fn revealed_inline(
	mode: pallet_inference::VerificationMode,
	requester: u64,
	outputs: &[&[u8]],
) -> u64 {
	reveal_all(mode, requester, model(), outputs)
}

/// A task whose input is a reference; `None` outputs reveal `INPUT_UNAVAILABLE`.
pub fn revealed_referenced(requester: u64, outputs: &[Option<&[u8]>]) -> u64 {
	use pallet_inference::{TaskInput, TaskParams, VerificationMode};
	let id = pallet_inference::NextTaskId::<Test>::get();
	let redundancy = outputs.len() as u32;
	Inference::submit_task(
		RuntimeOrigin::signed(requester),
		model(),
		TaskInput::Reference {
			hash: H256::repeat_byte(7),
			uri: b"https://data.example/in".to_vec(),
		},
		TaskParams {
			max_tokens: 8,
			temperature_milli: 0,
			seed: 1,
			mode: VerificationMode::ExactMatch,
		},
		FEE * u64::from(redundancy),
		redundancy,
		2,
	)
	.expect("task submitted");
	run_to_block(System::block_number() + 1);
	commit_and_reveal(id, outputs);
	id
}

/// Has executor `i` of task `id` commit to and reveal `answers[i]` (`None`:
/// `INPUT_UNAVAILABLE`).
pub fn commit_and_reveal(id: u64, answers: &[Option<&[u8]>]) {
	use pallet_inference::INPUT_UNAVAILABLE;
	let salt = [3u8; 32];
	let hash_of = |answer: &Option<&[u8]>| {
		answer.map_or(INPUT_UNAVAILABLE, |bytes| H256(sp_io::hashing::blake2_256(bytes)))
	};
	let executors = executors_of(id);
	for (executor, answer) in executors.iter().zip(answers) {
		Inference::commit(
			RuntimeOrigin::signed(*executor),
			id,
			pallet_inference::commitment_of(&hash_of(answer), &salt, executor),
		)
		.expect("executor commits");
	}
	for (executor, answer) in executors.iter().zip(answers) {
		Inference::reveal(
			RuntimeOrigin::signed(*executor),
			id,
			hash_of(answer),
			salt,
			answer.map(|bytes| bytes.to_vec()),
			None,
		)
		.expect("executor reveals");
	}
	// The results are compared at the next block.
	run_to_block(System::block_number() + 1);
}

/// The executors assigned to `task`, in order.
pub fn executors_of(task: u64) -> Vec<u64> {
	pallet_inference::Tasks::<Test>::get(task)
		.expect("task exists")
		.assignments
		.iter()
		.map(|a| a.executor)
		.collect()
}

fn reveal_all(
	mode: pallet_inference::VerificationMode,
	requester: u64,
	model: ModelId,
	outputs: &[&[u8]],
) -> u64 {
	use pallet_inference::{TaskInput, TaskParams};
	let id = pallet_inference::NextTaskId::<Test>::get();
	let redundancy = outputs.len() as u32;
	Inference::submit_task(
		RuntimeOrigin::signed(requester),
		model,
		TaskInput::Inline(b"2+2=".to_vec()),
		TaskParams { max_tokens: 8, temperature_milli: 0, seed: 1, mode },
		FEE * u64::from(redundancy),
		redundancy,
		2,
	)
	.expect("task submitted");
	// Executors are drawn at the next block.
	run_to_block(System::block_number() + 1);
	let answers: Vec<Option<&[u8]>> = outputs.iter().map(|output| Some(*output)).collect();
	commit_and_reveal(id, &answers);
	id
}
