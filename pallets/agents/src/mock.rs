//! A test runtime with `pallet-balances` and the agents pallet.

use crate as pallet_agents;
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::HoldConsideration, ConstU32, ConstU64, LinearStoragePrice, VariantCountOf},
};

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

/// Deposit of a record: 10 plus 1 per byte of metadata and models.
pub const DEPOSIT_BASE: u64 = 10;

parameter_types! {
	pub const AgentDepositReason: RuntimeHoldReason =
		RuntimeHoldReason::Agents(pallet_agents::HoldReason::AgentDeposit);
}

pub const MIN_EXECUTOR_STAKE: u64 = 100;
pub const MIN_VERIFIER_STAKE: u64 = 200;
pub const MIN_CURATOR_STAKE: u64 = 50;
pub const UNBONDING_PERIOD: u64 = 10;
pub const LIVENESS_PERIOD: u64 = 20;
pub const MAX_MODELS: u32 = 4;
pub const MAX_CANDIDATES: u32 = 3;

parameter_types! {
	/// The candidate sets' bound: [`MAX_CANDIDATES`] unless a test sets more (before any set is
	/// stored).
	pub static CandidateBound: u32 = MAX_CANDIDATES;
}

agentchain_support::impl_test_signing!(Test);
pub use agentchain_support::mock_helpers::{ExtBuilder, TestOperatorCrypto};

#[derive_impl(crate::config_preludes::TestDefaultConfig)]
impl pallet_agents::Config for Test {
	type OperatorCrypto = TestOperatorCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Consideration = HoldConsideration<
		u64,
		Balances,
		AgentDepositReason,
		LinearStoragePrice<ConstU64<DEPOSIT_BASE>, ConstU64<1>, u64>,
	>;
	type MinExecutorStake = ConstU64<MIN_EXECUTOR_STAKE>;
	type MinVerifierStake = ConstU64<MIN_VERIFIER_STAKE>;
	type MinCuratorStake = ConstU64<MIN_CURATOR_STAKE>;
	type UnbondingPeriod = ConstU64<UNBONDING_PERIOD>;
	type LivenessPeriod = ConstU64<LIVENESS_PERIOD>;
	type MaxModels = ConstU32<MAX_MODELS>;
	type MaxCandidates = CandidateBound;
}

/// Accounts 1..=9 start with 10_000 each; account 10 with 150.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let balances = (1..=9).map(|who| (who, 10_000)).chain([(10, 150)]).collect();
	let genesis = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		..Default::default()
	};
	ExtBuilder::<Test, _>::new(genesis).build()
}

/// Runs `test` in a fresh test externality, then checks the pallet's invariants.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Agents::do_try_state().expect("invariants hold");
	});
}
