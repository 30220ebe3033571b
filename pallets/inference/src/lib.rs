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
//! submit_task ──► Assigned ──(all commit)──► Committed ──(all reveal)──► Revealed ──(window)──► Finalised
//!                    │  ▲                       │                          │
//!      commit deadline│  │reassign              │reveal deadline           │ outputs differ
//!                    ▼  │                       ▼                          ▼
//!                 (none committed) ─► Expired  (none revealed) ─► Expired  Disputed ─(timeout)─► Expired
//! ```
//!
//! 1. [`submit_task`](Pallet::submit_task): the requester names a model, an input (inline and
//!    bounded, or a content hash and a URI), generation parameters, a verification mode, a fee
//!    (held in escrow), a redundancy (the number of executors) and a commit period. The pallet
//!    draws `redundancy` distinct executors serving the model, weighted by stake, through the
//!    agent registry ([`Config::Agents`]).
//! 2. [`commit`](Pallet::commit): each executor (its owner account or its operator key) commits
//!    to `blake2_256(output_hash ‖ salt ‖ executor)` before the commit deadline. Binding the
//!    commitment to the executor's account stops one executor from copying another's.
//! 3. [`reveal`](Pallet::reveal): once every executor committed (or the commit deadline passed),
//!    executors reveal the output hash and salt, with the output inline or a URI.
//! 4. With several executors in exact-match mode, different output hashes make the task
//!    [`TaskStatus::Disputed`] and hand it to [`Config::Disputes`]. Otherwise the result stands
//!    for a challenge window of [`Config::ChallengePeriod`] blocks.
//! 5. After the window the escrow pays each executor its share of the fee minus
//!    [`Config::ProtocolCut`], which goes to the protocol account (it funds audits and data
//!    rewards); reputation is recorded through the registry.
//! 6. Executors that miss a deadline are slashed [`Config::MissedDeadlineSlash`], paid to the
//!    protocol account (never to the requester, who could otherwise profit from tasks designed
//!    to fail). When no executor delivers, the task is reassigned (up to
//!    [`Config::MaxReassignments`] times) or expires with its fee refunded.
//!
//! ## Deadlines and bounded work
//!
//! Every task sits in exactly one block-indexed queue ([`Deadlines`]): the block where its
//! current phase ends (or, once finished, where it is pruned). `on_initialize` processes that
//! block's queue, which holds at most [`Config::MaxDeadlinesPerBlock`] tasks, so the hook's work
//! is bounded whatever the number of open tasks. A task whose deadline passed without being
//! processed can be moved on by anyone with [`finalize`](Pallet::finalize). Finished tasks are
//! pruned after [`Config::RetentionPeriod`].
//!
//! ## Randomness
//!
//! Executors are drawn from [`Config::Randomness`]. On AgentChain, a solo chain without VRF-based
//! block production, it is derived from the parent block hash: the block author can predict it
//! and, by withholding a block, bias it once per slot it owns. Selection is weighted by stake and
//! candidates are bounded per model, which limits what such a bias buys; challenges and audits
//! catch bad results whoever executes them.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
pub mod types;
mod views;
pub mod weights;

pub use agentchain_primitives::{
	agents::{AgentRegistry, Outcome, Role},
	inference::{
		DisputeHandler, DisputedTask, InferenceTasks, OnTaskFinalised, TaskId, VerificationMode,
	},
	ModelId,
};
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Randomness,
	},
	PalletId,
};
use frame_system::pallet_prelude::*;
use sp_core::H256;
use sp_runtime::{
	traits::{AccountIdConversion, Saturating, Zero},
	Perbill, SaturatedConversion,
};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::inference";

/// How many consecutive blocks are tried when a deadline's block queue is full.
pub const SCHEDULE_SEARCH: u32 = 16;

/// The balance type of the currency fees are paid in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// blake2-256 of some bytes: how outputs and referenced inputs are hashed.
pub(crate) fn hash_of(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

/// `blake2_256(output_hash ‖ salt ‖ executor)`: what an executor commits to.
pub fn commitment_of<AccountId: Encode>(
	output_hash: &H256,
	salt: &[u8; 32],
	executor: &AccountId,
) -> H256 {
	H256(sp_io::hashing::blake2_256(&(output_hash, salt, executor).encode()))
}

/// Sets up what the benchmarks need outside this pallet.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` an active executor serving `model`.
	fn register_executor(who: &AccountId, model: ModelId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Reasons for which this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A task's fee, held from the requester until it is paid out or refunded.
		#[codec(index = 0)]
		TaskEscrow,
	}

	#[pallet::config]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The crypto of operator keys (key type `agnt`), which agent nodes' off-chain workers
		/// sign `commit` and `reveal` with.
		type OperatorCrypto: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// The currency fees are paid in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The agent registry: executors, their stake, selection, slashing and reputation.
		type Agents: AgentRegistry<Self::AccountId, BalanceOf<Self>>;

		/// Takes over tasks whose executors disagree, and picks the results that are audited.
		type Disputes: DisputeHandler<Self::AccountId, BalanceOf<Self>>;

		/// Told of every finalised task and the protocol cut it paid (data rewards).
		type OnFinalised: OnTaskFinalised<Self::AccountId, BalanceOf<Self>>;

		/// Source of the seed that executors are drawn with.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Identifier of the protocol account, which receives the protocol cut.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Smallest fee per executor.
		#[pallet::constant]
		type MinFeePerExecutor: Get<BalanceOf<Self>>;

		/// Most executors per task.
		#[pallet::constant]
		type MaxRedundancy: Get<u32>;

		/// Shortest commit period a requester may give.
		#[pallet::constant]
		type MinCommitPeriod: Get<BlockNumberFor<Self>>;

		/// Longest commit period a requester may give.
		#[pallet::constant]
		type MaxCommitPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks that executors have to reveal once the commit phase is over.
		#[pallet::constant]
		type RevealPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks during which a revealed result may be challenged.
		#[pallet::constant]
		type ChallengePeriod: Get<BlockNumberFor<Self>>;

		/// Blocks after which an unresolved dispute expires (fee refunded).
		#[pallet::constant]
		type DisputeTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks a finished task is kept before it is pruned.
		#[pallet::constant]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;

		/// Share of each executor's fee that goes to the protocol account.
		#[pallet::constant]
		type ProtocolCut: Get<Perbill>;

		/// Stake taken from an executor that misses a deadline, given to the protocol account.
		#[pallet::constant]
		type MissedDeadlineSlash: Get<BalanceOf<Self>>;

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

		/// Most tasks whose deadline falls in one block: the bound on `on_initialize`'s work.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;

		/// Sets up executors for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
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
	/// block.
	///
	/// Twox64Concat: block numbers are not user-controlled.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<TaskId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

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
			let account = Pallet::<T>::protocol_account();
			if !frame_system::Pallet::<T>::account_exists(&account) {
				let _ = frame_system::Pallet::<T>::inc_providers(&account);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A task was submitted and its fee put in escrow.
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
		/// No executor delivered: the task was assigned to new executors.
		TaskReassigned { task: TaskId, executors: Vec<T::AccountId> },
		/// The task ended without a result; `refunded` went back to the requester.
		TaskExpired { task: TaskId, refunded: BalanceOf<T> },
		/// A finished task was removed from state.
		TaskPruned { task: TaskId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Redundancy must be between 1 and [`Config::MaxRedundancy`].
		InvalidRedundancy,
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
		/// The output URI is longer than [`Config::MaxUriLen`].
		UriTooLong,
		/// A reveal must carry the output inline, a URI, or both.
		NoOutput,
		/// The requester's free balance cannot cover the fee and stay alive.
		InsufficientBalance,
		/// Not enough active executors serve the model for the redundancy asked.
		NoExecutors,
		/// The deadline queues are full for the next blocks; try again shortly.
		SchedulerFull,
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
		/// In jury mode the output must be revealed inline, for jurors to judge it.
		InlineOutputRequired,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now);
			if due.is_empty() {
				return T::WeightInfo::on_initialize_idle();
			}
			let count = due.len() as u32;
			for task in due {
				Self::process_deadline(task, now);
			}
			T::WeightInfo::on_initialize(count)
				.saturating_add(Self::handler_weight().saturating_mul(count.into()))
		}

		/// On agent nodes: executes the tasks assigned to the node's operator keys (see
		/// [`offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_executor(now);
		}

		fn integrity_test() {
			assert!(T::MaxRedundancy::get() > 0, "MaxRedundancy must be positive");
			assert!(T::MaxDeadlinesPerBlock::get() > 0, "MaxDeadlinesPerBlock must be positive");
			assert!(!T::MinCommitPeriod::get().is_zero(), "MinCommitPeriod must be positive");
			assert!(
				T::MinCommitPeriod::get() <= T::MaxCommitPeriod::get(),
				"MinCommitPeriod must not exceed MaxCommitPeriod"
			);
			assert!(!T::RevealPeriod::get().is_zero(), "RevealPeriod must be positive");
			assert!(!T::ChallengePeriod::get().is_zero(), "ChallengePeriod must be positive");
			assert!(!T::DisputeTimeout::get().is_zero(), "DisputeTimeout must be positive");
			assert!(!T::RetentionPeriod::get().is_zero(), "RetentionPeriod must be positive");
			assert!(!T::MinFeePerExecutor::get().is_zero(), "MinFeePerExecutor must be positive");
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
		/// escrow.
		///
		/// - `model`: the model to run; at least `redundancy` active executors must serve it.
		/// - `input`: the prompt inline (at most [`Config::MaxInputLen`] bytes), or its hash and
		///   a URI.
		/// - `params`: `max_tokens` (> 0), `temperature_milli` (≤ 2000), `seed`, and the
		///   verification mode.
		/// - `fee`: at least [`Config::MinFeePerExecutor`] × `redundancy`; split evenly between
		///   the executors that deliver.
		/// - `redundancy`: how many executors, 1..=[`Config::MaxRedundancy`].
		/// - `commit_period`: blocks the executors have to commit to a result.
		///
		/// Executors are drawn at once, weighted by stake.
		///
		/// Errors: `InvalidRedundancy`, `FeeTooLow`, `InvalidCommitPeriod`, `InvalidParams`,
		/// `InputTooLong`, `InsufficientBalance`, `NoExecutors`, `SchedulerFull`.
		///
		/// Emits `TaskSubmitted` and `TaskAssigned`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_task(
			*redundancy,
			match input {
				TaskInputOf::Inline(bytes) => bytes.len(),
				TaskInputOf::Reference { uri, .. } => uri.len(),
			}.saturated_into(),
		))]
		pub fn submit_task(
			origin: OriginFor<T>,
			model: ModelId,
			input: TaskInputOf<Vec<u8>>,
			params: TaskParams,
			fee: BalanceOf<T>,
			redundancy: u32,
			commit_period: BlockNumberFor<T>,
		) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			ensure!(
				redundancy > 0 && redundancy <= T::MaxRedundancy::get(),
				Error::<T>::InvalidRedundancy
			);
			ensure!(
				fee >= T::MinFeePerExecutor::get().saturating_mul(redundancy.into()),
				Error::<T>::FeeTooLow
			);
			ensure!(
				commit_period >= T::MinCommitPeriod::get()
					&& commit_period <= T::MaxCommitPeriod::get(),
				Error::<T>::InvalidCommitPeriod
			);
			ensure!(
				params.max_tokens > 0 && params.temperature_milli <= 2000,
				Error::<T>::InvalidParams
			);
			let input = match input {
				TaskInputOf::Inline(bytes) => {
					TaskInputOf::Inline(bytes.try_into().map_err(|_| Error::<T>::InputTooLong)?)
				},
				TaskInputOf::Reference { hash, uri } => TaskInputOf::Reference {
					hash,
					uri: uri.try_into().map_err(|_| Error::<T>::InputTooLong)?,
				},
			};

			let spendable = T::Currency::reducible_balance(
				&requester,
				Preservation::Preserve,
				Fortitude::Polite,
			);
			ensure!(spendable >= fee, Error::<T>::InsufficientBalance);
			T::Currency::hold(&HoldReason::TaskEscrow.into(), &requester, fee)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let id = NextTaskId::<T>::get();
			NextTaskId::<T>::put(id.saturating_add(1));
			let now = frame_system::Pallet::<T>::block_number();
			let mut task = TaskInfo::<T> {
				requester: requester.clone(),
				model,
				input,
				params,
				fee,
				escrow: fee,
				redundancy,
				commit_period,
				status: TaskStatus::Assigned,
				phase_ends: now,
				assignments: Default::default(),
				reassignments: 0,
				result: None,
				submitted_at: now,
			};
			Self::deposit_event(Event::TaskSubmitted {
				task: id,
				requester,
				model,
				fee,
				redundancy,
			});
			Self::assign(id, &mut task, &[], now)?;
			Tasks::<T>::insert(id, task);
			Ok(())
		}

		/// Commit to a result of a task: `commitment = blake2_256(output_hash ‖ salt ‖
		/// executor)`, where `executor` is the agent's (owner) account.
		///
		/// The origin must be signed by an assigned executor, or by its operator key, before the
		/// commit deadline. When the last executor commits, the reveal phase starts at once.
		///
		/// Errors: `UnknownTask`, `NotAssigned`, `WrongPhase`, `DeadlinePassed`,
		/// `AlreadyCommitted`, `SchedulerFull`.
		///
		/// Emits `ResultCommitted`, and `RevealPhaseStarted` after the last commitment.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::commit())]
		pub fn commit(origin: OriginFor<T>, task: TaskId, commitment: H256) -> DispatchResult {
			let (mut record, executor, index, now) =
				Self::executor_in_phase(origin, task, TaskStatus::Assigned)?;
			let assignment = record.assignments.get_mut(index).ok_or(Error::<T>::NotAssigned)?;
			ensure!(assignment.commitment.is_none(), Error::<T>::AlreadyCommitted);
			assignment.commitment = Some(commitment);
			Self::deposit_event(Event::ResultCommitted { task, executor });

			if record.assignments.iter().all(|a| a.commitment.is_some()) {
				// The reveal phase starts at once, if its deadline's queue has room; otherwise
				// the commitment stands and the hook starts it at the commit deadline.
				let commit_deadline = record.phase_ends;
				Self::unschedule(task, commit_deadline);
				if Self::start_reveal_phase(task, &mut record, now).is_err() {
					Self::requeue(task, commit_deadline);
				}
			}
			Tasks::<T>::insert(task, record);
			Ok(())
		}

		/// Reveal a committed result: the output hash, the salt, and the output inline (at most
		/// [`Config::MaxOutputLen`] bytes, hashing to `output_hash`) and/or a URI.
		///
		/// The origin must be signed by an executor that committed, or by its operator key,
		/// during the reveal phase. When the last committed executor reveals, the results are
		/// compared at once.
		///
		/// Errors: `UnknownTask`, `NotAssigned`, `WrongPhase`, `DeadlinePassed`, `NotCommitted`,
		/// `AlreadyRevealed`, `CommitmentMismatch`, `NoOutput`, `InvalidOutputHash`,
		/// `InlineOutputRequired`, `OutputTooLong`, `OutputHashMismatch`, `UriTooLong`,
		/// `SchedulerFull`.
		///
		/// Emits `ResultRevealed`, then `TaskRevealed` or `TaskDisputed` after the last reveal.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reveal(
			output.as_ref().map_or(0, |o| o.len()).saturated_into(),
		).saturating_add(T::Disputes::max_weight()))]
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
			let jury_mode = record.params.mode == VerificationMode::Jury;
			let assignment = record.assignments.get_mut(index).ok_or(Error::<T>::NotAssigned)?;
			let commitment = assignment.commitment.ok_or(Error::<T>::NotCommitted)?;
			ensure!(assignment.output.is_none(), Error::<T>::AlreadyRevealed);
			ensure!(
				commitment_of(&output_hash, &salt, &executor) == commitment,
				Error::<T>::CommitmentMismatch
			);
			ensure!(output.is_some() || uri.is_some(), Error::<T>::NoOutput);
			// The zero hash is a juror's "not acceptable" vote: no output may take it.
			ensure!(!output_hash.is_zero(), Error::<T>::InvalidOutputHash);
			// In jury mode jurors judge the output itself, so it must be on chain.
			ensure!(output.is_some() || !jury_mode, Error::<T>::InlineOutputRequired);
			let inline: Option<BoundedVec<u8, T::MaxOutputLen>> = output
				.map(|bytes| bytes.try_into().map_err(|_| Error::<T>::OutputTooLong))
				.transpose()?;
			if let Some(bytes) = &inline {
				ensure!(hash_of(bytes) == output_hash, Error::<T>::OutputHashMismatch);
			}
			let uri: Option<BoundedVec<u8, T::MaxUriLen>> = uri
				.map(|bytes| bytes.try_into().map_err(|_| Error::<T>::UriTooLong))
				.transpose()?;
			assignment.output = Some(output_hash);
			if !Outputs::<T>::contains_key(task, output_hash) {
				Outputs::<T>::insert(task, output_hash, OutputData::<T> { inline, uri });
			}
			Self::deposit_event(Event::ResultRevealed { task, executor, output_hash });

			let all_revealed =
				record.assignments.iter().all(|a| a.commitment.is_none() || a.output.is_some());
			if all_revealed {
				// Concluded at once, if the next deadline's queue has room; otherwise the reveal
				// stands and the hook concludes at the reveal deadline.
				let reveal_deadline = record.phase_ends;
				Self::unschedule(task, reveal_deadline);
				if Self::conclude_reveals(task, &mut record, now).is_err() {
					Self::requeue(task, reveal_deadline);
				}
			}
			Tasks::<T>::insert(task, record);
			Ok(())
		}

		/// Move on a task whose current phase has ended but was not processed by the per-block
		/// hook (for example after a change of the per-block bound): the same transition the
		/// hook would have made. Anyone may call it.
		///
		/// Errors: `UnknownTask`, `TooEarly` (the phase has not ended, or the hook will process
		/// it in this block's queue).
		///
		/// Emits what the transition emits (`TaskFinalised`, `TaskExpired`, `TaskPruned`, …).
		#[pallet::call_index(3)]
		// Either transition: finalising a revealed task, or the costliest one the hook makes
		// (reassigning a task nobody committed to).
		#[pallet::weight(
			T::WeightInfo::finalize()
				.max(T::WeightInfo::on_initialize(1))
				.saturating_add(Pallet::<T>::handler_weight())
		)]
		pub fn finalize(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			ensure_signed(origin)?;
			let record = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(record.phase_ends < now, Error::<T>::TooEarly);
			Self::unschedule(task, record.phase_ends);
			Self::process_deadline(task, now);
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The account that receives the protocol cut.
	pub fn protocol_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The most weight the dispute handler and the finalisation hook add to one transition (a
	/// window's end may try an audit, then finalise).
	fn handler_weight() -> Weight {
		T::Disputes::max_weight().saturating_add(T::OnFinalised::max_weight())
	}

	/// The task as a dispute handler sees it.
	fn disputed_view(task: &TaskInfo<T>) -> DisputedTask<T::AccountId, BalanceOf<T>> {
		DisputedTask {
			requester: task.requester.clone(),
			model: task.model,
			mode: task.params.mode,
			fee: task.fee,
			revealed: task
				.assignments
				.iter()
				.filter_map(|a| a.output.map(|output| (a.executor.clone(), output)))
				.collect(),
			result: task.result,
		}
	}

	/// Moves a task into dispute until the dispute timeout.
	fn start_dispute(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) -> DispatchResult {
		let timeout = Self::schedule(id, now.saturating_add(T::DisputeTimeout::get()))?;
		task.status = TaskStatus::Disputed;
		task.phase_ends = timeout;
		Self::deposit_event(Event::TaskDisputed { task: id, timeout });
		Ok(())
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
		let executor = T::Agents::agent_of(&signer).ok_or(Error::<T>::NotAssigned)?;
		let index = Self::assignment_index(&record, &executor)?;
		ensure!(record.status == phase, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < record.phase_ends, Error::<T>::DeadlinePassed);
		Ok((record, executor, index, now))
	}

	/// Position of `executor` among the task's current assignments.
	fn assignment_index(
		task: &TaskInfo<T>,
		executor: &T::AccountId,
	) -> Result<usize, DispatchError> {
		task.assignments
			.iter()
			.position(|a| &a.executor == executor)
			.ok_or_else(|| Error::<T>::NotAssigned.into())
	}

	/// The fee share of one executor.
	fn share(task: &TaskInfo<T>) -> BalanceOf<T> {
		task.fee / BalanceOf::<T>::from(task.redundancy.max(1))
	}

	/// Puts `task` in the deadline queue of the first block from `at` with room.
	fn schedule(task: TaskId, at: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = at;
		for _ in 0..SCHEDULE_SEARCH {
			// `try_mutate` writes nothing back when the queue is full.
			if Deadlines::<T>::try_mutate(block, |queue| queue.try_push(task)).is_ok() {
				return Ok(block);
			}
			block = block.saturating_add(1u32.into());
		}
		Err(Error::<T>::SchedulerFull.into())
	}

	/// Puts `task` back in the queue of `block`, which it just left: there is room.
	fn requeue(task: TaskId, block: BlockNumberFor<T>) {
		let requeued = Deadlines::<T>::mutate(block, |queue| queue.try_push(task).is_ok());
		if !requeued {
			log::error!(target: LOG_TARGET, "task {task} could not return to the queue of {block:?}");
		}
	}

	/// Takes `task` out of the deadline queue of `block`.
	fn unschedule(task: TaskId, block: BlockNumberFor<T>) {
		Deadlines::<T>::mutate_exists(block, |maybe_queue| {
			if let Some(queue) = maybe_queue {
				queue.retain(|queued| *queued != task);
				if queue.is_empty() {
					*maybe_queue = None;
				}
			}
		});
	}

	/// Draws the task's executors, excluding `exclude`, and opens a commit phase.
	fn assign(
		id: TaskId,
		task: &mut TaskInfo<T>,
		exclude: &[T::AccountId],
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let (random, _) =
			T::Randomness::random(&(b"inference/assign", id, task.reassignments).encode());
		let seed = sp_io::hashing::blake2_256(random.as_ref());
		// A requester never executes its own task, whether it asks as an agent's owner or as its
		// operator key.
		let mut exclude = exclude.to_vec();
		exclude.push(task.requester.clone());
		if let Some(agent) = T::Agents::agent_of(&task.requester) {
			exclude.push(agent);
		}
		let exclude = &exclude[..];
		let executors =
			T::Agents::select(Role::Executor, &task.model, task.redundancy, seed, exclude)
				.map_err(|_| Error::<T>::NoExecutors)?;
		let mut assignments = BoundedVec::new();
		for executor in &executors {
			T::Agents::note_work_opened(executor)?;
			AssignedTasks::<T>::insert(executor, id, ());
			assignments
				.try_push(Assignment::<T> {
					executor: executor.clone(),
					commitment: None,
					output: None,
				})
				.map_err(|_| Error::<T>::InvalidRedundancy)?;
		}
		task.assignments = assignments;
		task.status = TaskStatus::Assigned;
		task.phase_ends = Self::schedule(id, now.saturating_add(task.commit_period))?;
		Self::deposit_event(Event::TaskAssigned {
			task: id,
			executors,
			commit_deadline: task.phase_ends,
		});
		Ok(())
	}

	/// Opens the reveal phase.
	fn start_reveal_phase(
		id: TaskId,
		task: &mut TaskInfo<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let reveal_deadline = Self::schedule(id, now.saturating_add(T::RevealPeriod::get()))?;
		task.status = TaskStatus::Committed;
		task.phase_ends = reveal_deadline;
		Self::deposit_event(Event::RevealPhaseStarted {
			task: id,
			reveal_deadline: task.phase_ends,
		});
		Ok(())
	}

	/// Compares the revealed outputs: one result opens the challenge window; different results
	/// (several executors, exact-match mode) open a dispute.
	fn conclude_reveals(
		id: TaskId,
		task: &mut TaskInfo<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let revealed: Vec<(T::AccountId, H256)> = task
			.assignments
			.iter()
			.filter_map(|a| a.output.map(|output| (a.executor.clone(), output)))
			.collect();
		let Some((_, first)) = revealed.first().cloned() else {
			return Ok(());
		};
		let agree = revealed.iter().all(|(_, output)| *output == first);
		if agree || task.params.mode == VerificationMode::Jury {
			// In jury mode outputs are not expected to be identical: the first revealed one is
			// the result, and challenges judge it.
			let challenge_end = Self::schedule(id, now.saturating_add(T::ChallengePeriod::get()))?;
			task.status = TaskStatus::Revealed;
			task.result = Some(first);
			task.phase_ends = challenge_end;
			Self::deposit_event(Event::TaskRevealed {
				task: id,
				output_hash: first,
				challenge_end: task.phase_ends,
			});
		} else {
			Self::start_dispute(id, task, now)?;
			if let Err(error) = T::Disputes::on_disagreement(id, &Self::disputed_view(task)) {
				log::warn!(target: LOG_TARGET, "dispute of task {id} not taken over: {error:?}");
			}
		}
		Ok(())
	}

	/// Slashes an executor that missed a deadline and releases it from the task. The slash goes
	/// to the protocol account, not to the requester: a requester could otherwise profit from
	/// tasks designed to fail (an input nobody can fetch, a model that cannot finish in time).
	fn penalise_missed(id: TaskId, executor: &T::AccountId) {
		let protocol = Self::protocol_account();
		let slashed = T::Agents::slash(executor, T::MissedDeadlineSlash::get(), Some(&protocol));
		Self::release_executor(id, executor);
		Self::deposit_event(Event::ExecutorMissedDeadline {
			task: id,
			executor: executor.clone(),
			slashed,
		});
	}

	/// Ends an executor's part in a task.
	fn release_executor(id: TaskId, executor: &T::AccountId) {
		AssignedTasks::<T>::remove(executor, id);
		T::Agents::note_work_closed(executor);
	}

	/// Reassigns a task nobody delivered, or expires it when it cannot be reassigned.
	fn reassign_or_expire(
		id: TaskId,
		task: &mut TaskInfo<T>,
		failed: &[T::AccountId],
		now: BlockNumberFor<T>,
	) {
		if task.reassignments < T::MaxReassignments::get() {
			task.reassignments = task.reassignments.saturating_add(1);
			let attempt = frame_support::storage::with_transaction(|| {
				let mut candidate = task.clone();
				match Self::assign(id, &mut candidate, failed, now) {
					Ok(()) => frame_support::storage::TransactionOutcome::Commit(Ok(candidate)),
					Err(error) => frame_support::storage::TransactionOutcome::Rollback(Err(error)),
				}
			});
			if let Ok(reassigned) = attempt {
				*task = reassigned;
				let executors = task.assignments.iter().map(|a| a.executor.clone()).collect();
				Self::deposit_event(Event::TaskReassigned { task: id, executors });
				return;
			}
		}
		Self::expire(id, task, now);
	}

	/// Ends a task without a result: refunds the escrow and schedules pruning.
	fn expire(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		for assignment in task.assignments.iter() {
			if AssignedTasks::<T>::contains_key(&assignment.executor, id) {
				Self::release_executor(id, &assignment.executor);
			}
		}
		let refunded = Self::refund(task);
		task.status = TaskStatus::Expired;
		task.phase_ends = Self::schedule_prune(id, now);
		Self::deposit_event(Event::TaskExpired { task: id, refunded });
	}

	/// Returns the rest of the escrow to the requester.
	fn refund(task: &mut TaskInfo<T>) -> BalanceOf<T> {
		let refunded = T::Currency::release(
			&HoldReason::TaskEscrow.into(),
			&task.requester,
			task.escrow,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		task.escrow = task.escrow.saturating_sub(refunded);
		refunded
	}

	/// Pays `amount` from the task's escrow to `to`. Returns what was paid.
	fn pay(task: &mut TaskInfo<T>, to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		let paid = T::Currency::transfer_on_hold(
			&HoldReason::TaskEscrow.into(),
			&task.requester,
			to,
			amount.min(task.escrow),
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|error| {
			log::warn!(target: LOG_TARGET, "payment of {amount:?} to {to:?} failed: {error:?}");
			Zero::zero()
		});
		task.escrow = task.escrow.saturating_sub(paid);
		paid
	}

	/// Pays the executors that revealed the result, takes the protocol cut, refunds the rest.
	fn finalise(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		let Some(result) = task.result else {
			return Self::expire(id, task, now);
		};
		let share = Self::share(task);
		let cut = T::ProtocolCut::get().mul_floor(share);
		let protocol = Self::protocol_account();
		let mut paid = BalanceOf::<T>::zero();
		let mut protocol_cut = BalanceOf::<T>::zero();
		let assignments = task.assignments.clone();
		// In exact-match mode only the agreed output is paid; in jury mode every revealed output
		// counts as delivered (outputs differ naturally; challenges judge them).
		let jury = task.params.mode == VerificationMode::Jury;
		for assignment in assignments.iter() {
			let delivered =
				assignment.output == Some(result) || (jury && assignment.output.is_some());
			if delivered {
				paid = paid.saturating_add(Self::pay(
					task,
					&assignment.executor,
					share.saturating_sub(cut),
				));
				protocol_cut = protocol_cut.saturating_add(Self::pay(task, &protocol, cut));
				T::Agents::record(&assignment.executor, Outcome::Completed);
			}
			Self::release_executor(id, &assignment.executor);
		}
		let refunded = Self::refund(task);
		task.status = TaskStatus::Finalised;
		task.phase_ends = Self::schedule_prune(id, now);
		T::OnFinalised::on_task_finalised(id, &task.model, &protocol, protocol_cut);
		Self::deposit_event(Event::TaskFinalised {
			task: id,
			output_hash: result,
			paid,
			protocol_cut,
			refunded,
		});
	}

	/// Schedules the pruning of a finished task. Should every queue in the search window be
	/// full, the task stays until someone calls `finalize` on it.
	fn schedule_prune(id: TaskId, now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let at = now.saturating_add(T::RetentionPeriod::get());
		Self::schedule(id, at).unwrap_or_else(|_| {
			log::warn!(target: LOG_TARGET, "no room to schedule the pruning of task {id}");
			at
		})
	}

	/// The transition due when a task's current phase ends.
	fn process_deadline(id: TaskId, now: BlockNumberFor<T>) {
		let Some(mut task) = Tasks::<T>::get(id) else { return };
		match task.status {
			TaskStatus::Assigned => {
				let (committed, missed): (Vec<_>, Vec<_>) =
					task.assignments.iter().cloned().partition(|a| a.commitment.is_some());
				for assignment in &missed {
					Self::penalise_missed(id, &assignment.executor);
				}
				let failed: Vec<T::AccountId> = missed.into_iter().map(|a| a.executor).collect();
				task.assignments.retain(|a| a.commitment.is_some());
				if committed.is_empty() {
					Self::reassign_or_expire(id, &mut task, &failed, now);
				} else if Self::start_reveal_phase(id, &mut task, now).is_err() {
					Self::expire(id, &mut task, now);
				}
			},
			TaskStatus::Committed => {
				let (revealed, missed): (Vec<_>, Vec<_>) =
					task.assignments.iter().cloned().partition(|a| a.output.is_some());
				for assignment in &missed {
					Self::penalise_missed(id, &assignment.executor);
				}
				let failed: Vec<T::AccountId> = missed.into_iter().map(|a| a.executor).collect();
				task.assignments.retain(|a| a.output.is_some());
				if revealed.is_empty() {
					Self::reassign_or_expire(id, &mut task, &failed, now);
				} else if Self::conclude_reveals(id, &mut task, now).is_err() {
					Self::expire(id, &mut task, now);
				}
			},
			TaskStatus::Revealed => {
				// A random share of results is audited instead of finalised at once. The task
				// must be disputed before the handler opens the audit, which may resolve it.
				let view = Self::disputed_view(&task);
				let audited = frame_support::storage::with_transaction(|| {
					let mut candidate = task.clone();
					let opened = Self::start_dispute(id, &mut candidate, now).is_ok() && {
						Tasks::<T>::insert(id, &candidate);
						T::Disputes::audit(id, &view)
					};
					if opened {
						frame_support::storage::TransactionOutcome::Commit(Ok(()))
					} else {
						frame_support::storage::TransactionOutcome::Rollback(Err(
							DispatchError::Other("not audited"),
						))
					}
				});
				if audited.is_ok() {
					return;
				}
				Self::finalise(id, &mut task, now)
			},
			TaskStatus::Disputed => Self::expire(id, &mut task, now),
			TaskStatus::Finalised | TaskStatus::Expired => {
				let _ = Outputs::<T>::clear_prefix(id, T::MaxRedundancy::get(), None);
				Tasks::<T>::remove(id);
				Self::deposit_event(Event::TaskPruned { task: id });
				return;
			},
		}
		Tasks::<T>::insert(id, task);
	}

	/// Checks the pallet's invariants (used by `try_state`, and by tests after every test).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut queued: BTreeMap<TaskId, u32> = BTreeMap::new();
		for (block, queue) in Deadlines::<T>::iter() {
			ensure!(!queue.is_empty(), "an empty deadline queue is stored");
			for id in queue {
				*queued.entry(id).or_default() += 1;
				let task = Tasks::<T>::get(id).ok_or("a deadline queue points to no task")?;
				ensure!(task.phase_ends == block, "a task is queued at a block not its own");
			}
		}
		for (id, task) in Tasks::<T>::iter() {
			let queues = queued.get(&id).copied().unwrap_or_default();
			if task.status.is_finished() {
				// Pruning is scheduled when there is room; otherwise `finalize` prunes it.
				ensure!(queues <= 1, "a finished task is in several deadline queues");
			} else {
				ensure!(queues == 1, "an open task is not in exactly one deadline queue");
			}
			let held = escrow.entry(task.requester.clone()).or_default();
			*held = held.saturating_add(task.escrow);
			if task.status.is_finished() {
				ensure!(task.escrow.is_zero(), "a finished task still holds escrow");
			}
			for assignment in task.assignments.iter() {
				let open = AssignedTasks::<T>::contains_key(&assignment.executor, id);
				ensure!(
					open == !task.status.is_finished(),
					"the executor index does not match the task's assignments"
				);
			}
		}
		for (requester, total) in escrow {
			let held = T::Currency::balance_on_hold(&HoldReason::TaskEscrow.into(), &requester);
			ensure!(held == total, "escrow held differs from the tasks' escrow");
		}
		for (executor, id, ()) in AssignedTasks::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("an executor is assigned a task that is gone")?;
			ensure!(
				task.assignments.iter().any(|a| a.executor == executor),
				"an executor is indexed for a task it is not assigned to"
			);
		}
		Ok(())
	}
}

impl<T: Config> InferenceTasks<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn open_challenge(
		id: TaskId,
	) -> Result<DisputedTask<T::AccountId, BalanceOf<T>>, DispatchError> {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		ensure!(task.status == TaskStatus::Revealed, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < task.phase_ends, Error::<T>::DeadlinePassed);
		let window_end = task.phase_ends;
		Self::unschedule(id, window_end);
		if let Err(error) = Self::start_dispute(id, &mut task, now) {
			Self::requeue(id, window_end);
			return Err(error);
		}
		Tasks::<T>::insert(id, &task);
		Ok(Self::disputed_view(&task))
	}

	fn resolve(id: TaskId, verdict: Option<H256>) -> DispatchResult {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		ensure!(task.status == TaskStatus::Disputed, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		Self::unschedule(id, task.phase_ends);
		Self::deposit_event(Event::DisputeResolved { task: id, output_hash: verdict });
		let delivered =
			verdict.filter(|output| task.assignments.iter().any(|a| a.output == Some(*output)));
		match delivered {
			Some(output) => {
				task.result = Some(output);
				Self::finalise(id, &mut task, now);
			},
			None => {
				task.result = None;
				Self::expire(id, &mut task, now);
			},
		}
		Tasks::<T>::insert(id, task);
		Ok(())
	}

	fn is_disputed(id: TaskId) -> bool {
		Tasks::<T>::get(id).is_some_and(|task| task.status == TaskStatus::Disputed)
	}

	fn max_resolve_weight() -> Weight {
		T::WeightInfo::finalize().saturating_add(T::OnFinalised::max_weight())
	}

	fn revealed_output(id: TaskId, output: &H256) -> Option<Vec<u8>> {
		Outputs::<T>::get(id, output)
			.and_then(|data| data.inline)
			.map(|bytes| bytes.into_inner())
	}

	fn execute_offchain(id: TaskId, timeout_ms: u64) -> Result<Vec<u8>, alloc::string::String> {
		Self::execute_for_verification(id, timeout_ms).map_err(|fault| alloc::format!("{fault}"))
	}
}
