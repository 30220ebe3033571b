//! # Challenges pallet
//!
//! Optimistic verification of inference results: a result stands unless someone shows it is
//! wrong, and showing it costs a bond that is lost when the claim is false. Juries of staked
//! verifiers re-execute the task and vote; whoever is found wrong is slashed.
//!
//! ## Overview
//!
//! A dispute over a task of `pallet-inference` opens in one of three ways:
//!
//! - [`challenge`](Pallet::challenge): anyone bonds at least
//!   `max(MinChallengeBond, fee × ChallengeBondFeeMultiple)` against a revealed result, inside
//!   its challenge window. The task is taken out of the window: it is not finalised while judged.
//! - A **disagreement**: redundant executors revealed different outputs (exact-match mode);
//!   `pallet-inference` hands the dispute over through [`DisputeHandler::on_disagreement`].
//! - A random **audit**: when a challenge window ends unchallenged, a share
//!   [`Config::AuditProbability`] of results is judged anyway (proof of sampling), its jurors
//!   paid from the protocol account ([`Config::AuditFund`]). Executors cannot count on nobody
//!   checking.
//!
//! Each round of a dispute:
//!
//! ```text
//!  jury drawn ─► Committing ─(CommitPeriod)─► Revealing ─(RevealPeriod)─► votes counted
//!                                                                           │
//!                      appeal (larger jury, doubled bond) ◄── Appealable ◄──┤ round < MaxAppeals
//!                                                               │ (AppealPeriod, no appeal)
//!                                                               ▼           │ last round
//!                                                             closed ◄──────┘
//! ```
//!
//! 1. **Jury.** `JurySize` (odd) verifier agents serving the task's model are drawn by stake
//!    through the registry, never the requester, an executor, the challenger, an appellant or a
//!    juror of an earlier round. Round `r` has `(JurySize + 1) × 2^r − 1` jurors (3, 7, 15, …),
//!    at most [`Config::MaxJurySize`].
//! 2. **Votes.** Each juror's node re-executes the task against its own endpoint (see
//!    [`offchain`]) and commits to `blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror)`
//!    ([`commit_vote`](Pallet::commit_vote)), then reveals ([`reveal_vote`](Pallet::reveal_vote)).
//!    In exact-match mode the vote is the output hash the juror got; in jury mode it is the
//!    disputed result's hash (acceptable) or the zero hash (not acceptable). Commit–reveal keeps
//!    jurors from copying each other.
//! 3. **Count.** The verdict is the vote of a strict majority of revealed votes; without one
//!    there is no verdict. Jurors who voted with the majority are owed [`Config::JurorReward`],
//!    paid when the dispute closes if the final verdict (after any appeal) is their vote;
//!    those who did not reveal, or voted against a majority, lose [`Config::JurorPenalty`] of
//!    their stake (to the protocol account): checking pays, lazy voting does not.
//! 4. **Appeal.** While the round is appealable, the side the verdict goes against may
//!    [`appeal`](Pallet::appeal) with twice the previous bond: a new, larger jury judges again.
//!    At most [`Config::MaxAppeals`] times.
//! 5. **Close.** Executors whose accused output differs from the final verdict lose
//!    [`Config::WrongResultSlash`] of their stake and a `ChallengeLost` in their reputation;
//!    bonds backing a claim the verdict contradicts are forfeited. From what the losers forfeit,
//!    majority jurors are paid first, then the winners: the challenger when the result was
//!    wrong, otherwise the executors whose output stood. A wrong result's fee is refunded to the
//!    requester (through [`InferenceTasks::resolve`]); a right one is paid to its executors.
//!    Without a verdict, every bond is returned, nobody is slashed, and the result stands
//!    (a disagreement without a verdict is refunded).
//!
//! Every phase ends at a block: each dispute sits in exactly one block-indexed queue
//! ([`Deadlines`]) of at most [`Config::MaxDeadlinesPerBlock`] disputes, processed by
//! `on_initialize`; [`advance`](Pallet::advance) moves on one the hook left over.
//!
//! The executors' stake cannot leave while their task is disputed: the task counts as open
//! work in the registry (no deregistration) and stake that is unbonding stays slashable for
//! longer than the longest dispute (a runtime test checks the constants).

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
	inference::{DisputeHandler, DisputedTask, InferenceTasks, TaskId, VerificationMode},
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
	Perbill,
};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::challenges";

/// How many consecutive blocks are tried when a deadline's block queue is full.
pub const SCHEDULE_SEARCH: u32 = 16;

/// The balance type of the currency bonds are posted in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// `blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror)`: what a juror commits to. Binding the
/// commitment to the juror and the round stops one juror from replaying another's.
pub fn vote_commitment<AccountId: Encode>(
	task: TaskId,
	round: u32,
	vote: &H256,
	salt: &[u8; 32],
	juror: &AccountId,
) -> H256 {
	H256(sp_io::hashing::blake2_256(&(task, round, vote, salt, juror).encode()))
}

/// The vote of a juror who finds a jury-mode result not acceptable.
pub const REJECT: H256 = H256::zero();

/// Most bonds in a dispute: the challenge and one per appeal.
pub struct MaxBonds<T>(core::marker::PhantomData<T>);
impl<T: Config> Get<u32> for MaxBonds<T> {
	fn get() -> u32 {
		T::MaxAppeals::get().saturating_add(1)
	}
}

/// Most jurors over all rounds of a dispute.
pub struct MaxJurorsPerDispute<T>(core::marker::PhantomData<T>);
impl<T: Config> Get<u32> for MaxJurorsPerDispute<T> {
	fn get() -> u32 {
		T::MaxJurySize::get().saturating_mul(T::MaxAppeals::get().saturating_add(1))
	}
}

/// Sets up what the benchmarks need outside this pallet.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` an active agent in `role` serving `model`, with a large balance.
	fn register_agent(who: &AccountId, model: ModelId, role: Role);
	/// Submits a task for `model` with `redundancy` executors (already registered), has each
	/// reveal `outputs[i]`, and returns the task, revealed (`outputs` agree) or disputed.
	fn revealed_task(requester: &AccountId, model: ModelId, outputs: &[H256]) -> TaskId;
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
		/// A challenge or appeal bond, held until the dispute closes.
		#[codec(index = 0)]
		DisputeBond,
	}

	#[pallet::config]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The crypto of operator keys (key type `agnt`), which jurors' nodes sign votes with.
		type OperatorCrypto: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// The currency bonds are posted in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The agent registry: jurors, stake, slashing and reputation.
		type Agents: AgentRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The inference tasks disputes are about.
		type Tasks: InferenceTasks<Self::AccountId, BalanceOf<Self>>;

		/// Source of the seeds juries and audits are drawn with.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Identifier of this pallet's account, through which forfeited funds are paid out.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The protocol account: it pays audit jurors, and receives juror penalties and what a
		/// dispute's losers forfeit beyond what its jurors and winners are paid.
		type AuditFund: Get<Self::AccountId>;

		/// Smallest challenge bond.
		#[pallet::constant]
		type MinChallengeBond: Get<BalanceOf<Self>>;

		/// A challenge bond is at least the task's fee times this.
		#[pallet::constant]
		type ChallengeBondFeeMultiple: Get<u32>;

		/// Jurors in the first round (odd).
		#[pallet::constant]
		type JurySize: Get<u32>;

		/// Most jurors in a round (odd): the bound on appeal juries.
		#[pallet::constant]
		type MaxJurySize: Get<u32>;

		/// Most appeals of a dispute.
		#[pallet::constant]
		type MaxAppeals: Get<u32>;

		/// Most executors of a task (the inference pallet's `MaxRedundancy`).
		#[pallet::constant]
		type MaxExecutors: Get<u32>;

		/// Blocks jurors have to commit to a vote.
		#[pallet::constant]
		type CommitPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks jurors have to reveal their votes.
		#[pallet::constant]
		type RevealPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks the losing side has to appeal a verdict.
		#[pallet::constant]
		type AppealPeriod: Get<BlockNumberFor<Self>>;

		/// Stake taken from an executor whose result is found wrong.
		#[pallet::constant]
		type WrongResultSlash: Get<BalanceOf<Self>>;

		/// Paid to each juror who voted with the majority of its round.
		#[pallet::constant]
		type JurorReward: Get<BalanceOf<Self>>;

		/// Stake taken from a juror who did not reveal, or voted against the majority.
		#[pallet::constant]
		type JurorPenalty: Get<BalanceOf<Self>>;

		/// Share of unchallenged results that are audited when their window ends.
		#[pallet::constant]
		type AuditProbability: Get<Perbill>;

		/// Most disputes whose phase ends in one block: the bound on `on_initialize`'s work.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;

		/// Sets up agents and tasks for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Open disputes, by task.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type Disputes<T: Config> = StorageMap<_, Twox64Concat, TaskId, Dispute<T>, OptionQuery>;

	/// The disputes each juror sits on in the current round, so that a juror's node finds them
	/// by iterating one prefix.
	///
	/// Blake2_128Concat for the juror (user-chosen accounts); Twox64Concat for the task id.
	#[pallet::storage]
	pub type JurorDuties<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, TaskId, (), OptionQuery>;

	/// The disputes whose current phase ends at a block, processed by `on_initialize` of that
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
			// The pallet account passes forfeited funds on; it must exist to receive amounts
			// smaller than the existential deposit.
			let account = Pallet::<T>::account_id();
			if !frame_system::Pallet::<T>::account_exists(&account) {
				let _ = frame_system::Pallet::<T>::inc_providers(&account);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A dispute opened over `task`; `jurors` must commit their votes before
		/// `commit_deadline`.
		DisputeOpened {
			task: TaskId,
			kind: DisputeKind<T::AccountId>,
			bond: BalanceOf<T>,
			jurors: Vec<T::AccountId>,
			commit_deadline: BlockNumberFor<T>,
		},
		/// A juror committed to a vote.
		VoteCommitted { task: TaskId, juror: T::AccountId },
		/// The commit phase is over; jurors must reveal before `reveal_deadline`.
		VoteRevealPhaseStarted { task: TaskId, reveal_deadline: BlockNumberFor<T> },
		/// A juror revealed its vote.
		VoteRevealed { task: TaskId, juror: T::AccountId, vote: H256 },
		/// The votes of a round were counted: `verdict` had a strict majority of the `revealed`
		/// votes (`None`: no majority). Appealable until `appeal_deadline`, if set.
		VotesCounted {
			task: TaskId,
			round: u32,
			verdict: Option<H256>,
			revealed: u32,
			jurors: u32,
			appeal_deadline: Option<BlockNumberFor<T>>,
		},
		/// A juror did not reveal, or voted against the majority, and lost `slashed`.
		JurorPenalised { task: TaskId, juror: T::AccountId, slashed: BalanceOf<T> },
		/// The losing side appealed: a new round with a larger jury.
		Appealed {
			task: TaskId,
			appellant: T::AccountId,
			round: u32,
			bond: BalanceOf<T>,
			jurors: Vec<T::AccountId>,
			commit_deadline: BlockNumberFor<T>,
		},
		/// An executor's result was found wrong: it lost `slashed` of its stake.
		ExecutorSlashed { task: TaskId, executor: T::AccountId, slashed: BalanceOf<T> },
		/// A bond backed a claim the verdict contradicts and was forfeited.
		BondForfeited { task: TaskId, who: T::AccountId, amount: BalanceOf<T> },
		/// A bond was returned.
		BondReturned { task: TaskId, who: T::AccountId, amount: BalanceOf<T> },
		/// A majority juror or a winner was paid.
		RewardPaid { task: TaskId, who: T::AccountId, amount: BalanceOf<T> },
		/// The dispute closed with `verdict` (`None`: no majority). `result_overturned`: the
		/// disputed result was found wrong.
		DisputeClosed { task: TaskId, verdict: Option<H256>, result_overturned: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The task is not revealed inside its challenge window (it is unknown, still being
		/// executed, already disputed, or finished).
		NotChallengeable,
		/// The bond is below the smallest bond for this task (challenges) or this round
		/// (appeals).
		BondTooLow,
		/// The signer's free balance cannot cover the bond and stay alive.
		InsufficientBalance,
		/// An executor cannot challenge its own result.
		OwnResult,
		/// Not enough verifiers serve the task's model to draw a jury; try again later.
		NotEnoughJurors,
		/// The deadline queues are full for the next blocks; try again shortly.
		SchedulerFull,
		/// No dispute is open for this task.
		UnknownDispute,
		/// The signer is not (the operator of) a juror of the current round.
		NotJuror,
		/// The dispute is not in the phase this call belongs to.
		WrongPhase,
		/// The deadline of the current phase has passed.
		DeadlinePassed,
		/// This juror already committed.
		AlreadyCommitted,
		/// This juror did not commit, so it cannot reveal.
		NotCommitted,
		/// This juror already revealed.
		AlreadyRevealed,
		/// The vote and salt do not match the commitment.
		CommitmentMismatch,
		/// In jury mode a vote is the disputed result's hash or the zero hash.
		InvalidVote,
		/// The signer is not on the side the verdict goes against.
		NotLosingSide,
		/// The dispute has had all the appeals allowed.
		NoAppealsLeft,
		/// The dispute's current phase has not ended yet.
		TooEarly,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now);
			let mut weight = T::WeightInfo::on_initialize_idle();
			for task in due {
				weight = weight.saturating_add(Self::process_deadline(task, now));
			}
			weight
		}

		/// On agent nodes: re-executes the disputed tasks of the node's jurors and votes (see
		/// [`offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_jurors(now);
		}

		fn integrity_test() {
			let jury = T::JurySize::get();
			assert!(jury % 2 == 1, "JurySize must be odd");
			assert!(T::MaxJurySize::get() % 2 == 1, "MaxJurySize must be odd");
			assert!(jury <= T::MaxJurySize::get(), "JurySize must not exceed MaxJurySize");
			assert!(T::MaxAppeals::get() <= 8, "MaxAppeals above 8 makes bonds overflow");
			assert!(T::MaxExecutors::get() > 0, "MaxExecutors must be positive");
			assert!(T::MaxDeadlinesPerBlock::get() > 0, "MaxDeadlinesPerBlock must be positive");
			assert!(!T::CommitPeriod::get().is_zero(), "CommitPeriod must be positive");
			assert!(!T::RevealPeriod::get().is_zero(), "RevealPeriod must be positive");
			assert!(!T::AppealPeriod::get().is_zero(), "AppealPeriod must be positive");
			assert!(!T::MinChallengeBond::get().is_zero(), "MinChallengeBond must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Challenge the revealed result of a task: claim it is wrong, and bond `bond` on it.
		///
		/// The origin must be signed; any account may challenge except an executor that
		/// revealed the result. The task must be revealed, inside its challenge window, with no
		/// dispute open. `bond` must be at least
		/// `max(MinChallengeBond, fee × ChallengeBondFeeMultiple)`; it is held from the signer's
		/// free balance until the dispute closes: returned (with a reward) if the result is
		/// found wrong or no verdict is reached, forfeited otherwise.
		///
		/// A jury of `JurySize` verifiers is drawn at once; the task is not finalised while it
		/// is judged.
		///
		/// Errors: `NotChallengeable`, `BondTooLow`, `InsufficientBalance`, `OwnResult`,
		/// `NotEnoughJurors`, `SchedulerFull`.
		///
		/// Emits `DisputeOpened` (and the inference pallet's `TaskDisputed`).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::challenge())]
		pub fn challenge(origin: OriginFor<T>, task: TaskId, bond: BalanceOf<T>) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			let view = T::Tasks::open_challenge(task).map_err(|_| Error::<T>::NotChallengeable)?;
			let challenger_agent = T::Agents::agent_of(&challenger);
			let own = view.revealed.iter().any(|(executor, output)| {
				view.result == Some(*output)
					&& (executor == &challenger || challenger_agent.as_ref() == Some(executor))
			});
			ensure!(!own, Error::<T>::OwnResult);
			ensure!(bond >= Self::base_bond(view.fee), Error::<T>::BondTooLow);
			Self::hold_bond(&challenger, bond)?;
			let bonds = BoundedVec::truncate_from(alloc::vec![Bond {
				who: challenger.clone(),
				amount: bond,
				claim: Claim::ResultWrong,
			}]);
			for (executor, output) in view.revealed.iter() {
				if view.result == Some(*output) {
					T::Agents::record(executor, Outcome::Challenged);
				}
			}
			Self::open(task, view, DisputeKind::Challenge { challenger }, bonds, bond)
		}

		/// Commit to a vote on a dispute: `commitment = blake2_256(task ‖ round ‖ vote ‖ salt ‖
		/// juror)`, where `juror` is the agent's (owner) account.
		///
		/// The origin must be signed by a juror of the current round, or by its operator key,
		/// before the commit deadline.
		///
		/// Errors: `UnknownDispute`, `NotJuror`, `WrongPhase`, `DeadlinePassed`,
		/// `AlreadyCommitted`.
		///
		/// Emits `VoteCommitted`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::commit_vote())]
		pub fn commit_vote(origin: OriginFor<T>, task: TaskId, commitment: H256) -> DispatchResult {
			let (mut dispute, juror, index) =
				Self::juror_in_phase(origin, task, DisputePhase::Committing)?;
			let seat = dispute.jury.get_mut(index).ok_or(Error::<T>::NotJuror)?;
			ensure!(seat.commitment.is_none(), Error::<T>::AlreadyCommitted);
			seat.commitment = Some(commitment);
			Disputes::<T>::insert(task, dispute);
			Self::deposit_event(Event::VoteCommitted { task, juror });
			Ok(())
		}

		/// Reveal a committed vote: the vote and the salt of the commitment.
		///
		/// The origin must be signed by a juror that committed in the current round, or by its
		/// operator key, during the reveal phase. In jury mode the vote must be the disputed
		/// result's hash (acceptable) or the zero hash (not acceptable).
		///
		/// Errors: `UnknownDispute`, `NotJuror`, `WrongPhase`, `DeadlinePassed`, `NotCommitted`,
		/// `AlreadyRevealed`, `CommitmentMismatch`, `InvalidVote`.
		///
		/// Emits `VoteRevealed`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reveal_vote())]
		pub fn reveal_vote(
			origin: OriginFor<T>,
			task: TaskId,
			vote: H256,
			salt: [u8; 32],
		) -> DispatchResult {
			let (mut dispute, juror, index) =
				Self::juror_in_phase(origin, task, DisputePhase::Revealing)?;
			let round = dispute.round;
			let valid = match dispute.mode {
				VerificationMode::ExactMatch => true,
				VerificationMode::Jury => vote == REJECT || dispute.result == Some(vote),
			};
			let seat = dispute.jury.get_mut(index).ok_or(Error::<T>::NotJuror)?;
			let commitment = seat.commitment.ok_or(Error::<T>::NotCommitted)?;
			ensure!(seat.vote.is_none(), Error::<T>::AlreadyRevealed);
			ensure!(
				vote_commitment(task, round, &vote, &salt, &juror) == commitment,
				Error::<T>::CommitmentMismatch
			);
			ensure!(valid, Error::<T>::InvalidVote);
			seat.vote = Some(vote);
			Disputes::<T>::insert(task, dispute);
			Self::deposit_event(Event::VoteRevealed { task, juror, vote });
			Ok(())
		}

		/// Appeal the verdict of the last round: a new round with a larger jury judges again.
		///
		/// The origin must be signed by the side the verdict goes against: the challenger when
		/// the result stood (or no verdict was reached), or an executor (its owner account or
		/// operator key) whose accused output the verdict contradicts. Only while the round is
		/// appealable, and at most `MaxAppeals` times. `bond` must be at least the challenge
		/// bond times `2^round` (round 1, 2, …); it is held from the signer, returned if the
		/// final verdict agrees with the appellant, forfeited otherwise.
		///
		/// Errors: `UnknownDispute`, `WrongPhase`, `DeadlinePassed`, `NoAppealsLeft`,
		/// `NotLosingSide`, `BondTooLow`, `InsufficientBalance`, `NotEnoughJurors`,
		/// `SchedulerFull`.
		///
		/// Emits `Appealed`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::appeal())]
		pub fn appeal(origin: OriginFor<T>, task: TaskId, bond: BalanceOf<T>) -> DispatchResult {
			let appellant = ensure_signed(origin)?;
			let mut dispute = Disputes::<T>::get(task).ok_or(Error::<T>::UnknownDispute)?;
			ensure!(dispute.phase == DisputePhase::Appealable, Error::<T>::WrongPhase);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < dispute.phase_ends, Error::<T>::DeadlinePassed);
			ensure!(dispute.round < T::MaxAppeals::get(), Error::<T>::NoAppealsLeft);
			let claim =
				Self::losing_claim(&dispute, &appellant).ok_or(Error::<T>::NotLosingSide)?;
			let round = dispute.round.saturating_add(1);
			ensure!(bond >= Self::appeal_bond(dispute.fee, round), Error::<T>::BondTooLow);
			Self::hold_bond(&appellant, bond)?;
			dispute
				.bonds
				.try_push(Bond { who: appellant.clone(), amount: bond, claim })
				.map_err(|_| Error::<T>::NoAppealsLeft)?;
			let window_end = dispute.phase_ends;
			Self::unschedule(task, window_end);
			dispute.round = round;
			let jurors = Self::draw_jury(task, &mut dispute, Some(&appellant))?;
			dispute.phase = DisputePhase::Committing;
			dispute.phase_ends = Self::schedule(task, now.saturating_add(T::CommitPeriod::get()))?;
			Self::deposit_event(Event::Appealed {
				task,
				appellant,
				round,
				bond,
				jurors,
				commit_deadline: dispute.phase_ends,
			});
			Disputes::<T>::insert(task, dispute);
			Ok(())
		}

		/// Move on a dispute whose current phase has ended but was not processed by the
		/// per-block hook: the same transition the hook would have made. Anyone may call it.
		///
		/// Errors: `UnknownDispute`, `TooEarly`.
		///
		/// Emits what the transition emits (`VoteRevealPhaseStarted`, `VotesCounted`,
		/// `DisputeClosed`, …).
		#[pallet::call_index(4)]
		// The costliest transition: counting the last round's votes, then closing at once.
		#[pallet::weight(
			T::WeightInfo::count_votes(T::MaxJurySize::get()).saturating_add(
				Pallet::<T>::close_weight(MaxJurorsPerDispute::<T>::get(), T::MaxExecutors::get())
			)
		)]
		pub fn advance(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			ensure_signed(origin)?;
			let dispute = Disputes::<T>::get(task).ok_or(Error::<T>::UnknownDispute)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(dispute.phase_ends < now, Error::<T>::TooEarly);
			Self::unschedule(task, dispute.phase_ends);
			Self::process_deadline(task, now);
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The account forfeited funds pass through.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The smallest challenge bond for a task of fee `fee`.
	pub fn base_bond(fee: BalanceOf<T>) -> BalanceOf<T> {
		T::MinChallengeBond::get()
			.max(fee.saturating_mul(T::ChallengeBondFeeMultiple::get().into()))
	}

	/// The smallest appeal bond opening round `round` (≥ 1): the challenge bond times `2^round`.
	pub fn appeal_bond(fee: BalanceOf<T>, round: u32) -> BalanceOf<T> {
		let factor = 1u32.checked_shl(round).unwrap_or(u32::MAX);
		Self::base_bond(fee).saturating_mul(factor.into())
	}

	/// Jurors in round `round`: `(JurySize + 1) × 2^round − 1`, at most `MaxJurySize`.
	pub fn jury_size(round: u32) -> u32 {
		let factor = 1u32.checked_shl(round).unwrap_or(u32::MAX);
		T::JurySize::get()
			.saturating_add(1)
			.saturating_mul(factor)
			.saturating_sub(1)
			.min(T::MaxJurySize::get())
	}

	/// Holds a bond from `who`'s free balance, keeping the account alive.
	fn hold_bond(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let spendable =
			T::Currency::reducible_balance(who, Preservation::Preserve, Fortitude::Polite);
		ensure!(spendable >= amount, Error::<T>::InsufficientBalance);
		T::Currency::hold(&HoldReason::DisputeBond.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Opens a dispute over `task` and draws its first jury.
	fn open(
		task: TaskId,
		view: DisputedTask<T::AccountId, BalanceOf<T>>,
		kind: DisputeKind<T::AccountId>,
		bonds: BoundedVec<Bond<T::AccountId, BalanceOf<T>>, MaxBonds<T>>,
		bond: BalanceOf<T>,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let mut dispute = Dispute::<T> {
			kind: kind.clone(),
			requester: view.requester,
			model: view.model,
			mode: view.mode,
			fee: view.fee,
			revealed: BoundedVec::truncate_from(view.revealed),
			result: view.result,
			round: 0,
			phase: DisputePhase::Committing,
			phase_ends: now,
			jury: Default::default(),
			verdict: None,
			bonds,
			owed: Default::default(),
			past_jurors: Default::default(),
		};
		let jurors = Self::draw_jury(task, &mut dispute, None)?;
		dispute.phase_ends = Self::schedule(task, now.saturating_add(T::CommitPeriod::get()))?;
		Self::deposit_event(Event::DisputeOpened {
			task,
			kind,
			bond,
			jurors,
			commit_deadline: dispute.phase_ends,
		});
		Disputes::<T>::insert(task, dispute);
		Ok(())
	}

	/// Draws the jury of the dispute's current round, never a party or an earlier juror.
	fn draw_jury(
		task: TaskId,
		dispute: &mut Dispute<T>,
		appellant: Option<&T::AccountId>,
	) -> Result<Vec<T::AccountId>, DispatchError> {
		let mut exclude: Vec<T::AccountId> =
			dispute.revealed.iter().map(|(executor, _)| executor.clone()).collect();
		let mut party = |who: &T::AccountId| {
			exclude.push(who.clone());
			if let Some(agent) = T::Agents::agent_of(who) {
				exclude.push(agent);
			}
		};
		party(&dispute.requester);
		for bond in dispute.bonds.iter() {
			party(&bond.who);
		}
		if let Some(appellant) = appellant {
			party(appellant);
		}
		exclude.extend(dispute.past_jurors.iter().cloned());
		let (random, _) =
			T::Randomness::random(&(b"challenges/jury", task, dispute.round).encode());
		let seed = sp_io::hashing::blake2_256(random.as_ref());
		let jurors = T::Agents::select(
			Role::Verifier,
			&dispute.model,
			Self::jury_size(dispute.round),
			seed,
			&exclude,
		)
		.map_err(|_| Error::<T>::NotEnoughJurors)?;
		let mut jury = BoundedVec::new();
		for juror in &jurors {
			T::Agents::note_work_opened(juror)?;
			JurorDuties::<T>::insert(juror, task, ());
			jury.try_push(Seat { juror: juror.clone(), commitment: None, vote: None })
				.map_err(|_| Error::<T>::NotEnoughJurors)?;
		}
		dispute.jury = jury;
		Ok(jurors)
	}

	/// For a call signed by a juror of the current round (or its operator key) during `phase`,
	/// before the phase's deadline: the dispute, the juror's agent account and its seat.
	fn juror_in_phase(
		origin: OriginFor<T>,
		task: TaskId,
		phase: DisputePhase,
	) -> Result<(Dispute<T>, T::AccountId, usize), DispatchError> {
		let signer = ensure_signed(origin)?;
		let dispute = Disputes::<T>::get(task).ok_or(Error::<T>::UnknownDispute)?;
		let juror = T::Agents::agent_of(&signer).ok_or(Error::<T>::NotJuror)?;
		let index =
			dispute.jury.iter().position(|s| s.juror == juror).ok_or(Error::<T>::NotJuror)?;
		ensure!(dispute.phase == phase, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < dispute.phase_ends, Error::<T>::DeadlinePassed);
		Ok((dispute, juror, index))
	}

	/// The claim `who` may appeal with: it must be on the side the current verdict goes
	/// against.
	fn losing_claim(dispute: &Dispute<T>, who: &T::AccountId) -> Option<Claim> {
		if dispute.challenger() == Some(who) && !dispute.result_overturned() {
			return Some(Claim::ResultWrong);
		}
		let agent = T::Agents::agent_of(who);
		dispute
			.revealed
			.iter()
			.find(|(executor, output)| {
				let lost = match dispute.verdict {
					Some(verdict) => verdict != *output,
					// Without a verdict a challenged or audited result stands; only a
					// disagreement, which is then refunded, goes against the executors.
					None => dispute.kind == DisputeKind::Disagreement,
				};
				(executor == who || agent.as_ref() == Some(executor))
					&& dispute.accuses(output)
					&& lost
			})
			.map(|(_, output)| Claim::OutputRight(*output))
	}

	/// Puts `task` in the deadline queue of the first block from `at` with room.
	fn schedule(task: TaskId, at: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = at;
		for _ in 0..SCHEDULE_SEARCH {
			if Deadlines::<T>::try_mutate(block, |queue| queue.try_push(task)).is_ok() {
				return Ok(block);
			}
			block = block.saturating_add(1u32.into());
		}
		Err(Error::<T>::SchedulerFull.into())
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

	/// The transition due when a dispute's current phase ends; returns its weight.
	fn process_deadline(task: TaskId, now: BlockNumberFor<T>) -> Weight {
		let Some(mut dispute) = Disputes::<T>::get(task) else {
			return T::WeightInfo::on_initialize_idle();
		};
		match dispute.phase {
			DisputePhase::Committing => {
				let reveal_period = now.saturating_add(T::RevealPeriod::get());
				match Self::schedule(task, reveal_period) {
					Ok(reveal_deadline) => {
						dispute.phase = DisputePhase::Revealing;
						dispute.phase_ends = reveal_deadline;
						Self::deposit_event(Event::VoteRevealPhaseStarted {
							task,
							reveal_deadline,
						});
						Disputes::<T>::insert(task, dispute);
					},
					// No room to schedule the reveal phase: the votes so far are counted.
					Err(_) => {
						let jury = dispute.jury.len() as u32;
						return Self::count_votes(task, dispute, now, false)
							.saturating_add(T::WeightInfo::count_votes(jury));
					},
				}
				T::WeightInfo::start_reveal()
			},
			DisputePhase::Revealing => {
				let jury = dispute.jury.len() as u32;
				Self::count_votes(task, dispute, now, true)
					.saturating_add(T::WeightInfo::count_votes(jury))
			},
			DisputePhase::Appealable => {
				let (owed, executors) = (dispute.owed.len() as u32, dispute.revealed.len() as u32);
				Self::close(task, dispute);
				Self::close_weight(owed, executors)
			},
		}
	}

	/// The weight of closing a dispute, with the inference pallet's resolution.
	fn close_weight(owed: u32, executors: u32) -> Weight {
		T::WeightInfo::close(owed, executors).saturating_add(T::Tasks::max_resolve_weight())
	}

	/// Counts the votes of the current round and settles its jurors; opens the appeal window,
	/// or closes the dispute after the last round. Returns extra weight used by closing.
	///
	/// `reveal_held`: whether the round had its reveal phase. When it could not be scheduled
	/// (every queue in reach was full), jurors who committed had no chance to reveal and are
	/// not penalised.
	fn count_votes(
		task: TaskId,
		mut dispute: Dispute<T>,
		now: BlockNumberFor<T>,
		reveal_held: bool,
	) -> Weight {
		let votes: Vec<H256> = dispute.jury.iter().filter_map(|seat| seat.vote).collect();
		let revealed = votes.len() as u32;
		let majority = votes
			.iter()
			.find(|candidate| {
				let count = votes.iter().filter(|vote| vote == candidate).count() as u32;
				count.saturating_mul(2) > revealed
			})
			.copied();
		// An appeal round that reaches no majority does not overturn the verdict appealed
		// against: the appeal is lost.
		let verdict = if dispute.round == 0 { majority } else { majority.or(dispute.verdict) };
		let fund = T::AuditFund::get();
		for seat in dispute.jury.iter() {
			match (seat.vote, majority) {
				(Some(vote), Some(majority)) if vote == majority => {
					let _ = dispute.owed.try_push((seat.juror.clone(), vote));
				},
				// Without a majority, a revealed vote is not held against its juror.
				(Some(_), None) => {},
				(None, _) if !reveal_held && seat.commitment.is_some() => {},
				_ => {
					let slashed =
						T::Agents::slash(&seat.juror, T::JurorPenalty::get(), Some(&fund));
					Self::deposit_event(Event::JurorPenalised {
						task,
						juror: seat.juror.clone(),
						slashed,
					});
				},
			}
			JurorDuties::<T>::remove(&seat.juror, task);
			T::Agents::note_work_closed(&seat.juror);
			let _ = dispute.past_jurors.try_push(seat.juror.clone());
		}
		let jurors = dispute.jury.len() as u32;
		dispute.jury = Default::default();
		dispute.verdict = verdict;
		let appeal_deadline = if dispute.round < T::MaxAppeals::get() {
			Self::schedule(task, now.saturating_add(T::AppealPeriod::get())).ok()
		} else {
			None
		};
		Self::deposit_event(Event::VotesCounted {
			task,
			round: dispute.round,
			verdict,
			revealed,
			jurors,
			appeal_deadline,
		});
		match appeal_deadline {
			Some(deadline) => {
				dispute.phase = DisputePhase::Appealable;
				dispute.phase_ends = deadline;
				Disputes::<T>::insert(task, dispute);
				Weight::zero()
			},
			None => {
				let (owed, executors) = (dispute.owed.len() as u32, dispute.revealed.len() as u32);
				Self::close(task, dispute);
				Self::close_weight(owed, executors)
			},
		}
	}

	/// Pays `amount` from this pallet's account to `to`; returns what was paid.
	fn pay_out(to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		match T::Currency::transfer(&Self::account_id(), to, amount, Preservation::Expendable) {
			Ok(_) => amount,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "payment of {amount:?} to {to:?} failed: {error:?}");
				Zero::zero()
			},
		}
	}

	/// Enacts the final verdict: slashes, bonds, rewards, and the task's payment or refund.
	fn close(task: TaskId, dispute: Dispute<T>) {
		Disputes::<T>::remove(task);
		let pot = Self::account_id();
		let fund = T::AuditFund::get();
		let verdict = dispute.verdict;
		let overturned = dispute.result_overturned();
		// What the losers forfeit, gathered in this pallet's account.
		let mut pool = BalanceOf::<T>::zero();
		let mut winners: Vec<T::AccountId> = Vec::new();
		// What slashes really brought in: a slash whose transfer fails is burned instead.
		let pot_before = T::Currency::balance(&pot);

		for (executor, output) in dispute.revealed.iter() {
			match verdict {
				Some(correct) if dispute.accuses(output) && *output != correct => {
					let slashed =
						T::Agents::slash(executor, T::WrongResultSlash::get(), Some(&pot));
					T::Agents::record(executor, Outcome::ChallengeLost);
					Self::deposit_event(Event::ExecutorSlashed {
						task,
						executor: executor.clone(),
						slashed,
					});
				},
				Some(correct) if *output == correct => {
					if dispute.kind == DisputeKind::Audit {
						T::Agents::record(executor, Outcome::AuditPassed);
					}
					winners.push(executor.clone());
				},
				_ => {},
			}
		}
		pool = pool.saturating_add(T::Currency::balance(&pot).saturating_sub(pot_before));
		if overturned {
			if let Some(challenger) = dispute.challenger() {
				winners = alloc::vec![challenger.clone()];
			}
		}

		for bond in dispute.bonds.iter() {
			let won = match (verdict, bond.claim) {
				(None, _) => true,
				(Some(_), Claim::ResultWrong) => overturned,
				(Some(correct), Claim::OutputRight(output)) => correct == output,
			};
			let reason = HoldReason::DisputeBond.into();
			if won {
				let returned =
					T::Currency::release(&reason, &bond.who, bond.amount, Precision::BestEffort)
						.unwrap_or_else(|_| Zero::zero());
				Self::deposit_event(Event::BondReturned {
					task,
					who: bond.who.clone(),
					amount: returned,
				});
			} else {
				let forfeited = T::Currency::transfer_on_hold(
					&reason,
					&bond.who,
					&pot,
					bond.amount,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)
				.unwrap_or_else(|_| Zero::zero());
				pool = pool.saturating_add(forfeited);
				Self::deposit_event(Event::BondForfeited {
					task,
					who: bond.who.clone(),
					amount: forfeited,
				});
			}
		}

		// Majority jurors whose vote is the final verdict first: from the pool, topped up by the
		// protocol account (all of it for an audit that found nothing wrong). A juror whose
		// round was overturned on appeal is not paid (nor penalised).
		let paid_jurors: Vec<&T::AccountId> = dispute
			.owed
			.iter()
			.filter(|(_, vote)| Some(*vote) == verdict)
			.map(|(juror, _)| juror)
			.collect();
		// What the protocol account adds to an audit's pool is capped at the task's fee, so that
		// audits cost it less in expectation (`AuditProbability` × fee) than the protocol cut it
		// takes: serving a private model to one's own jurors cannot drain it.
		let mut fund_budget = if dispute.kind == DisputeKind::Audit {
			dispute.fee
		} else {
			<BalanceOf<T> as sp_runtime::traits::Bounded>::max_value()
		};
		for juror in paid_jurors {
			let reward = T::JurorReward::get();
			let from_pool = Self::pay_out(juror, reward.min(pool));
			pool = pool.saturating_sub(from_pool);
			let short = reward.saturating_sub(from_pool).min(fund_budget);
			let from_fund = if short.is_zero() {
				Zero::zero()
			} else {
				T::Currency::transfer(&fund, juror, short, Preservation::Preserve)
					.unwrap_or_else(|_| Zero::zero())
			};
			fund_budget = fund_budget.saturating_sub(from_fund);
			Self::deposit_event(Event::RewardPaid {
				task,
				who: juror.clone(),
				amount: from_pool.saturating_add(from_fund),
			});
		}

		// Then the winners share the rest; what cannot be shared goes to the protocol account.
		if !winners.is_empty() && !pool.is_zero() && dispute.kind != DisputeKind::Audit {
			let share = pool / BalanceOf::<T>::from(winners.len() as u32);
			for winner in &winners {
				let paid = Self::pay_out(winner, share);
				pool = pool.saturating_sub(paid);
				Self::deposit_event(Event::RewardPaid { task, who: winner.clone(), amount: paid });
			}
		}
		Self::pay_out(&fund, pool);

		let settled = match verdict {
			Some(correct) => Some(correct),
			// No verdict: a challenged or audited result stands; a disagreement is refunded.
			None => dispute.result,
		};
		if let Err(error) = T::Tasks::resolve(task, settled) {
			log::warn!(target: LOG_TARGET, "the verdict on task {task} was not applied: {error:?}");
		}
		Self::deposit_event(Event::DisputeClosed { task, verdict, result_overturned: overturned });
	}

	/// Opens a dispute without a bond (a disagreement or an audit), inside a storage layer so
	/// that nothing is kept when no jury can be drawn.
	fn open_unbonded(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		kind: DisputeKind<T::AccountId>,
	) -> DispatchResult {
		frame_support::storage::with_storage_layer(|| {
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			Self::open(task, view.clone(), kind, Default::default(), Zero::zero())
		})
	}

	/// Whether the result of `task` is drawn for an audit.
	fn audit_drawn(task: TaskId) -> bool {
		let probability = T::AuditProbability::get();
		if probability.is_zero() {
			return false;
		}
		let (random, _) = T::Randomness::random(&(b"challenges/audit", task).encode());
		let seed = sp_io::hashing::blake2_256(random.as_ref());
		let draw = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
		Perbill::from_rational(draw, u32::MAX) < probability || probability == Perbill::one()
	}

	/// Checks the pallet's invariants (used by `try_state`, and by tests after every test).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut queued: BTreeMap<TaskId, u32> = BTreeMap::new();
		for (block, queue) in Deadlines::<T>::iter() {
			ensure!(!queue.is_empty(), "an empty deadline queue is stored");
			for task in queue {
				*queued.entry(task).or_default() += 1;
				let dispute =
					Disputes::<T>::get(task).ok_or("a deadline queue points to no dispute")?;
				ensure!(dispute.phase_ends == block, "a dispute is queued at a block not its own");
			}
		}
		for (task, dispute) in Disputes::<T>::iter() {
			ensure!(T::Tasks::is_disputed(task), "a dispute without a disputed task");
			ensure!(queued.get(&task) == Some(&1), "a dispute is not in exactly one queue");
			for bond in dispute.bonds.iter() {
				let held = bonds.entry(bond.who.clone()).or_default();
				*held = held.saturating_add(bond.amount);
			}
			for seat in dispute.jury.iter() {
				ensure!(
					JurorDuties::<T>::contains_key(&seat.juror, task),
					"a juror's duty is not indexed"
				);
			}
			if dispute.phase != DisputePhase::Appealable {
				ensure!(!dispute.jury.is_empty(), "a round without jurors");
			}
		}
		for (juror, task, ()) in JurorDuties::<T>::iter() {
			let dispute = Disputes::<T>::get(task).ok_or("a juror duty of no dispute")?;
			ensure!(
				dispute.jury.iter().any(|seat| seat.juror == juror),
				"a juror duty for a juror not on the jury"
			);
		}
		for (who, total) in bonds {
			let held = T::Currency::balance_on_hold(&HoldReason::DisputeBond.into(), &who);
			ensure!(held == total, "bonds held differ from the disputes' bonds");
		}
		Ok(())
	}
}

impl<T: Config> DisputeHandler<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn on_disagreement(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
	) -> DispatchResult {
		Self::open_unbonded(task, view, DisputeKind::Disagreement)
	}

	fn audit(task: TaskId, view: &DisputedTask<T::AccountId, BalanceOf<T>>) -> bool {
		Self::audit_drawn(task) && Self::open_unbonded(task, view, DisputeKind::Audit).is_ok()
	}

	fn max_weight() -> Weight {
		T::WeightInfo::open_dispute()
	}
}
