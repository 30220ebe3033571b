//! A test runtime with `pallet-balances`, the real agent registry and the inference pallet.

use crate as pallet_inference;
use agentchain_primitives::{
	agents::Role,
	inference::{AuditSeed, BatchTerms, DisputeHandler, DisputedTask, OnTaskFinalised},
	ModelId,
};
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::HoldConsideration, ConstU64, LinearStoragePrice, VariantCountOf},
};
use sp_core::H256;
use sp_runtime::DispatchResult;

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
	/// The task deposit: none by default, so that balance checks read simply.
	pub static DepositBase: u64 = 0;
	pub static DepositPerByte: u64 = 0;
	/// The calls a run of the executor worker makes for batches (the runtime's is 16,384): as
	/// many as `ItemsPerBlock` unless a test sets more.
	pub static BatchCallsPerRun: u32 = 8;
	/// Deadlines a block processes: `MAX_DEADLINES` unless a test sets more.
	pub static DeadlinesPerBlock: u32 = MAX_DEADLINES;
	/// The deadline hook's weight budget: unbounded unless a test sets one.
	pub static MaxDeadlineWeight: Weight = Weight::MAX;
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
}

/// Test randomness: a hash of the subject and the block it is tied to.
pub struct TestRandomness;
impl agentchain_support::BlockRandomness<u64> for TestRandomness {
	fn random_at(subject: &[u8], block: u64) -> Option<[u8; 32]> {
		Some(sp_io::hashing::blake2_256(&(subject, block).encode()))
	}
}
use codec::Encode;
use frame_support::weights::Weight;

parameter_types! {
	/// Disputes handed over: (task, executors, outputs).
	pub static HandedOver: Vec<(u64, Vec<u64>, Vec<H256>)> = Vec::new();
	/// Whether `RecordingDisputes` audits the results whose window ends.
	pub static AuditAll: bool = false;
	/// Tasks audited.
	pub static Audited: Vec<u64> = Vec::new();
	/// The seed each audit decision was given: (task, seed).
	pub static AuditSeeds: Vec<(u64, AuditSeed)> = Vec::new();
	/// Finalisations reported: (task, protocol cut).
	pub static Finalised: Vec<(u64, u64)> = Vec::new();
	/// Tasks the handler is still judging.
	pub static Judging: Vec<u64> = Vec::new();
	/// Whether `RecordingDisputes` refuses disagreements, as a runtime without enough verifiers
	/// for a jury does.
	pub static NoJury: bool = false;
	/// Whether `RecordingDisputes` judges batches item by item (takes batches).
	pub static BatchesJudged: bool = true;
}

/// Records the disputes it receives; audits every result while `AuditAll` is set.
pub struct RecordingDisputes;
impl DisputeHandler<u64, u64> for RecordingDisputes {
	fn on_disagreement(id: u64, task: &DisputedTask<u64, u64>) -> DispatchResult {
		if NoJury::get() {
			return Err(sp_runtime::DispatchError::Other("no jury"));
		}
		let (executors, outputs) = task.revealed.iter().cloned().unzip();
		HandedOver::mutate(|d| d.push((id, executors, outputs)));
		Ok(())
	}

	fn audit(id: u64, _task: &DisputedTask<u64, u64>, seed: AuditSeed) -> bool {
		AuditSeeds::mutate(|seeds| seeds.push((id, seed)));
		let audit = AuditAll::get() || matches!(seed, AuditSeed::Withheld(_));
		if audit {
			Audited::mutate(|a| a.push(id));
		}
		audit
	}

	fn is_judging(id: u64) -> bool {
		Judging::get().contains(&id)
	}

	fn max_executor_slash(_share: u64) -> u64 {
		WRONG_RESULT_SLASH
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}

	fn batch_terms() -> BatchTerms<u64> {
		BatchTerms {
			items_judged: BatchesJudged::get(),
			item_slash_floor: ITEM_SLASH_FLOOR,
			slash_fee_multiple: ITEM_SLASH_FEE_MULTIPLE,
			item_disputes: 15,
			jurors_needed: JURORS_NEEDED,
			juror_collateral: JUROR_COLLATERAL,
			jury_deposit: JURY_DEPOSIT,
			jury_commit_blocks: 2,
		}
	}
}

/// A batch's terms in the tests: the least slash of an item and its multiple of the item's fee
/// share, the verifiers a batch needs, and the jury deposit held with it.
pub const ITEM_SLASH_FLOOR: u64 = 20;
pub const ITEM_SLASH_FEE_MULTIPLE: u32 = 5;
pub const JURORS_NEEDED: u32 = 3;
pub const JUROR_COLLATERAL: u64 = 150;
pub const JURY_DEPOSIT: u64 = 4;

/// Records the finalisations it is told of.
pub struct RecordingFinalisations;
impl OnTaskFinalised<u64, u64> for RecordingFinalisations {
	fn on_task_finalised(id: u64, _model: &ModelId, _protocol: &u64, cut: u64) {
		Finalised::mutate(|f| f.push((id, cut)));
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}
}

/// The configuration the tests name: the values of `config_preludes::TestDefaultConfig`, but
/// for `DISPUTE_TIMEOUT` and `MAX_DEADLINES`, set below.
pub const MIN_FEE: u64 = 10;
pub const MIN_COMMIT: u64 = 2;
pub const MAX_COMMIT: u64 = 20;
pub const REVEAL_PERIOD: u64 = 5;
pub const CHALLENGE_PERIOD: u64 = 10;
pub const DISPUTE_TIMEOUT: u64 = 30;
pub const RETENTION: u64 = 50;
pub const MISSED_SLASH: u64 = 25;
pub const MISSED_REVEAL_SLASH: u64 = 100;
pub const WRONG_RESULT_SLASH: u64 = 100;
pub const MAX_TOKENS: u32 = 64;
pub const TOKENS_PER_BLOCK: u32 = 8;
pub const MAX_DEADLINES: u32 = 4;
/// Blocks a duty deadline moves by when blocks before it were full.
pub const CONGESTION_GRACE: u64 = 2;

agentchain_support::impl_test_signing!(Test);
pub use agentchain_support::mock_helpers::{ExtBuilder, TestOperatorCrypto};

#[derive_impl(pallet_inference::config_preludes::TestDefaultConfig)]
impl pallet_inference::Config for Test {
	type OperatorCrypto = TestOperatorCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	type Disputes = RecordingDisputes;
	type OnFinalised = RecordingFinalisations;
	type Randomness = TestRandomness;
	type DisputeTimeout = ConstU64<DISPUTE_TIMEOUT>;
	type TaskDepositBase = DepositBase;
	type TaskDepositPerByte = DepositPerByte;
	type MaxDeadlinesPerBlock = DeadlinesPerBlock;
	type MaxDeadlineWeight = MaxDeadlineWeight;
	type BatchCallsPerRun = BatchCallsPerRun;
}

/// The model the test executors serve.
pub fn model() -> ModelId {
	H256::repeat_byte(0xAA)
}

/// The genesis of a test: requesters 1 and 2 (10_000 each), 3 with 15; executors 11..=14,
/// stake 500, serving `model()`; 21 (100) the operator key of 11.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut balances = vec![(1, 10_000), (2, 10_000), (3, 15), (21, 100)];
	balances.extend((11..=14).map(|who| (who, 10_000)));
	let genesis = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		..Default::default()
	};
	ExtBuilder::<Test, _>::new(genesis).set_up(register_agents).build()
}

fn register_agents() {
	for executor in 11..=14 {
		Agents::register(
			RuntimeOrigin::signed(executor),
			b"executor".to_vec(),
			vec![],
			vec![],
			vec![model()],
			// Opted in to batches too: the batch tests draw from the same four.
			vec![Role::Executor, Role::BatchExecutor],
			500,
		)
		.unwrap();
	}
	Agents::set_operator(RuntimeOrigin::signed(11), 21).unwrap();
	Agents::accept_operator(RuntimeOrigin::signed(21), 11).unwrap();
}

/// Funds and registers `verifiers` as verifiers of `model()` with `stake` each.
pub fn register_verifiers(verifiers: &[u64], stake: u64) {
	for &verifier in verifiers {
		Balances::force_set_balance(RuntimeOrigin::root(), verifier, 10_000).unwrap();
		Agents::register(
			RuntimeOrigin::signed(verifier),
			b"verifier".to_vec(),
			vec![],
			vec![],
			vec![model()],
			vec![Role::Verifier],
			stake,
		)
		.unwrap();
	}
}

/// The bare genesis the benchmarks start from: no account funded and no agent (they fund and
/// register their own).
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	ExtBuilder::<Test, _>::new(RuntimeGenesisConfig::default()).build()
}

/// Runs `test`, then checks the invariants of both pallets.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Inference::do_try_state().expect("inference invariants hold");
		Agents::do_try_state().expect("agent invariants hold");
	});
}

/// Advances to block `n`, running every pallet's `on_finalize` and `on_initialize` on the way.
pub fn run_to_block(n: u64) {
	agentchain_support::mock_helpers::run_to_block::<Test, AllPalletsWithSystem>(n)
}
