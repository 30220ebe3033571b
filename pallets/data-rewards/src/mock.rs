//! A test runtime with `pallet-balances`, the real agent registry and the data-rewards pallet.
//! The inference pallet is not in it: tests call the pallet's `OnTaskFinalised` implementation
//! directly, after paying the protocol cut into a stand-in protocol account.

use crate as pallet_data_rewards;
use agentchain_primitives::{agents::Role, inference::OnTaskFinalised, ModelId};
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::{HoldConsideration, Mutate},
		ConstU32, ConstU64, LinearStoragePrice, VariantCountOf,
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
	pub type DataRewards = pallet_data_rewards;
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
	pub const DataRewardsPalletId: PalletId = PalletId(*b"ac/data_");
	pub const Share: Perbill = Perbill::from_percent(USAGE_SHARE_PERCENT);
	/// Issuance per epoch; zero unless a test sets it.
	pub static Issuance: u64 = 0;
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

agentchain_support::impl_test_signing!(Test);
pub use agentchain_support::mock_helpers::{ExtBuilder, TestOperatorCrypto};

pub const EPOCH_LENGTH: u64 = 10;
pub const CLAIM_PERIOD: u32 = 2;
pub const USAGE_SHARE_PERCENT: u32 = 50;
pub const DATASET_DEPOSIT: u64 = 50;
pub const MODEL_DEPOSIT: u64 = 20;
pub const MAX_DATASETS: u32 = 4;
pub const CURATION_PENALTY: u64 = 10;
pub const OUTLIER_DISTANCE: u8 = 30;

parameter_types! {
	/// Curators needed for a median score; one by default, so that single attestations count.
	pub static MinCurators: u32 = 1;
	/// What the protocol ledger was told was paid out, in all.
	pub static ProtocolPaid: u64 = 0;
}

/// The protocol account's ledger, as `pallet-inference` keeps it: here, what was paid out.
pub struct TestTreasury;
impl agentchain_primitives::inference::ProtocolTreasury<u64, u64> for TestTreasury {
	fn account() -> u64 {
		PROTOCOL
	}
	fn note_received(_flow: agentchain_primitives::inference::ProtocolFlow, _amount: u64) {}
	fn note_paid(_flow: agentchain_primitives::inference::ProtocolFlow, amount: u64) {
		ProtocolPaid::set(ProtocolPaid::get() + amount);
	}
}

impl pallet_data_rewards::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	type Treasury = TestTreasury;
	type PalletId = DataRewardsPalletId;
	type EpochLength = ConstU64<EPOCH_LENGTH>;
	type ClaimPeriod = ConstU32<CLAIM_PERIOD>;
	type UsageShare = Share;
	type IssuancePerEpoch = Issuance;
	type DatasetDeposit = ConstU64<DATASET_DEPOSIT>;
	type ModelDeposit = ConstU64<MODEL_DEPOSIT>;
	type CurationPenalty = ConstU64<CURATION_PENALTY>;
	type OutlierDistance = frame_support::traits::ConstU8<OUTLIER_DISTANCE>;
	type MinCurators = MinCurators;
	type MaxDatasetsPerModel = ConstU32<MAX_DATASETS>;
	type MaxUriLen = ConstU32<32>;
	type MaxLicenseLen = ConstU32<16>;
	type MaxMetadataLen = ConstU32<64>;
	type WeightInfo = ();
}

/// Dataset owners, each with 10_000.
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
/// A contributor that cannot afford a deposit.
pub const POOR: u64 = 3;
/// An executor serving `model()` and `model2()`, stake 500.
pub const EXECUTOR: u64 = 11;
/// Another executor, serving `model2()` only.
pub const EXECUTOR2: u64 = 12;
/// Curators: stake 100 and 300.
pub const CURATOR: u64 = 21;
pub const CURATOR2: u64 = 22;
/// The operator key of `CURATOR`.
pub const CURATOR_OPERATOR: u64 = 31;
/// An agent with only the executor role, and no curator role.
pub const NOT_CURATOR: u64 = EXECUTOR2;
/// Stand-in for the inference pallet's protocol account.
pub const PROTOCOL: u64 = 99;

pub const CURATOR_STAKE: u64 = 100;
pub const CURATOR2_STAKE: u64 = 300;

/// The models of the tests.
pub fn model() -> ModelId {
	H256::repeat_byte(0xAA)
}
pub fn model2() -> ModelId {
	H256::repeat_byte(0xBB)
}

/// The genesis of a test: the accounts above funded, the executors and curators registered,
/// `CURATOR_OPERATOR` the operator key of `CURATOR`, one curator enough for a score.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let balances = vec![
		(ALICE, 10_000),
		(BOB, 10_000),
		(POOR, 30),
		(EXECUTOR, 10_000),
		(EXECUTOR2, 10_000),
		(CURATOR, 10_000),
		(CURATOR2, 10_000),
		(CURATOR_OPERATOR, 10),
		(PROTOCOL, 1_000),
	];
	let genesis = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		..Default::default()
	};
	ExtBuilder::<Test, _>::new(genesis).set_up(register_agents).build()
}

fn register_agents() {
	Issuance::set(0);
	MinCurators::set(1);
	ProtocolPaid::set(0);
	let register = |who: u64, models: Vec<ModelId>, roles: Vec<Role>, stake: u64| {
		Agents::register(
			RuntimeOrigin::signed(who),
			b"agent".to_vec(),
			vec![],
			vec![],
			models,
			roles,
			stake,
		)
		.unwrap();
	};
	register(EXECUTOR, vec![model(), model2()], vec![Role::Executor], 500);
	register(EXECUTOR2, vec![model2()], vec![Role::Executor], 500);
	register(CURATOR, vec![], vec![Role::Curator], CURATOR_STAKE);
	register(CURATOR2, vec![], vec![Role::Curator], CURATOR2_STAKE);
	Agents::set_operator(RuntimeOrigin::signed(CURATOR), CURATOR_OPERATOR).unwrap();
	Agents::accept_operator(RuntimeOrigin::signed(CURATOR_OPERATOR), CURATOR).unwrap();
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
		DataRewards::do_try_state().expect("data-rewards invariants hold");
		Agents::do_try_state().expect("agent invariants hold");
	});
}

/// Advances to block `n`, running every pallet's `on_finalize` and `on_initialize` on the way.
pub fn run_to_block(n: u64) {
	agentchain_support::mock_helpers::run_to_block::<Test, AllPalletsWithSystem>(n)
}

/// Advances to the first block of the next epoch, closing the current one.
pub fn next_epoch() {
	let clock = crate::CurrentEpoch::<Test>::get();
	run_to_block(clock.start + EPOCH_LENGTH);
}

/// What `pallet-inference` does when it finalises task `task` of `model`: pays `cut` into the
/// protocol account, then tells the pallet.
pub fn finalise(task: u64, model: ModelId, cut: u64) {
	Balances::mint_into(&PROTOCOL, cut).unwrap();
	<DataRewards as OnTaskFinalised<u64, u64>>::on_task_finalised(task, &model, &PROTOCOL, cut);
}
