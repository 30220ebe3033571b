//! # Inference pallet
//!
//! The market where requesters pay AI agents for inference, and where results are committed to
//! on chain so that they can be checked.
//!
//! ## Overview
//!
//! A task moves through these states (see `docs/inference.md` for the drawing):
//!
//! ```text
//! submit_task ─► Submitted ─(next block: draw)─► Assigned ─(all commit)─► Committed ─(all reveal)─► Revealed ─(window)─► Finalised
//!                   ▲                               │                        │                        │
//!                   │ reassign       commit deadline│          reveal deadline│         outputs differ │
//!                   │                               ▼                        ▼                        ▼
//!                   └──────────────────── (none committed) ─► Expired  (none revealed) ─► Expired   Disputed ─► Finalised / Expired
//! ```
//!
//! The results are compared by the hook: at the next block after the last reveal, or at the
//! reveal deadline.
//!
//! 1. [`submit_task`](Pallet::submit_task): the requester names a model, an input (inline UTF-8
//!    text, bounded, or a content hash and an http(s) URI), generation parameters, a
//!    verification mode, a fee (held in escrow), a redundancy (the number of executors) and a
//!    commit period. A storage deposit is held until the task is pruned.
//! 2. At the next block the pallet draws `redundancy` distinct executors serving the model,
//!    weighted by free stake, through the agent registry ([`Config::AgentRegistry`]), seeded by the
//!    hash of the block the task was submitted in: the requester cannot know it when it
//!    submits. Each executor reserves [`Pallet::executor_collateral`] of its stake for the task.
//! 3. [`commit`](Pallet::commit): each executor (its owner account or its operator key) commits
//!    to `blake2_256(output_hash ‖ salt ‖ executor)` before the commit deadline. Binding the
//!    commitment to the executor's account stops one executor from copying another's.
//! 4. [`reveal`](Pallet::reveal): once every executor committed (or the commit deadline passed),
//!    executors reveal the output hash, the salt and the output itself (inline, so that the
//!    requester can always read what it pays for). An executor that could not obtain a
//!    referenced input reveals [`INPUT_UNAVAILABLE`].
//! 5. With several executors in exact-match mode, different output hashes make the task
//!    [`TaskStatus::Disputed`] and hand it to [`Config::Disputes`]. Otherwise the result stands
//!    for a challenge window of [`Config::ChallengePeriod`] blocks (a batch's a quarter of its
//!    commit period longer).
//! 6. After the window the escrow pays each executor its share of the fee minus
//!    [`Config::ProtocolCut`], which goes to the protocol account (it funds audits and data
//!    rewards); reputation is recorded through the registry.
//! 7. Executors that miss the commit deadline are slashed [`Config::MissedDeadlineSlash`];
//!    executors that committed and do not reveal are slashed [`Config::MissedRevealSlash`], as
//!    much as a wrong result, so that withholding a reveal never beats revealing. Slashes go to
//!    the protocol account (never to the requester, who could otherwise profit from tasks
//!    designed to fail). When no executor delivers, the task is reassigned (up to
//!    [`Config::MaxReassignments`] times) or expires with its fee refunded.
//!
//! ## Deadlines and bounded work
//!
//! Every task sits in exactly one block-indexed deadline queue ([`Deadlines`]): the block where
//! its current phase ends (or, once finished, where it is pruned). Scheduling never fails.
//! `on_initialize` takes due tasks, the earliest first, for as long as the costliest transition
//! still fits in [`Config::MaxDeadlineWeight`] (and at most [`Config::MaxDeadlinesPerBlock`]);
//! what it has no room for waits for the next blocks, in order, and is never dropped (see
//! [`agentchain_support::deadlines`]). Calls check the deadline itself, so a deferred transition
//! has the outcome it would have had on time. Anyone may move an overdue task on with
//! [`advance`](Pallet::advance). Finished tasks are pruned after [`Config::RetentionPeriod`].
//!
//! ## Randomness
//!
//! Executors are drawn at the block after the submission, from the hash of the submission's
//! block ([`Config::Randomness`]); audits are drawn from the hash of the block before the
//! challenge window's end. Nobody can compute either when they act. The author of that block
//! can still bias it (by choosing its transactions, or by withholding the block and its reward):
//! see `docs/economics.md` for what that buys.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
mod lifecycle;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "try-runtime", feature = "std"))]
mod try_state;
pub mod types;
mod views;
pub mod weights;

pub use agentchain_primitives::{
	agents::{AgentRegistry, BatchWork, Outcome, Role},
	inference::{
		AfterDifference, AuditSeed, BatchItems, BatchTerms, DisputeHandler, DisputedTask,
		InferenceTasks, ItemJudgment, OffchainExecution, OnTaskFinalised, ProtocolFlow,
		ProtocolTreasury, Resolution, TaskId, TaskStatus, VerificationMode, INPUT_UNAVAILABLE,
		MAX_ITEMS_FOUND_WRONG, REFUSED_HASH,
	},
	ModelId,
};
pub use agentchain_support::{
	congestion::{current_block_is_full, FullBlocks},
	BlockRandomness, DeadlineQueue,
};
pub use types::*;

use agentchain_primitives::duties::{duty_tag, Duty, DutyCheck, DutyError};
use agentchain_support::deadlines::HookWeights;
pub use weights::WeightInfo;

use alloc::{collections::btree_set::BTreeSet, vec::Vec};
use codec::Encode;
use frame_support::{
	defensive,
	dispatch::WithPostDispatchInfo,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
	PalletId,
};
use frame_system::pallet_prelude::*;
use sp_core::H256;
use sp_runtime::{
	traits::{AccountIdConversion, One, Saturating, Zero},
	Perbill, SaturatedConversion,
};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::inference";

/// Most blocks the deadline hook steps over in one run, when it catches up with a backlog.
pub const MAX_BLOCKS_PER_RUN: u32 = 16;

/// Most executors of a batch: two roots that differ are bisected against each other.
pub const MAX_BATCH_REDUNDANCY: u32 = 2;

/// The balance type of the currency fees are paid in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// blake2-256 of some bytes: how outputs and referenced inputs are hashed.
pub(crate) fn hash_of(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

/// `blake2_256(output_hash ‖ salt ‖ executor)`: what an executor commits to.
///
/// Hashed through the host, as dispatch does it; [`agentchain_execution::commitment_of`] is the
/// same rule for clients (edge agents), and a test holds the two equal.
pub fn commitment_of<AccountId: Encode>(
	output_hash: &H256,
	salt: &[u8; 32],
	executor: &AccountId,
) -> H256 {
	H256(sp_io::hashing::blake2_256(&(output_hash, salt, executor).encode()))
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Reasons for which this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A requester's tasks' fees, until paid out or refunded, and their storage deposits,
		/// until the tasks are pruned; and its prepaid funds ([`Prepaid`]), until used or
		/// withdrawn.
		#[codec(index = 0)]
		TaskEscrow,
		/// A task's storage deposit, held apart by the tasks submitted before runtime spec 126
		/// (since then under [`HoldReason::TaskEscrow`]): released at their pruning. A pruning
		/// releases what is held so first, up to the task's deposit, then the rest from the
		/// escrow hold; a requester's deposit hold therefore never exceeds its tasks' deposits.
		#[codec(index = 1)]
		TaskDeposit,
	}

	/// Default configurations of this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl, parameter_types,
			traits::{ConstU32, ConstU64},
		};

		parameter_types! {
			pub const TestPalletId: PalletId = PalletId(*b"ac/infer");
			pub const TestProtocolCut: Perbill = Perbill::from_percent(10);
			pub const TestMaxDeadlineWeight: Weight = Weight::MAX;
		}

		/// A test runtime's configuration (balances and block numbers are `u64`): fees from 10
		/// per executor, up to 3 executors, commit periods of 2 to 20 blocks, 5 blocks to
		/// reveal, 10 to challenge, disputes that expire after 40, tasks kept for 50; slashes of
		/// 25 for a missed commit and 100 for a missed reveal; no task deposit; 8 deadlines per
		/// block (the hook's weight unbounded otherwise) and 2 blocks of congestion grace. The
		/// mocks of the pallets that use inference derive it and set only the types of their
		/// runtime and what their tests vary.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			type PalletId = TestPalletId;
			type MinFeePerExecutor = ConstU64<10>;
			type MaxRedundancy = ConstU32<3>;
			type MinCommitPeriod = ConstU64<2>;
			type MaxCommitPeriod = ConstU64<20>;
			type RevealPeriod = ConstU64<5>;
			type ChallengePeriod = ConstU64<10>;
			type DisputeTimeout = ConstU64<40>;
			type RetentionPeriod = ConstU64<50>;
			type ProtocolCut = TestProtocolCut;
			type MissedDeadlineSlash = ConstU64<25>;
			type MissedRevealSlash = ConstU64<100>;
			type MaxTokens = ConstU32<64>;
			type TokensPerBlock = ConstU32<8>;
			type TaskDepositBase = ConstU64<0>;
			type TaskDepositPerByte = ConstU64<0>;
			type MaxReassignments = ConstU32<1>;
			type MaxInputLen = ConstU32<64>;
			type MaxOutputLen = ConstU32<64>;
			type MaxUriLen = ConstU32<32>;
			type MaxDeadlinesPerBlock = ConstU32<8>;
			type MaxDeadlineWeight = TestMaxDeadlineWeight;
			type CongestionGrace = ConstU64<2>;
			type AuditSecretPeriod = ConstU64<4>;
			type MaxBatchItems = ConstU32<1024>;
			type ItemsPerBlock = ConstU32<8>;
			type BatchCallsPerRun = ConstU32<8>;
			type MinFeePerItem = ConstU64<1>;
			type MinFeePerSeatBlock = ConstU64<1>;
			type MaxBatchCommitPeriod = ConstU64<400>;
			type MaxBatchStretch = ConstU32<4>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The crypto of operator keys (key type `agnt`), which agent nodes' off-chain workers
		/// sign `commit` and `reveal` with.
		#[pallet::no_default]
		type OperatorCrypto: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// The currency fees are paid in.
		#[pallet::no_default]
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		#[pallet::no_default]
		type RuntimeHoldReason: From<HoldReason>;

		/// The agent registry: executors, their stake, selection, slashing and reputation.
		#[pallet::no_default]
		type AgentRegistry: AgentRegistry<Self::AccountId, BalanceOf<Self>>;

		/// Takes over tasks whose executors disagree, and picks the results that are audited.
		#[pallet::no_default]
		type Disputes: DisputeHandler<Self::AccountId, BalanceOf<Self>>;

		/// Told of every finalised task and the protocol cut it paid (data rewards).
		#[pallet::no_default]
		type OnFinalised: OnTaskFinalised<Self::AccountId, BalanceOf<Self>>;

		/// Seeds from the hash of a given block: executors and audits are drawn from a block
		/// that did not exist when the party who triggered the draw acted.
		#[pallet::no_default]
		type Randomness: BlockRandomness<BlockNumberFor<Self>>;

		/// Identifier of the protocol account, which receives the protocol cut.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Smallest fee per executor.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinFeePerExecutor: Get<BalanceOf<Self>>;

		/// Most executors per task.
		#[pallet::constant]
		type MaxRedundancy: Get<u32>;

		/// Shortest commit period a requester may give.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinCommitPeriod: Get<BlockNumberFor<Self>>;

		/// Longest commit period a requester may give.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MaxCommitPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks that executors have to reveal once the commit phase is over.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type RevealPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks during which a revealed result may be challenged.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type ChallengePeriod: Get<BlockNumberFor<Self>>;

		/// Blocks after which an unresolved dispute expires (fee refunded).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DisputeTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks a finished task is kept before it is pruned.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;

		/// Share of each executor's fee that goes to the protocol account.
		#[pallet::constant]
		type ProtocolCut: Get<Perbill>;

		/// Stake taken from an executor that misses its commit deadline, given to the protocol
		/// account.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MissedDeadlineSlash: Get<BalanceOf<Self>>;

		/// Stake taken from an executor that committed and then did not reveal, given to the
		/// protocol account. At least what a wrong result costs, so that a cheater who sees an
		/// honest reveal differ from its own gains nothing by withholding its reveal.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MissedRevealSlash: Get<BalanceOf<Self>>;

		/// Most tokens a task may ask for.
		#[pallet::constant]
		type MaxTokens: Get<u32>;

		/// Most tokens a task may ask for per block of its commit period: executors are given
		/// time in proportion to the work asked of them.
		#[pallet::constant]
		type TokensPerBlock: Get<u32>;

		/// Storage deposit of a task: this, plus [`Config::TaskDepositPerByte`] for each byte
		/// the task may store (its input and `redundancy` outputs of `MaxOutputLen`). Held from
		/// the requester until the task is pruned.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type TaskDepositBase: Get<BalanceOf<Self>>;

		/// Storage deposit per byte a task may store.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type TaskDepositPerByte: Get<BalanceOf<Self>>;

		/// Most times a task is reassigned before it expires.
		#[pallet::constant]
		type MaxReassignments: Get<u32>;

		/// Longest inline input (or input URI), in bytes.
		#[pallet::constant]
		type MaxInputLen: Get<u32>;

		/// Longest inline output, in bytes.
		#[pallet::constant]
		type MaxOutputLen: Get<u32>;

		/// Longest output URI, in bytes.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Most task deadlines processed in one block, whatever their weight. Deadlines beyond
		/// it wait for the next blocks, in order.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Most weight `on_initialize` uses in a block: it processes due deadlines, each charged
		/// the path it took, for as long as the costliest transition still fits in it. Deadlines
		/// beyond it wait for the next blocks, in order. It must hold one costliest transition
		/// (checked by `integrity_test`).
		#[pallet::constant]
		type MaxDeadlineWeight: Get<Weight>;

		/// Blocks a commit or reveal deadline is extended by, once per phase, when the blocks
		/// this long before it were all full (their ordinary share 90 % used) and an executor
		/// has not acted: nobody is slashed because someone else filled the blocks.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type CongestionGrace: Get<BlockNumberFor<Self>>;

		/// Blocks the requester of a batch has, once the batch's challenge window has ended, to
		/// reveal the audit secret it committed to at submission (`reveal_audit_secret`), moved
		/// on once by [`Config::CongestionGrace`] when the blocks before its end were full. Not
		/// revealed by then, the batch is audited whatever the draw, and the requester pays for
		/// the jury and is not compensated (`docs/batches.md`, *The audit's seed*).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type AuditSecretPeriod: Get<BlockNumberFor<Self>>;

		/// Most items in a batch (see `docs/batches.md`). A batch is taken only when the
		/// dispute handler judges batches item by item ([`BatchTerms::items_judged`]).
		#[pallet::constant]
		type MaxBatchItems: Get<u32>;

		/// Items an executor is assumed to call its endpoint for per block, besides
		/// [`Config::TokensPerBlock`]: a batch's commit period must leave a block for every
		/// `ItemsPerBlock` items.
		#[pallet::constant]
		type ItemsPerBlock: Get<u32>;

		/// Most endpoint calls one run of an agent node's executor worker makes for batches
		/// (their items and inputs documents), after its single tasks'. A run is bounded first by
		/// its time, a block from the block's start; this bounds what one run writes to the node's
		/// database. A node faster than [`Config::ItemsPerBlock`] commits before its deadline.
		#[pallet::constant]
		type BatchCallsPerRun: Get<u32>;

		/// Smallest fee per item of a batch, per executor.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinFeePerItem: Get<BalanceOf<Self>>;

		/// Smallest fee per block of a batch's commit period, per executor: holding an
		/// executor's collateral costs a batch at least what it costs tasks.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinFeePerSeatBlock: Get<BalanceOf<Self>>;

		/// Longest commit period of a batch.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MaxBatchCommitPeriod: Get<BlockNumberFor<Self>>;

		/// The most a batch's commit phase is lengthened for its drawn executor, in multiples
		/// of its commit period: an executor is drawn for a batch only while the batches it has
		/// not committed to, and this one, take it at most this many commit periods (and at
		/// most [`Config::MaxBatchCommitPeriod`]) at its declared speed, and the batch's commit
		/// phase is as long as that time (and a margin) when it is longer than its commit period.
		/// At least 1.
		#[pallet::constant]
		type MaxBatchStretch: Get<u32>;

		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;
	}

	/// The id the next task gets.
	#[pallet::storage]
	pub type NextTaskId<T: Config> = StorageValue<_, TaskId, ValueQuery>;

	/// Tasks, open and recently finished.
	///
	/// Twox64Concat: task ids are assigned by the pallet in sequence, not chosen by users.
	#[pallet::storage]
	pub type Tasks<T: Config> = StorageMap<_, Twox64Concat, TaskId, TaskInfo<T>, OptionQuery>;

	/// Revealed outputs, by task and output hash (identical outputs are stored once).
	///
	/// Twox64Concat for the task id (sequential); Identity for the output hash, which is a
	/// blake2-256 hash checked on reveal against the committed value.
	#[pallet::storage]
	pub type Outputs<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TaskId, Identity, H256, OutputData<T>, OptionQuery>;

	/// The open tasks assigned to each executor, so that an agent's node finds its work by
	/// iterating one prefix instead of all tasks.
	///
	/// Blake2_128Concat for the executor (user-chosen accounts); Twox64Concat for the task id.
	#[pallet::storage]
	pub type AssignedTasks<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, TaskId, (), OptionQuery>;

	/// The tasks whose current phase ends at a block, processed by `on_initialize` of that
	/// block or, when more fall due than a block processes, of the next ones. Any number of
	/// tasks per block; each entry is backed by its task's deposit.
	///
	/// Twox64Concat for both keys: block numbers and task ids are not user-controlled.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, TaskId, (), OptionQuery>;

	/// The items of a batch each executor's root was found wrong on by item challenges: at
	/// the window's end it is paid that many items fewer, and the requester refunded them. None
	/// is judged again.
	///
	/// Twox64Concat for the task id (sequential); Blake2_128Concat for the executor
	/// (user-chosen accounts).
	#[pallet::storage]
	pub type WrongItems<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TaskId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<u32, ConstU32<MAX_ITEMS_FOUND_WRONG>>,
		ValueQuery,
	>;

	/// The items of a batch whose answer by each executor's root a jury whose endpoints refused
	/// them outvoted (`REFUSED_HASH`): at the window's end it is paid that many items fewer,
	/// their pay having gone to the protocol account when each was judged. Not slashed, so not
	/// bounded by the collateral as [`WrongItems`] are: at most every item of the batch, each
	/// judged once.
	///
	/// Twox64Concat for the task id (sequential); Blake2_128Concat for the executor
	/// (user-chosen accounts).
	#[pallet::storage]
	pub type RefusedItems<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TaskId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<u32, T::MaxBatchItems>,
		ValueQuery,
	>;

	/// The items of a batch that a disagreement between its two roots judged, in order: each
	/// used one of the batch's item disputes, whichever root lost it, and none is judged again.
	///
	/// Twox64Concat: task ids are sequential.
	#[pallet::storage]
	pub type DisagreedItems<T: Config> = StorageMap<
		_,
		Twox64Concat,
		TaskId,
		BoundedVec<u32, ConstU32<MAX_ITEMS_FOUND_WRONG>>,
		ValueQuery,
	>;

	/// For a batch whose disagreement judged every item its two roots differ on: the root that
	/// is not the result, reconciled with it (`AfterDifference::Reconciled`). Its executor
	/// stays in the batch, answers for the result in its item disputes and audit (the two roots
	/// agree on every other item), and is paid as the result's are, for the items it was not
	/// found wrong on.
	///
	/// Twox64Concat: task ids are sequential.
	#[pallet::storage]
	pub type ReconciledRoots<T: Config> = StorageMap<_, Twox64Concat, TaskId, H256, OptionQuery>;

	/// For a batch under an item dispute: the blocks its challenge window had left when the
	/// dispute opened, which it gets back when the dispute ends.
	///
	/// Twox64Concat: task ids are sequential.
	#[pallet::storage]
	pub type PausedWindows<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, BlockNumberFor<T>, OptionQuery>;

	/// For a batch whose window an item dispute paused: the block whose hash decides its audit,
	/// the one before its window's original end. Fixed at the first pause, so that pausing the
	/// window (a challenge sent in that block, by its author) cannot draw the audit again from
	/// another block.
	///
	/// Twox64Concat: task ids are sequential.
	#[pallet::storage]
	pub type AuditSeedBlocks<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, BlockNumberFor<T>, OptionQuery>;

	/// The batches whose challenge window has ended and whose requester's audit secret is
	/// awaited (`reveal_audit_secret`): whether the wait was extended for full blocks, and the
	/// block seed the audit is drawn from with the secret. Kept until the batch is pruned:
	/// present, the window has ended for good.
	///
	/// Twox64Concat: task ids are sequential.
	#[pallet::storage]
	pub type AwaitedAuditSecrets<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, AwaitedSecret, OptionQuery>;

	/// The audit secret each batch's requester revealed: with the hash of the block before its
	/// window's original end, it seeds the batch's audit (`docs/batches.md`).
	///
	/// Twox64Concat: task ids are sequential.
	#[pallet::storage]
	pub type AuditSecrets<T: Config> = StorageMap<_, Twox64Concat, TaskId, H256, OptionQuery>;

	/// Where each executor of a batch publishes its outputs document, as it revealed it.
	///
	/// Twox64Concat for the task id (sequential); Blake2_128Concat for the executor
	/// (user-chosen accounts).
	#[pallet::storage]
	pub type OutputUris<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TaskId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<u8, T::MaxUriLen>,
		OptionQuery,
	>;

	/// The earliest block whose deadlines may not all have been processed.
	#[pallet::storage]
	pub type DeadlineCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Funds each requester holds in advance for its tasks, under [`HoldReason::TaskEscrow`]
	/// (`prepay`, `withdraw_prepaid`): `submit_task` takes a task's fee and deposit from them
	/// when they cover both, without a hold of its own, the costliest part of a submission.
	/// An entry is removed when it reaches zero.
	#[pallet::storage]
	pub type Prepaid<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// Which of the last 64 blocks were full, recorded as each block finishes.
	#[pallet::storage]
	pub type FullBlockLog<T: Config> = StorageValue<_, FullBlocks<BlockNumberFor<T>>, ValueQuery>;

	/// What each source paid into the protocol account and each purpose took out of it, since
	/// genesis (see [`ProtocolTreasury`]).
	///
	/// Twox64Concat: a small enum of ours.
	#[pallet::storage]
	pub type ProtocolFlows<T: Config> =
		StorageMap<_, Twox64Concat, ProtocolFlow, FlowTotals<BalanceOf<T>>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		_config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The protocol account must exist to receive cuts smaller than the existential
			// deposit.
			let account = Pallet::<T>::account_id();
			if !frame_system::Pallet::<T>::account_exists(&account) {
				let _ = frame_system::Pallet::<T>::inc_providers(&account);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A task was submitted and its fee put in escrow; its executors are drawn at the next
		/// block.
		TaskSubmitted {
			task: TaskId,
			requester: T::AccountId,
			model: ModelId,
			fee: BalanceOf<T>,
			redundancy: u32,
		},
		/// Executors were assigned to a task; they must commit before `commit_deadline`.
		TaskAssigned {
			task: TaskId,
			executors: Vec<T::AccountId>,
			commit_deadline: BlockNumberFor<T>,
		},
		/// An executor committed to a result.
		ResultCommitted { task: TaskId, executor: T::AccountId },
		/// The commit phase is over; committed executors must reveal before `reveal_deadline`.
		RevealPhaseStarted { task: TaskId, reveal_deadline: BlockNumberFor<T> },
		/// An executor revealed its output.
		ResultRevealed { task: TaskId, executor: T::AccountId, output_hash: H256 },
		/// The task has a result, open to challenges until `challenge_end`.
		TaskRevealed { task: TaskId, output_hash: H256, challenge_end: BlockNumberFor<T> },
		/// The task's result is disputed (executors disagreed, it was challenged, or it is
		/// audited); it waits for a verdict until `timeout`.
		TaskDisputed { task: TaskId, timeout: BlockNumberFor<T> },
		/// A dispute over item `item` of a batch ended (a challenge, or the disagreement between
		/// its two roots): `wrong` executors' roots were found wrong on it (or their answer was
		/// outvoted by jurors whose endpoints refused the item: unpaid, not slashed); the batch, its root
		/// found right standing, is back in its challenge window until `challenge_end`.
		BatchResumed {
			task: TaskId,
			item: u32,
			wrong: Vec<T::AccountId>,
			challenge_end: BlockNumberFor<T>,
		},
		/// A verdict on a disputed task: `output_hash` is the correct output (`None`: no revealed
		/// output was correct).
		DisputeResolved { task: TaskId, output_hash: Option<H256> },
		/// The task was finalised: `paid` went to its executors, `protocol_cut` to the protocol
		/// account, and `refunded` back to the requester.
		TaskFinalised {
			task: TaskId,
			output_hash: H256,
			paid: BalanceOf<T>,
			protocol_cut: BalanceOf<T>,
			refunded: BalanceOf<T>,
		},
		/// An executor missed a deadline and lost `slashed` of its stake to the protocol account.
		ExecutorMissedDeadline { task: TaskId, executor: T::AccountId, slashed: BalanceOf<T> },
		/// No executor delivered: new executors are drawn for the task at the next block.
		TaskReassigned { task: TaskId, excluded: Vec<T::AccountId> },
		/// The task ended without a result; `refunded` went back to the requester.
		TaskExpired { task: TaskId, refunded: BalanceOf<T> },
		/// A finished task was removed from state.
		TaskPruned { task: TaskId },
		/// Blocks before the current phase's deadline were full and an executor has not acted:
		/// the deadline moved to `phase_ends`, once for the phase.
		DeadlineExtended { task: TaskId, phase_ends: BlockNumberFor<T> },
		/// Every committed executor revealed: the results are compared at block
		/// `results_compared_at` (the next one) by the deadline hook.
		RevealPhaseEnded { task: TaskId, results_compared_at: BlockNumberFor<T> },
		/// The disputed batch ended unjudged (no jury could be drawn for its item dispute in
		/// time): no executor was paid or slashed, and `forfeited` of the fee went to the
		/// protocol account.
		TaskUnjudged { task: TaskId, forfeited: BalanceOf<T> },
		/// `amount` of the requester's free balance was held as prepaid funds for its tasks.
		FundsPrepaid { requester: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of the requester's prepaid funds went back to its free balance.
		PrepaidWithdrawn { requester: T::AccountId, amount: BalanceOf<T> },
		/// `task`'s fee and deposit, `amount`, were taken from the requester's prepaid funds
		/// (they stay under the escrow hold, now the task's).
		PrepaidSpent { task: TaskId, requester: T::AccountId, amount: BalanceOf<T> },
		/// One of the items the two roots of a batch's disagreement differ on was judged, and
		/// the bisection goes on to the next: `wrong` executors' roots were found wrong on it
		/// (or their answer outvoted by jurors whose endpoints refused it), each paid one item
		/// fewer if paid at all; the batch has `item_disputes_left` item disputes left.
		DifferenceJudged {
			task: TaskId,
			item: u32,
			wrong: Vec<T::AccountId>,
			item_disputes_left: u32,
		},
		/// The challenge window of batch `task` has ended: its requester's audit secret is
		/// awaited until block `until` (`reveal_audit_secret`), then the audit is decided.
		AuditSecretAwaited { task: TaskId, until: BlockNumberFor<T> },
		/// The requester's audit secret of batch `task` was revealed: its audit is decided at
		/// block `audit_decided_at`.
		AuditSecretRevealed { task: TaskId, audit_decided_at: BlockNumberFor<T> },
		/// The requester of batch `task` did not reveal its audit secret in time: the batch is
		/// audited whatever the draw, the requester not compensated, and `forfeited` of its
		/// deposit (what the audit's jury is paid) went to the protocol account.
		AuditSecretWithheld { task: TaskId, forfeited: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Redundancy must be between 1 and [`Config::MaxRedundancy`].
		InvalidRedundancy,
		/// A jury-mode task has one executor: outputs of a non-deterministic model cannot be
		/// compared, and only a judged output may be paid.
		JuryModeRedundancy,
		/// A task must be decoded greedily (temperature 0): a sampled output cannot be checked
		/// by re-executing it, so honest executors would disagree in exact match, and honest
		/// jurors would reject honest outputs in jury mode.
		TemperatureNotZero,
		/// `max_tokens` is above [`Config::MaxTokens`].
		TooManyTokens,
		/// The commit period is too short for `max_tokens`: at most [`Config::TokensPerBlock`]
		/// tokens per block of commit period. Ask fewer tokens or give more time.
		CommitPeriodTooShort,
		/// The inline input is not UTF-8 text.
		InputNotText,
		/// The input URI is not an `http://` or `https://` URL.
		InvalidInputUri,
		/// Only a task with a referenced input may be answered with `INPUT_UNAVAILABLE`: an
		/// inline input is on chain.
		InputIsInline,
		/// The fee is below [`Config::MinFeePerExecutor`] times the redundancy.
		FeeTooLow,
		/// The commit period is outside [`Config::MinCommitPeriod`]..=[`Config::MaxCommitPeriod`].
		InvalidCommitPeriod,
		/// The temperature is above 2000 (2.0), or `max_tokens` is zero.
		InvalidParams,
		/// The inline input (or the input URI) is longer than [`Config::MaxInputLen`].
		InputTooLong,
		/// The inline output is longer than [`Config::MaxOutputLen`].
		OutputTooLong,
		/// The output URI (or a batch's input URI) is longer than [`Config::MaxUriLen`].
		UriTooLong,
		/// The requester's free balance cannot cover the fee and deposit (or the amount to
		/// prepay) and keep the existential deposit.
		InsufficientBalance,
		/// Not enough active executors with free stake serve the model for the redundancy
		/// asked.
		NoExecutors,
		/// No task has this id (it may have been pruned).
		UnknownTask,
		/// The signer is not (the operator of) an executor assigned to this task.
		NotAssigned,
		/// The task is not in the phase this call belongs to.
		WrongPhase,
		/// The deadline of the current phase has passed.
		DeadlinePassed,
		/// This executor already committed.
		AlreadyCommitted,
		/// This executor did not commit, so it cannot reveal.
		NotCommitted,
		/// This executor already revealed.
		AlreadyRevealed,
		/// The output hash and salt do not match the commitment.
		CommitmentMismatch,
		/// The inline output does not hash to the output hash.
		OutputHashMismatch,
		/// The task's current phase has not ended yet.
		TooEarly,
		/// The output hash is zero, which no output may have.
		InvalidOutputHash,
		/// The output must be revealed inline: the requester reads what it pays for, and jurors
		/// judge it.
		InlineOutputRequired,
		/// Executors are drawn only by the per-block hook, before any transaction of its block,
		/// from the hash of the block before: no caller may choose when a draw happens.
		DrawnByHookOnly,
		/// The chain takes no batch yet: its dispute handler does not judge a batch item by
		/// item, and a batch whose disputes could not be so judged would pay its executors
		/// whatever they committed to.
		BatchesNotJudged,
		/// A batch has from 1 to [`Config::MaxBatchItems`] items, and its items' calls and
		/// tokens must fit in [`Config::MaxBatchCommitPeriod`].
		InvalidBatchSize,
		/// A batch is exact-match: jurors cannot judge free text item by item against outputs
		/// they cannot see.
		BatchNeedsExactMatch,
		/// A batch has one or two executors, so that a disagreement has two sides.
		BatchRedundancy,
		/// Too few verifiers of the model are selectable (the requester's agent excluded) for a
		/// batch's jury and every appeal.
		NotEnoughJurors,
		/// A batch's result is its outputs root, revealed with the URI of its outputs document
		/// and no inline output.
		BatchOutputNotInline,
		/// A batch's outputs root is revealed with the URI where its outputs are published.
		OutputUriRequired,
		/// A batch's outputs URI is not an `http://` or `https://` URL.
		InvalidOutputUri,
		/// The amount to withdraw is more than the requester's prepaid funds.
		InsufficientPrepaid,
		/// The amount is zero.
		ZeroAmount,
		/// The task is not a batch: only a batch has an audit secret.
		NotABatch,
		/// The batch's audit secret is not awaited: its challenge window has not ended yet (a
		/// secret revealed earlier would let the executors and a block author steer the
		/// audit), or the batch has moved on.
		AuditSecretNotAwaited,
		/// The secret's hash is not the audit commitment the batch was submitted with.
		AuditSecretMismatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Makes the transitions of at most [`Config::MaxDeadlinesPerBlock`] due tasks, each
		/// charged what it did, for as long as the costliest could still fit in
		/// [`Config::MaxDeadlineWeight`]: a block takes as many draws or comparisons as its
		/// budget holds, whatever their number, and never more than the budget whatever is due.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Queue::<T>::run_hook(
				now,
				T::MaxDeadlinesPerBlock::get(),
				MAX_BLOCKS_PER_RUN,
				&Self::hook_weights(),
				|task| Self::process_deadline(task, now),
			)
		}

		/// Records whether this block was full, for deadlines that fell in it.
		fn on_finalize(now: BlockNumberFor<T>) {
			let full = current_block_is_full::<T>();
			FullBlockLog::<T>::mutate(|log| log.record(now, full));
		}

		/// On agent nodes: executes the tasks assigned to the node's operator keys (see
		/// [`offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_executor(now);
		}

		fn integrity_test() {
			assert!(T::MaxRedundancy::get() > 0, "MaxRedundancy must be positive");
			assert!(T::MaxDeadlinesPerBlock::get() > 0, "MaxDeadlinesPerBlock must be positive");
			assert!(
				Self::hook_weight(1, MAX_BLOCKS_PER_RUN).all_lte(T::MaxDeadlineWeight::get()),
				"MaxDeadlineWeight must hold the costliest transition"
			);
			assert!(!T::MinCommitPeriod::get().is_zero(), "MinCommitPeriod must be positive");
			// A deadline extended by none would be queued again at the block the hook is
			// taking, and taken again in the same run.
			assert!(!T::CongestionGrace::get().is_zero(), "CongestionGrace must be positive");
			// Awaited for none, a secret could never be revealed: every batch would be audited.
			assert!(!T::AuditSecretPeriod::get().is_zero(), "AuditSecretPeriod must be positive");
			assert!(
				T::MinCommitPeriod::get() <= T::MaxCommitPeriod::get(),
				"MinCommitPeriod must not exceed MaxCommitPeriod"
			);
			assert!(!T::RevealPeriod::get().is_zero(), "RevealPeriod must be positive");
			assert!(!T::ChallengePeriod::get().is_zero(), "ChallengePeriod must be positive");
			assert!(!T::DisputeTimeout::get().is_zero(), "DisputeTimeout must be positive");
			assert!(!T::RetentionPeriod::get().is_zero(), "RetentionPeriod must be positive");
			assert!(!T::MinFeePerExecutor::get().is_zero(), "MinFeePerExecutor must be positive");
			assert!(T::MaxTokens::get() > 0, "MaxTokens must be positive");
			assert!(T::TokensPerBlock::get() > 0, "TokensPerBlock must be positive");
			assert!(T::ItemsPerBlock::get() > 0, "ItemsPerBlock must be positive");
			assert!(T::BatchCallsPerRun::get() > 0, "BatchCallsPerRun must be positive");
			assert!(
				T::MaxUriLen::get() <= T::MaxInputLen::get(),
				"a batch's input URI (MaxUriLen) is stored within MaxInputLen"
			);
			assert!(
				T::MaxCommitPeriod::get() <= T::MaxBatchCommitPeriod::get(),
				"MaxBatchCommitPeriod must not be shorter than MaxCommitPeriod"
			);
			assert!(T::MaxBatchStretch::get() >= 1, "MaxBatchStretch must be at least 1");
			assert!(
				T::MissedRevealSlash::get() >= T::Disputes::max_executor_slash(Zero::zero()),
				"withholding a reveal must cost at least as much as a wrong result"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submit an inference task and pay for it.
		///
		/// The origin must be signed by the requester; `fee` is held from its free balance in
		/// escrow, and a storage deposit until the task is pruned.
		///
		/// - `model`: the model to run; at least `redundancy` active executors with free stake
		///   must serve it.
		/// - `input`: the prompt inline (UTF-8 text, at most [`Config::MaxInputLen`] bytes), or
		///   its blake2-256 hash and an `http(s)://` URI to fetch it from, or a batch (below).
		/// - `params`: `max_tokens` (1..=[`Config::MaxTokens`], and at most
		///   [`Config::TokensPerBlock`] per block of `commit_period`), `temperature_milli`
		///   (≤ 2000; 0 in exact-match mode), `seed`, and the verification mode.
		/// - `fee`: at least [`Config::MinFeePerExecutor`] × `redundancy`; split evenly between
		///   the executors that deliver.
		/// - `redundancy`: how many executors, 1..=[`Config::MaxRedundancy`]; 1 in jury mode.
		/// - `commit_period`: blocks the executors have to commit to a result, from their
		///   assignment; a batch's commit phase is longer when a drawn executor's open batches
		///   need it, up to [`Config::MaxBatchStretch`] times as long and a margin.
		///
		/// The fee and the storage deposit ([`Pallet::task_deposit`]) are taken from the
		/// requester's prepaid funds when those cover both (see `prepay`: no hold, and a lower
		/// charge); otherwise both are held from its free balance, which must keep the
		/// existential deposit.
		///
		/// Executors are drawn at the next block, weighted by free stake, from the hash of this
		/// block. The call checks only that `redundancy` of them are available now: it reads the
		/// candidates' records in the set's order up to the `redundancy`th selectable one, and
		/// is charged for the records it read (declared for a full set, the rest refunded), also
		/// when it is refused for `NoExecutors`; a call refused before that check pays what it
		/// declared. The draw itself is the next block's hook's (within
		/// [`Config::MaxDeadlineWeight`] a block), charged to that block.
		///
		/// **Batches** (`docs/batches.md`): `input` is `Batch { root, uri, items,
		/// audit_commitment }`, `items` inputs published as a JSON array at `uri` (at most
		/// [`Config::MaxUriLen`] bytes) under the Merkle root `root`. A batch is taken only when
		/// the dispute handler judges its disputes item by item; it has 1 to
		/// [`Config::MaxBatchItems`] items, is exact-match with one or two executors, asks per item
		/// no more tokens than a juror re-executes in its commit period, and its commit period
		/// leaves a block per [`Config::ItemsPerBlock`] items and per [`Config::TokensPerBlock`]
		/// tokens, at most twice that (or [`Config::MaxCommitPeriod`], if more) and at most
		/// [`Config::MaxBatchCommitPeriod`]. Its fee per executor is at least
		/// [`Config::MinFeePerItem`] per item and [`Config::MinFeePerSeatBlock`] per block of
		/// its commit period; each executor reserves a task's collateral and every item slash
		/// its root may owe ([`Pallet::collateral_of`]); the deposit holds the jury deposit
		/// besides; and enough verifiers of the model for a jury and every appeal must be
		/// selectable, the requester's agent excluded (their records read and charged too).
		///
		/// Errors: `InvalidRedundancy`, `JuryModeRedundancy`, `FeeTooLow`,
		/// `InvalidCommitPeriod`, `InvalidParams`, `TemperatureNotZero`, `TooManyTokens`,
		/// `CommitPeriodTooShort`, `InputTooLong`, `InputNotText`, `InvalidInputUri`,
		/// `InsufficientBalance`, `NoExecutors`; for a batch `BatchesNotJudged`,
		/// `InvalidBatchSize`, `BatchNeedsExactMatch`, `BatchRedundancy`, `UriTooLong`,
		/// `NotEnoughJurors`.
		///
		/// Emits `PrepaidSpent` when the prepaid funds paid, then `TaskSubmitted` (and
		/// `TaskAssigned` at the next block).
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::submit_task_weight(input, *redundancy))]
		pub fn submit_task(
			origin: OriginFor<T>,
			model: ModelId,
			input: TaskInput<Vec<u8>>,
			params: TaskParams,
			fee: BalanceOf<T>,
			redundancy: u32,
			commit_period: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let requester = ensure_signed(origin)?;
			let input_len = Self::input_len(&input);
			let items = Self::batch_items(&input);
			ensure!(
				redundancy > 0 && redundancy <= T::MaxRedundancy::get(),
				Error::<T>::InvalidRedundancy
			);
			ensure!(
				params.mode != VerificationMode::Jury || redundancy == 1,
				Error::<T>::JuryModeRedundancy
			);
			if let Some(items) = items {
				Self::check_batch(items, &params, redundancy)?;
			}
			let (shortest, longest) = Self::commit_period_bounds(items, &params)?;
			ensure!(commit_period >= shortest, Error::<T>::CommitPeriodTooShort);
			ensure!(
				commit_period >= T::MinCommitPeriod::get() && commit_period <= longest,
				Error::<T>::InvalidCommitPeriod
			);
			ensure!(fee >= Self::min_fee(items, redundancy, commit_period), Error::<T>::FeeTooLow);
			Self::check_params(&params, commit_period)?;
			let input = Self::bounded_input(input)?;

			let share = fee / BalanceOf::<T>::from(redundancy);
			let collateral = Self::collateral_of(share, items);
			let exclude = Self::requester_and_its_agent(&requester);
			let (available, mut records_read) = T::AgentRegistry::has_available(
				Self::executor_role(&input),
				&model,
				redundancy,
				&exclude,
				collateral,
				Self::batch_work_of(items, &params, commit_period),
			);
			// Refused: charged for the records read, every one counted as passed over, and no
			// hold (`held` is 1 when the fee and deposit were held, 0 when they were prepaid).
			let charged = |read: u32, held: u32| {
				T::WeightInfo::submit_task(redundancy, input_len, read, held)
					.saturating_add(Self::batch_check_reads(items))
			};
			ensure!(available, Error::<T>::NoExecutors.with_weight(charged(records_read, 0)));
			if items.is_some() {
				// Enough verifiers for the first jury and every appeal of an item dispute, and
				// one for each executor, who may be a verifier too but never judges its task.
				let terms = T::Disputes::batch_terms();
				let (enough, read) = T::AgentRegistry::has_available(
					Role::Verifier,
					&model,
					terms.jurors_needed.saturating_add(redundancy),
					&exclude,
					terms.juror_collateral,
					None,
				);
				records_read = records_read.saturating_add(read);
				ensure!(enough, Error::<T>::NotEnoughJurors.with_weight(charged(records_read, 0)));
			}

			let deposit = Self::task_deposit(&input, redundancy);
			let cost = fee.saturating_add(deposit);
			let prepaid = Prepaid::<T>::get(&requester);
			// Both under the escrow hold, from the prepaid funds when they cover both.
			let id = NextTaskId::<T>::get();
			let held = if prepaid >= cost {
				Self::set_prepaid(&requester, prepaid.saturating_sub(cost));
				Self::deposit_event(Event::PrepaidSpent {
					task: id,
					requester: requester.clone(),
					amount: cost,
				});
				0
			} else {
				Self::hold_escrow(&requester, cost)?;
				1
			};

			NextTaskId::<T>::put(id.saturating_add(1));
			let now = frame_system::Pallet::<T>::block_number();
			let task = TaskInfo::<T> {
				requester: requester.clone(),
				model,
				input,
				params,
				fee,
				escrow: fee,
				redundancy,
				commit_period,
				status: TaskStatus::Submitted,
				// The draw, at the next block, seeded by the hash of this one.
				phase_ends: Queue::<T>::schedule(&id, now.saturating_add(One::one())),
				assignments: Default::default(),
				reassignments: 0,
				result: None,
				submitted_at: now,
				collateral,
				excluded: Default::default(),
				deposit,
				extended: false,
			};
			Tasks::<T>::insert(id, task);
			Self::deposit_event(Event::TaskSubmitted {
				task: id,
				requester,
				model,
				fee,
				redundancy,
			});
			// Charged for the candidates' records the availability check read (the `redundancy`
			// it found and those it passed over), not for a full set's.
			Ok(Some(charged(records_read.saturating_sub(redundancy), held)).into())
		}

		/// Commit to a result of a task: `commitment = blake2_256(output_hash ‖ salt ‖
		/// executor)`, where `executor` is the agent's (owner) account.
		///
		/// The origin must be signed by an assigned executor, or by its operator key, before the
		/// commit deadline. When the last executor commits, the reveal phase starts at once.
		///
		/// Errors: `UnknownTask`, `NotAssigned`, `WrongPhase`, `DeadlinePassed`,
		/// `AlreadyCommitted`.
		///
		/// Emits `ResultCommitted`, and `RevealPhaseStarted` after the last commitment.
		#[pallet::call_index(1)]
		// Operational: a duty with a deadline, kept out of the share of the block ordinary
		// traffic can fill (only assigned executors pass the runtime's validation).
		#[pallet::weight((Pallet::<T>::commit_weight(), DispatchClass::Operational))]
		pub fn commit(
			origin: OriginFor<T>,
			task: TaskId,
			commitment: H256,
		) -> DispatchResultWithPostInfo {
			let (mut record, executor, index, now) =
				Self::executor_in_phase(origin, task, TaskStatus::Assigned)?;
			let blocks = Self::batch_blocks_held(&record, &executor);
			let assignment = record.assignments.get_mut(index).ok_or(Error::<T>::NotAssigned)?;
			ensure!(assignment.commitment.is_none(), Error::<T>::AlreadyCommitted);
			assignment.commitment = Some(commitment);
			// The batch's work is done: it no longer counts against the executor's next ones.
			let batch = blocks > 0;
			if batch {
				T::AgentRegistry::note_batch_work_done(&executor, blocks);
			}
			Self::deposit_event(Event::ResultCommitted { task, executor });

			if record.assignments.iter().all(|a| a.commitment.is_some()) {
				Queue::<T>::unschedule(&task, record.phase_ends);
				Self::start_reveal_phase(task, &mut record, now);
			}
			Tasks::<T>::insert(task, record);
			// A single task's commit is charged its benchmark alone (no record released).
			Ok((!batch).then(T::WeightInfo::commit).into())
		}

		/// Reveal a committed result: the output hash, the salt, and the output inline (at most
		/// [`Config::MaxOutputLen`] bytes, hashing to `output_hash`), with a URI if wanted.
		///
		/// An executor that could not obtain a referenced input (it did not arrive in time, did
		/// not match its hash, or is not UTF-8 text) reveals `output_hash =`
		/// [`INPUT_UNAVAILABLE`] without an output.
		///
		/// A batch's executor reveals the Merkle root of its outputs as `output_hash`, with the
		/// URI where it publishes them and no inline output: an item is shown on chain, with its
		/// proof, when it is requested or disputed.
		///
		/// The origin must be signed by an executor that committed, or by its operator key,
		/// during the reveal phase. When the last committed executor reveals, the reveal phase
		/// ends: the results are compared at the next block, by the deadline hook (as when the
		/// reveal deadline passes), so that a reveal costs the same whether or not it is the last.
		///
		/// Errors: `UnknownTask`, `NotAssigned`, `WrongPhase`, `DeadlinePassed`, `NotCommitted`,
		/// `AlreadyRevealed`, `CommitmentMismatch`, `InvalidOutputHash`, `InputIsInline`,
		/// `InlineOutputRequired`, `OutputTooLong`, `OutputHashMismatch`, `UriTooLong`,
		/// `BatchOutputNotInline`, `OutputUriRequired`.
		///
		/// Emits `ResultRevealed`, and `RevealPhaseEnded` after the last reveal (then, at the
		/// next block, `TaskRevealed`, `TaskDisputed` or `TaskFinalised`).
		#[pallet::call_index(2)]
		// Operational, like `commit`. The conclusion (a dispute opened, or every output paid) is
		// the hook's, charged with its transitions.
		#[pallet::weight((T::WeightInfo::reveal(
			output.as_ref().map_or(0, |o| o.len()).saturated_into(),
		), DispatchClass::Operational))]
		pub fn reveal(
			origin: OriginFor<T>,
			task: TaskId,
			output_hash: H256,
			salt: [u8; 32],
			output: Option<Vec<u8>>,
			uri: Option<Vec<u8>>,
		) -> DispatchResult {
			let (mut record, executor, index, now) =
				Self::executor_in_phase(origin, task, TaskStatus::Committed)?;
			let reference = !matches!(record.input, TaskInput::Inline(_));
			let batch = matches!(record.input, TaskInput::Batch { .. });
			let assignment = record.assignments.get_mut(index).ok_or(Error::<T>::NotAssigned)?;
			let commitment = assignment.commitment.ok_or(Error::<T>::NotCommitted)?;
			ensure!(assignment.output.is_none(), Error::<T>::AlreadyRevealed);
			ensure!(
				commitment_of(&output_hash, &salt, &executor) == commitment,
				Error::<T>::CommitmentMismatch
			);
			// The zero hash is a juror's "not acceptable" vote: no output may take it.
			ensure!(!output_hash.is_zero(), Error::<T>::InvalidOutputHash);
			let inline: Option<BoundedVec<u8, T::MaxOutputLen>> =
				if output_hash == INPUT_UNAVAILABLE {
					ensure!(reference, Error::<T>::InputIsInline);
					ensure!(output.is_none(), Error::<T>::OutputHashMismatch);
					None
				} else if batch {
					// The outputs root: its items are shown one by one, with their proofs,
					// when requested or disputed.
					ensure!(output.is_none(), Error::<T>::BatchOutputNotInline);
					let uri = uri.as_deref().ok_or(Error::<T>::OutputUriRequired)?;
					Self::check_uri(uri).map_err(|_| Error::<T>::InvalidOutputUri)?;
					None
				} else {
					// The requester reads what it pays for, and jurors judge it: on chain.
					let bytes: BoundedVec<u8, T::MaxOutputLen> = output
						.ok_or(Error::<T>::InlineOutputRequired)?
						.try_into()
						.map_err(|_| Error::<T>::OutputTooLong)?;
					ensure!(hash_of(&bytes) == output_hash, Error::<T>::OutputHashMismatch);
					Some(bytes)
				};
			let uri: Option<BoundedVec<u8, T::MaxUriLen>> = uri
				.map(|bytes| bytes.try_into().map_err(|_| Error::<T>::UriTooLong))
				.transpose()?;
			assignment.output = Some(output_hash);
			if batch {
				// Each executor's own: one whose URI serves nothing cannot hide another's.
				if let Some(uri) = uri.filter(|_| output_hash != INPUT_UNAVAILABLE) {
					OutputUris::<T>::insert(task, &executor, uri);
				}
			} else if inline.is_some() && !Outputs::<T>::contains_key(task, output_hash) {
				// Identical outputs (same hash) are stored once.
				Outputs::<T>::insert(task, output_hash, OutputData::<T> { inline, uri });
			}
			Self::deposit_event(Event::ResultRevealed { task, executor, output_hash });

			let all_revealed =
				record.assignments.iter().all(|a| a.commitment.is_none() || a.output.is_some());
			if all_revealed {
				// The reveal phase ends now: its deadline moves to the next block, where the hook
				// compares the results (the deadline cannot be earlier than the next block: this
				// block's hook has run).
				Queue::<T>::unschedule(&task, record.phase_ends);
				record.phase_ends = Queue::<T>::schedule(&task, now.saturating_add(One::one()));
				Self::deposit_event(Event::RevealPhaseEnded {
					task,
					results_compared_at: record.phase_ends,
				});
			}
			Tasks::<T>::insert(task, record);
			Ok(())
		}

		/// Move on a task whose current phase has ended but which the per-block hook has not
		/// processed yet (more deadlines fell due than a block processes): the same transition
		/// the hook would make. Anyone may call it.
		///
		/// Errors: `UnknownTask`, `TooEarly` (the phase has not ended, or the hook processed it
		/// already), `DrawnByHookOnly` (the task waits for its executors to be drawn).
		///
		/// Emits what the transition emits (`TaskFinalised`, `TaskExpired`, `TaskPruned`, …).
		#[pallet::call_index(3)]
		// Either transition: finalising a revealed task, or the costliest one the hook makes;
		// the one made is charged (`transition_cost`).
		#[pallet::weight(Pallet::<T>::advance_weight())]
		pub fn advance(origin: OriginFor<T>, task: TaskId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let record = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				record.phase_ends < now && Queue::<T>::is_scheduled(&task, record.phase_ends),
				Error::<T>::TooEarly
			);
			// A draw run by a transaction would be seeded by a hash its sender already knows,
			// against a state it has just changed in the same block.
			ensure!(record.status != TaskStatus::Submitted, Error::<T>::DrawnByHookOnly);
			Queue::<T>::unschedule(&task, record.phase_ends);
			let transition = Self::process_deadline(task, now);
			// The record read and the queue entry removed, besides the transition.
			let actual = transition.saturating_add(T::DbWeight::get().reads_writes(2, 1));
			Ok(Some(actual.min(Self::advance_weight())).into())
		}

		/// Hold `amount` of the signer's free balance in advance for its tasks: `submit_task`
		/// takes a task's fee and deposit from these prepaid funds when they cover both, with
		/// no hold of its own, and is charged less for it (a hold costs about what a transfer
		/// does). What a task does not spend is refunded to the free balance, as ever; the
		/// prepaid funds are withdrawn with `withdraw_prepaid`.
		///
		/// Errors: `ZeroAmount`, `InsufficientBalance` (the free balance cannot cover it and
		/// keep the existential deposit).
		///
		/// Emits `FundsPrepaid`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::prepay())]
		pub fn prepay(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			Self::hold_escrow(&requester, amount)?;
			Prepaid::<T>::mutate(&requester, |prepaid| *prepaid = prepaid.saturating_add(amount));
			Self::deposit_event(Event::FundsPrepaid { requester, amount });
			Ok(())
		}

		/// Release `amount` of the signer's prepaid funds to its free balance. Only prepaid
		/// funds: the fees and deposits of its open tasks stay held.
		///
		/// Errors: `ZeroAmount`, `InsufficientPrepaid`.
		///
		/// Emits `PrepaidWithdrawn`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::withdraw_prepaid())]
		pub fn withdraw_prepaid(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let prepaid = Prepaid::<T>::get(&requester);
			ensure!(amount <= prepaid, Error::<T>::InsufficientPrepaid);
			T::Currency::release(
				&HoldReason::TaskEscrow.into(),
				&requester,
				amount,
				Precision::Exact,
			)
			.map_err(|_| {
				defensive!("prepaid funds are not all under the escrow hold");
				Error::<T>::InsufficientPrepaid
			})?;
			Self::set_prepaid(&requester, prepaid.saturating_sub(amount));
			Self::deposit_event(Event::PrepaidWithdrawn { requester, amount });
			Ok(())
		}

		/// Reveal the audit secret batch `task` was submitted with (`secret`, whose
		/// `blake2_256` is the batch's `audit_commitment`), once its challenge window has ended
		/// (`AuditSecretAwaited`). Its audit is then decided at the next block, from the secret
		/// and the hash of the block before the window's original end: an executor colluding
		/// with that block's author, not knowing the secret, cannot steer it. Anyone may send
		/// it; only the requester knows the secret. Operational, like `reveal`: a flood of
		/// transfers cannot keep it out.
		///
		/// Errors: `UnknownTask`, `NotABatch`, `AuditSecretNotAwaited` (the window has not
		/// ended, the wait has, or the secret was revealed or the batch moved on),
		/// `AuditSecretMismatch`. A transaction dispatch would refuse is refused before it
		/// enters the pool: a secret sent too early is never published.
		///
		/// Emits `AuditSecretRevealed`.
		#[pallet::call_index(6)]
		#[pallet::weight((T::WeightInfo::reveal_audit_secret(), DispatchClass::Operational))]
		pub fn reveal_audit_secret(
			origin: OriginFor<T>,
			task: TaskId,
			secret: H256,
		) -> DispatchResult {
			ensure_signed(origin)?;
			let mut record = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			let TaskInput::Batch { audit_commitment, .. } = record.input else {
				return Err(Error::<T>::NotABatch.into());
			};
			ensure!(
				record.status == TaskStatus::Revealed
					&& AwaitedAuditSecrets::<T>::contains_key(task)
					&& !AuditSecrets::<T>::contains_key(task),
				Error::<T>::AuditSecretNotAwaited
			);
			// Past the wait's end (the hook running late) it is withheld, whenever processed.
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < record.phase_ends, Error::<T>::AuditSecretNotAwaited);
			ensure!(
				hash_of(secret.as_bytes()) == audit_commitment,
				Error::<T>::AuditSecretMismatch
			);
			AuditSecrets::<T>::insert(task, secret);
			// Decided at the next block: this block's hook has run.
			Queue::<T>::unschedule(&task, record.phase_ends);
			record.phase_ends = Queue::<T>::schedule(&task, now.saturating_add(One::one()));
			Self::deposit_event(Event::AuditSecretRevealed {
				task,
				audit_decided_at: record.phase_ends,
			});
			Tasks::<T>::insert(task, record);
			Ok(())
		}
	}
}

/// The deadline queue of tasks.
pub type Queue<T> = DeadlineQueue<Deadlines<T>, DeadlineCursor<T>, BlockNumberFor<T>, TaskId>;

impl<T: Config> Pallet<T> {
	/// The pallet's account, the protocol account: receives the protocol cut and pays audits.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The length of a submitted input that its weight depends on: the bytes inline, or the URI.
	pub(crate) fn input_len(input: &TaskInput<Vec<u8>>) -> u32 {
		match input {
			TaskInput::Inline(bytes) => bytes.len(),
			TaskInput::Reference { uri, .. } | TaskInput::Batch { uri, .. } => uri.len(),
		}
		.saturated_into()
	}

	/// The number of items of a batch; `None` for a single task.
	pub fn batch_items<Bytes>(input: &TaskInput<Bytes>) -> Option<u32> {
		match input {
			TaskInput::Batch { items, .. } => Some(*items),
			_ => None,
		}
	}

	/// Holds `amount` of `requester`'s free balance under the escrow hold, keeping the
	/// existential deposit free.
	fn hold_escrow(requester: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let spendable =
			T::Currency::reducible_balance(requester, Preservation::Preserve, Fortitude::Polite);
		ensure!(spendable >= amount, Error::<T>::InsufficientBalance);
		T::Currency::hold(&HoldReason::TaskEscrow.into(), requester, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Records `amount` as `requester`'s prepaid funds (none: no entry).
	fn set_prepaid(requester: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			Prepaid::<T>::remove(requester);
		} else {
			Prepaid::<T>::insert(requester, amount);
		}
	}

	/// The weight `submit_task` declares for `input` with `redundancy` executors: the
	/// executors' candidate set read in full and, for a batch, the verifiers' too; the fee
	/// and deposit held.
	pub fn submit_task_weight(input: &TaskInput<Vec<u8>>, redundancy: u32) -> Weight {
		let items = Self::batch_items(input);
		let sets = if items.is_some() { 2 } else { 1 };
		T::WeightInfo::submit_task(
			redundancy,
			Self::input_len(input),
			T::AgentRegistry::max_candidates().saturating_mul(sets),
			1,
		)
		.saturating_add(Self::batch_check_reads(items))
	}

	/// What checking a batch's verifiers adds to `submit_task` besides their records: the
	/// verifiers' candidate set.
	fn batch_check_reads(items: Option<u32>) -> Weight {
		T::DbWeight::get().reads(items.map_or(0, |_| 1))
	}

	/// Checks what a batch of `items` asks besides its fee and commit period: the dispute
	/// handler judges batches, the size, the mode, the redundancy, and tokens a juror can
	/// re-execute within its commit period.
	fn check_batch(items: u32, params: &TaskParams, redundancy: u32) -> DispatchResult {
		let terms = T::Disputes::batch_terms();
		ensure!(terms.items_judged, Error::<T>::BatchesNotJudged);
		ensure!(items > 0 && items <= T::MaxBatchItems::get(), Error::<T>::InvalidBatchSize);
		ensure!(params.mode == VerificationMode::ExactMatch, Error::<T>::BatchNeedsExactMatch);
		ensure!(redundancy <= MAX_BATCH_REDUNDANCY, Error::<T>::BatchRedundancy);
		let item_tokens = terms.jury_commit_blocks.saturating_mul(T::TokensPerBlock::get());
		ensure!(params.max_tokens <= item_tokens, Error::<T>::TooManyTokens);
		Ok(())
	}

	/// The smallest fee of a task (`items` is `None`) or a batch with `redundancy` executors
	/// and `commit_period`: per executor, [`Config::MinFeePerExecutor`], and for a batch the
	/// most of that, [`Config::MinFeePerItem`] per item and [`Config::MinFeePerSeatBlock`] per
	/// block of its commit period.
	pub fn min_fee(
		items: Option<u32>,
		redundancy: u32,
		commit_period: BlockNumberFor<T>,
	) -> BalanceOf<T> {
		let mut per_executor = T::MinFeePerExecutor::get();
		if let Some(items) = items {
			let blocks: u32 = commit_period.saturated_into();
			per_executor = per_executor
				.max(T::MinFeePerItem::get().saturating_mul(items.into()))
				.max(T::MinFeePerSeatBlock::get().saturating_mul(blocks.into()));
		}
		per_executor.saturating_mul(redundancy.into())
	}

	/// The shortest and the longest commit period of a task (the shortest is then checked
	/// against its tokens by `check_params`) or a batch of `items`. A batch's must leave a block
	/// for every [`Config::ItemsPerBlock`] items and for every [`Config::TokensPerBlock`] tokens
	/// its items may ask, and is at most twice that (or [`Config::MaxCommitPeriod`], if more) and
	/// at most [`Config::MaxBatchCommitPeriod`]: a cheap batch cannot hold its executors'
	/// collateral for much longer than its work needs (its commit phase is lengthened only for
	/// an executor whose open batches need it, at most [`Config::MaxBatchStretch`] times).
	pub fn commit_period_bounds(
		items: Option<u32>,
		params: &TaskParams,
	) -> Result<(BlockNumberFor<T>, BlockNumberFor<T>), DispatchError> {
		let Some(items) = items else { return Ok((Zero::zero(), T::MaxCommitPeriod::get())) };
		let needed = Self::batch_blocks(items, params);
		let max_batch: u64 = T::MaxBatchCommitPeriod::get().saturated_into();
		ensure!(needed <= max_batch, Error::<T>::InvalidBatchSize);
		let max_task: u64 = T::MaxCommitPeriod::get().saturated_into();
		let longest = needed.saturating_mul(2).max(max_task).min(max_batch);
		Ok((needed.saturated_into(), longest.saturated_into()))
	}

	/// The blocks of an executor's work a batch of `items` with `params` needs: one for every
	/// [`Config::ItemsPerBlock`] items and for every [`Config::TokensPerBlock`] tokens its items
	/// may ask.
	pub fn batch_blocks(items: u32, params: &TaskParams) -> u64 {
		let items = u64::from(items);
		let calls = items.div_ceil(u64::from(T::ItemsPerBlock::get().max(1)));
		let tokens = items
			.saturating_mul(params.max_tokens.into())
			.div_ceil(u64::from(T::TokensPerBlock::get().max(1)));
		calls.saturating_add(tokens)
	}

	/// The slash of a batch's root found wrong on one item, for a fee share of `share` over
	/// `items`: `max(item_slash_floor, slash_fee_multiple × share / items)`, rounded down after
	/// the multiplication.
	pub fn batch_item_slash(share: BalanceOf<T>, items: u32) -> BalanceOf<T> {
		let terms = T::Disputes::batch_terms();
		let per_item = share.saturating_mul(terms.slash_fee_multiple.into())
			/ BalanceOf::<T>::from(items.max(1));
		terms.item_slash_floor.max(per_item)
	}

	/// The collateral of an executor with fee share `share` of a task (`items` is `None`) or a
	/// batch: a task's ([`Self::executor_collateral`]), and for a batch besides every item
	/// slash its root may owe (one per item dispute the batch may have, at most one per item),
	/// so that no slash a batch can cost takes stake held for other work.
	pub fn collateral_of(share: BalanceOf<T>, items: Option<u32>) -> BalanceOf<T> {
		let collateral = Self::executor_collateral(share);
		let Some(items) = items else { return collateral };
		let disputes = items.min(T::Disputes::batch_terms().item_disputes);
		collateral
			.saturating_add(Self::batch_item_slash(share, items).saturating_mul(disputes.into()))
	}

	/// The stake each executor of a task reserves while the task is open, for a fee share of
	/// `share`: the most the task can cost it (a missed commit, a withheld reveal, or a wrong
	/// result found in a dispute).
	pub fn executor_collateral(share: BalanceOf<T>) -> BalanceOf<T> {
		T::MissedDeadlineSlash::get()
			.max(Self::missed_reveal_slash(share))
			.max(T::Disputes::max_executor_slash(share))
	}

	/// What an executor with fee share `share` loses for committing and not revealing: as much
	/// as a wrong result, so that withholding a reveal never beats revealing.
	pub fn missed_reveal_slash(share: BalanceOf<T>) -> BalanceOf<T> {
		T::MissedRevealSlash::get().max(T::Disputes::max_executor_slash(share))
	}

	/// The storage deposit of a task with `input` and `redundancy` executors: a base, plus a
	/// price per byte of its input and of the outputs it may store.
	pub fn task_deposit(input: &TaskInputOf<T>, redundancy: u32) -> BalanceOf<T> {
		let input_len = match input {
			TaskInput::Inline(bytes) => bytes.len(),
			TaskInput::Reference { uri, .. } => uri.len().saturating_add(32),
			// The root, the count and the audit commitment.
			TaskInput::Batch { uri, .. } => uri.len().saturating_add(68),
		} as u32;
		let outputs = T::MaxOutputLen::get()
			.saturating_add(T::MaxUriLen::get())
			.saturating_mul(redundancy);
		let bytes: BalanceOf<T> = input_len.saturating_add(outputs).into();
		let storage = T::TaskDepositBase::get()
			.saturating_add(T::TaskDepositPerByte::get().saturating_mul(bytes));
		match input {
			// And what the audit's jury is paid if the requester withholds its audit secret.
			TaskInput::Batch { .. } => {
				storage.saturating_add(T::Disputes::batch_terms().jury_deposit)
			},
			_ => storage,
		}
	}

	/// The most weight the dispute handler and the finalisation hook add to one transition (a
	/// window's end may try an audit, then finalise).
	fn handler_weight() -> Weight {
		T::Disputes::max_weight().saturating_add(T::OnFinalised::max_weight())
	}

	/// The costliest transition a deadline can make, handlers included: the most
	/// [`Self::transition_cost`] charges, at the largest redundancy, on any path (a draw, or
	/// a commit deadline missed, then the task expired; a reveal phase's end with reveals
	/// withheld, then a dispute, every executor paid after a jury was looked for, or the task
	/// expired; a window's end; a pruning), and the two reads of the task around it.
	pub fn transition_weight() -> Weight {
		let r = T::MaxRedundancy::get();
		let expired = T::WeightInfo::process_window_end(1);
		let concluded = T::Disputes::max_weight()
			.saturating_add(T::WeightInfo::finalize())
			.saturating_add(T::OnFinalised::max_weight())
			.max(T::WeightInfo::process_window_end(r));
		T::WeightInfo::process_draw(r)
			.saturating_add(expired)
			.max(T::WeightInfo::process_missed(r).saturating_add(expired))
			.max(
				T::WeightInfo::process_missed(r)
					.saturating_add(T::WeightInfo::process_reveals(r))
					.saturating_add(concluded),
			)
			.max(
				T::WeightInfo::process_window_end(r)
					.saturating_add(Self::handler_weight())
					.saturating_add(Self::audit_secret_weight()),
			)
			.max(Self::prune_weight())
			.saturating_add(T::DbWeight::get().reads(2))
	}

	/// The most the deadline hook weighs for `count` transitions taken from the queue, each the
	/// costliest, after looking at `blocks` blocks of it. What it charges is what its
	/// transitions did, and never more than [`Config::MaxDeadlineWeight`].
	pub fn hook_weight(count: u32, blocks: u32) -> Weight {
		Self::hook_weights().most(count, blocks)
	}

	/// What the deadline hook weighs: its idle run and its costliest transition, within
	/// [`Config::MaxDeadlineWeight`].
	fn hook_weights() -> HookWeights {
		HookWeights {
			idle: T::WeightInfo::on_initialize_idle(),
			transition: Self::transition_weight(),
			limit: T::MaxDeadlineWeight::get(),
			db: T::DbWeight::get(),
		}
	}

	/// The weight `commit` declares: its benchmark (the last of the most executors of a task
	/// commits, which starts the reveal phase) and, for a batch, its executor's record read and
	/// written to release the blocks of work it counted (a single task's commit is refunded
	/// those).
	pub fn commit_weight() -> Weight {
		T::WeightInfo::commit().saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// The weight `advance` declares: finalising a revealed task, or the costliest transition,
	/// with the record read and the queue entry removed.
	pub fn advance_weight() -> Weight {
		T::WeightInfo::finalize()
			.max(Self::transition_weight())
			.saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}

	/// Checks the generation parameters of a task with `commit_period`.
	fn check_params(params: &TaskParams, commit_period: BlockNumberFor<T>) -> DispatchResult {
		ensure!(
			params.max_tokens > 0 && params.temperature_milli <= 2000,
			Error::<T>::InvalidParams
		);
		ensure!(params.max_tokens <= T::MaxTokens::get(), Error::<T>::TooManyTokens);
		let budget: u64 = commit_period
			.saturated_into::<u64>()
			.saturating_mul(T::TokensPerBlock::get().into());
		ensure!(u64::from(params.max_tokens) <= budget, Error::<T>::CommitPeriodTooShort);
		ensure!(params.temperature_milli == 0, Error::<T>::TemperatureNotZero);
		Ok(())
	}

	/// The input, bounded and checked: inline text must be UTF-8; a reference needs an http(s)
	/// URI, the only kind an executor fetches.
	fn bounded_input(input: TaskInput<Vec<u8>>) -> Result<TaskInputOf<T>, DispatchError> {
		Ok(match input {
			TaskInput::Inline(bytes) => {
				ensure!(core::str::from_utf8(&bytes).is_ok(), Error::<T>::InputNotText);
				TaskInput::Inline(bytes.try_into().map_err(|_| Error::<T>::InputTooLong)?)
			},
			TaskInput::Reference { hash, uri } => {
				Self::check_uri(&uri)?;
				TaskInput::Reference {
					hash,
					uri: uri.try_into().map_err(|_| Error::<T>::InputTooLong)?,
				}
			},
			TaskInput::Batch { root, uri, items, audit_commitment } => {
				Self::check_uri(&uri)?;
				ensure!(uri.len() <= T::MaxUriLen::get() as usize, Error::<T>::UriTooLong);
				let uri = uri.try_into().map_err(|_| Error::<T>::UriTooLong)?;
				TaskInput::Batch { root, uri, items, audit_commitment }
			},
		})
	}

	/// An input URI (or a batch's outputs URI) must be an `http://` or `https://` URL, the only
	/// kind an executor fetches.
	fn check_uri(uri: &[u8]) -> DispatchResult {
		let text = core::str::from_utf8(uri).map_err(|_| Error::<T>::InvalidInputUri)?;
		let rest = text
			.strip_prefix("https://")
			.or_else(|| text.strip_prefix("http://"))
			.ok_or(Error::<T>::InvalidInputUri)?;
		ensure!(
			!rest.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control()),
			Error::<T>::InvalidInputUri
		);
		Ok(())
	}

	/// The accounts never drawn for a task of `requester`: itself, and the agent it owns or
	/// whose operator key it is.
	fn requester_and_its_agent(requester: &T::AccountId) -> Vec<T::AccountId> {
		let mut exclude = alloc::vec![requester.clone()];
		if let Some(agent) = T::AgentRegistry::agent_of(requester) {
			exclude.push(agent);
		}
		exclude
	}

	/// The task as a dispute handler sees it.
	fn disputed_view(id: TaskId, task: &TaskInfo<T>) -> DisputedTask<T::AccountId, BalanceOf<T>> {
		// The items of a batch recorded against any root that is the result, each once.
		let result_roots_items = |items_of: &dyn Fn(&T::AccountId) -> Vec<u32>| -> Vec<u32> {
			task.assignments
				.iter()
				.filter(|a| Self::answers_for_result(id, task, a))
				.flat_map(|a| items_of(&a.executor))
				.collect::<BTreeSet<u32>>()
				.into_iter()
				.collect()
		};
		DisputedTask {
			requester: task.requester.clone(),
			model: task.model,
			mode: task.params.mode,
			fee: task.fee,
			share: Self::share(task),
			revealed: task
				.assignments
				.iter()
				.filter_map(|a| match (a.output, &task.input, task.result) {
					(None, ..) => None,
					(Some(output), ..) if output == INPUT_UNAVAILABLE => None,
					// A batch with a result: its item disputes accuse every root that answers
					// for it, a root reconciled with it as the result itself (the two agree on
					// every item no disagreement judged, and no item dispute is over one it
					// judged). A root that lost a disagreement is out of the batch: neither
					// accused nor delivered.
					(Some(_), TaskInput::Batch { .. }, Some(result)) => {
						Self::answers_for_result(id, task, a).then(|| (a.executor.clone(), result))
					},
					(Some(output), ..) => Some((a.executor.clone(), output)),
				})
				.collect(),
			input_is_reference: !matches!(task.input, TaskInput::Inline(_)),
			result: task.result,
			batch: match task.input {
				TaskInput::Batch { root, items, .. } => Some(BatchItems {
					items,
					inputs_root: root,
					found_wrong: result_roots_items(&|executor| {
						WrongItems::<T>::get(id, executor).into_inner()
					}),
					refused: result_roots_items(&|executor| {
						RefusedItems::<T>::get(id, executor).into_inner()
					}),
					disagreed: DisagreedItems::<T>::get(id).into_inner(),
				}),
				_ => None,
			},
		}
	}

	/// Whether `assignment`'s executor answers for `task`'s result: it revealed the result, or,
	/// in a batch, the root reconciled with it ([`ReconciledRoots`]): a disagreement between two
	/// roots of a batch that judged every item they differ on keeps both in the batch, each
	/// paid for the items it was not found wrong on.
	pub(crate) fn answers_for_result(
		id: TaskId,
		task: &TaskInfo<T>,
		assignment: &Assignment<T>,
	) -> bool {
		match (assignment.output, task.result) {
			(Some(output), Some(result)) if output == result => true,
			(Some(output), Some(_)) => {
				matches!(task.input, TaskInput::Batch { .. })
					&& ReconciledRoots::<T>::get(id) == Some(output)
			},
			_ => false,
		}
	}

	/// Moves a task into dispute until the dispute timeout.
	fn start_dispute(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		let timeout = Queue::<T>::schedule(&id, now.saturating_add(T::DisputeTimeout::get()));
		task.status = TaskStatus::Disputed;
		task.phase_ends = timeout;
		Self::deposit_event(Event::TaskDisputed { task: id, timeout });
	}

	/// For a call signed by an assigned executor (or its operator key) during `phase`, before
	/// the phase's deadline: the task, the executor's agent account, its assignment's position,
	/// and the current block.
	fn executor_in_phase(
		origin: OriginFor<T>,
		task: TaskId,
		phase: TaskStatus,
	) -> Result<(TaskInfo<T>, T::AccountId, usize, BlockNumberFor<T>), DispatchError> {
		let signer = ensure_signed(origin)?;
		let record = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		let executor = T::AgentRegistry::agent_of(&signer).ok_or(Error::<T>::NotAssigned)?;
		let index = record
			.assignments
			.iter()
			.position(|a| a.executor == executor)
			.ok_or(Error::<T>::NotAssigned)?;
		ensure!(record.status == phase, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < record.phase_ends, Error::<T>::DeadlinePassed);
		Ok((record, executor, index, now))
	}

	/// `reveal_audit_secret(task, secret)` as a duty: see [`Self::duty_of`].
	fn audit_secret_duty(
		task: TaskId,
		secret: &H256,
	) -> Result<Duty<BlockNumberFor<T>>, DutyError> {
		let record = Tasks::<T>::get(task).ok_or(DutyError::NotAssigned)?;
		let TaskInput::Batch { audit_commitment, .. } = record.input else {
			return Err(DutyError::NotAssigned);
		};
		ensure!(!AuditSecrets::<T>::contains_key(task), DutyError::AlreadyDone);
		ensure!(
			record.status == TaskStatus::Revealed && AwaitedAuditSecrets::<T>::contains_key(task),
			DutyError::WrongPhase
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < record.phase_ends, DutyError::DeadlinePassed);
		ensure!(hash_of(secret.as_bytes()) == audit_commitment, DutyError::Invalid);
		Ok(Duty {
			tag: duty_tag(b"inference/audit-secret", task),
			last_block: record.phase_ends.saturating_sub(One::one()),
		})
	}

	/// Whether `call`, signed by `signer`, is an executor's duty: a `commit` or `reveal` of a
	/// task it is assigned to (itself or as its agent's operator key), in the task's phase, not
	/// done yet, before the deadline; or the reveal of a batch's audit secret while it is
	/// awaited, by anyone, with the secret committed to. `None` for every other call. The
	/// runtime's transaction extension gives duties priority, and refuses those calls when
	/// they are none.
	pub fn duty_of(signer: &T::AccountId, call: &Call<T>) -> DutyCheck<BlockNumberFor<T>> {
		let (task, phase, kind) = match call {
			Call::commit { task, .. } => (*task, TaskStatus::Assigned, 0u8),
			Call::reveal { task, .. } => (*task, TaskStatus::Committed, 1u8),
			// Anyone's, for whoever knows the secret: one a batch, and only one dispatch
			// takes. Refused before the pool when dispatch would refuse it: a secret sent
			// before the window's end is then never published in a block (nor passed on by
			// this node), where the executors and an author could still use it.
			Call::reveal_audit_secret { task, secret } => {
				return Some(Self::audit_secret_duty(*task, secret));
			},
			_ => return None,
		};
		Some((|| {
			let record = Tasks::<T>::get(task).ok_or(DutyError::NotAssigned)?;
			let executor = T::AgentRegistry::agent_of(signer).ok_or(DutyError::NotAssigned)?;
			let assignment = record
				.assignments
				.iter()
				.find(|a| a.executor == executor)
				.ok_or(DutyError::NotAssigned)?;
			let done = match kind {
				0 => assignment.commitment.is_some(),
				_ => assignment.output.is_some(),
			};
			ensure!(!done, DutyError::AlreadyDone);
			ensure!(record.status == phase, DutyError::WrongPhase);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < record.phase_ends, DutyError::DeadlinePassed);
			Ok(Duty {
				tag: duty_tag(b"inference", (task, record.reassignments, kind, executor)),
				last_block: record.phase_ends.saturating_sub(One::one()),
			})
		})())
	}
}
