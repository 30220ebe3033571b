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
//!   `pallet-inference` hands the dispute over through [`DisputeHandler::on_disagreement`]. For
//!   a batch, whose two executors revealed different Merkle roots of outputs, the two are first
//!   **bisected** ([`open_node`](Pallet::open_node), phase [`DisputePhase::Bisecting`]): one
//!   level of their trees a step, each opening checked on chain, down to an item they differ
//!   on, which is then judged as an item dispute; then on to the next item they differ on, up
//!   to the batch's item disputes. Every difference judged, both roots stay in the batch, each
//!   paid for the items it was not found wrong on. A side that does not open its node in a
//!   step is found wrong without a jury.
//! - A random **audit**: when a challenge window ends unchallenged, a share
//!   [`Config::AuditProbability`] of results is judged anyway (proof of sampling), its jurors
//!   paid from the protocol account ([`Config::Treasury`]), never more than what the requester
//!   paid for the delivered outputs. Executors cannot count on nobody checking.
//!
//! Each round of a dispute:
//!
//! ```text
//!  opened ─(next block)─► jury drawn ─► Committing ─(CommitPeriod)─► Revealing ─(RevealPeriod)─► votes counted
//!                                                                                                  │
//!                 appeal (larger jury, doubled bond) ◄── Appealable ◄───────────────────────────────┤ round < MaxAppeals
//!                                                          │ (AppealPeriod, no appeal)              │
//!                                                          ▼                                        │ last round
//!                                                        closed ◄───────────────────────────────────┘
//! ```
//!
//! 1. **Jury.** At the block after the dispute (or appeal) opened, `JurySize` (odd) verifier
//!    agents serving the task's model are drawn by free stake through the registry, from the
//!    hash of the block the dispute opened in: whoever opened it could not know it. Never drawn:
//!    the requester, an executor, the challenger, an appellant, or a juror of an earlier round.
//!    Round `r` has `(JurySize + 1) × 2^r − 1` jurors (3, 7, 15, …), at most
//!    [`Config::MaxJurySize`]. Each juror reserves [`Config::JurorPenalty`] of its stake.
//! 2. **Votes.** Each juror's node re-executes the task against its own endpoint (see
//!    [`offchain`]) and commits to `blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror)`
//!    ([`commit_vote`](Pallet::commit_vote)), then reveals ([`reveal_vote`](Pallet::reveal_vote)).
//!    In exact-match mode the vote is the output hash the juror got; in jury mode it is the
//!    disputed result's hash (acceptable) or the zero hash (not acceptable). A juror that cannot
//!    obtain a referenced input votes [`INPUT_UNAVAILABLE`]. Commit–reveal keeps jurors from
//!    copying each other.
//! 3. **Count.** The verdict is the vote of an absolute majority of the round's jurors (not of
//!    those who revealed: a quorum); without one there is no verdict. Jurors who voted with the
//!    majority are owed [`Config::JurorReward`], paid when the dispute closes if the final
//!    verdict (after any appeal) is their vote; those who did not reveal, or voted against a
//!    majority, lose [`Config::JurorPenalty`] of their stake (to the protocol account).
//! 4. **Appeal.** While the round is appealable, the side the verdict goes against may
//!    [`appeal`](Pallet::appeal) with twice the previous bond: a new, larger jury judges again.
//!    At most [`Config::MaxAppeals`] times. An appeal round without a majority keeps the verdict
//!    appealed against.
//! 5. **Close.** Executors whose accused output differs from the final verdict lose
//!    [`Config::WrongResultSlash`] of their stake; bonds backing a claim the verdict contradicts
//!    are forfeited. Majority jurors are paid from what the losers forfeit, and only from it
//!    (audits aside). What is left goes, for an upheld challenge, [`Config::ChallengerShare`] to
//!    the challenger; for a rejected one, to the executors it accused. The requester of a
//!    result found wrong (upheld challenge or audit) is refunded and paid up to
//!    [`Config::CompensationFeeMultiple`] times its fee out of the slash (in an audit before the
//!    jurors, in a challenge after the challenger). The rest goes to the protocol account. Without a verdict, the bonds pay the jurors who revealed (whoever asked for a
//!    judgment pays for it when none comes), the result stands, and nobody is slashed.
//!
//! Every phase ends at a block: each dispute sits in exactly one block-indexed deadline queue
//! ([`Deadlines`]); `on_initialize` takes at most [`Config::MaxDeadlinesPerBlock`] due disputes,
//! the earliest first, while the costliest transition still fits in
//! [`Config::MaxDeadlineWeight`], and defers the rest to the next blocks (never dropping one).
//! [`advance`](Pallet::advance) moves on an overdue one.
//!
//! The executors' stake backing a task is reserved as collateral while the task is open
//! (disputed included), so a dispute's slash is always covered.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
mod jury;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
mod settlement;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "try-runtime", feature = "std"))]
mod try_state;
pub mod types;
mod views;
pub mod weights;

pub use agentchain_primitives::{
	agents::{AgentRegistry, Outcome, Role},
	challenges::{DisputeKind, DisputePhase},
	inference::{
		AfterDifference, AuditSeed, BatchItems, BatchTerms, DisputeHandler, DisputedTask,
		InferenceTasks, ItemJudgment, OffchainExecution, ProtocolFlow, ProtocolTreasury,
		Resolution, TaskId, VerificationMode, INPUT_UNAVAILABLE, MAX_ITEMS_FOUND_WRONG,
		REFUSED_HASH,
	},
	ModelId,
};
pub use agentchain_support::{
	congestion::{current_block_is_full, FullBlocks},
	BlockRandomness, DeadlineQueue,
};

use agentchain_primitives::duties::{duty_tag, Duty, DutyCheck, DutyError};
use agentchain_support::deadlines::{entry_weight, HookWeights};
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	defensive,
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
pub const LOG_TARGET: &str = "runtime::challenges";

/// Most blocks the deadline hook steps over in one run, when it catches up with a backlog.
pub const MAX_BLOCKS_PER_RUN: u32 = 16;

/// Most hashes in the Merkle proof of a batch item: a tree of up to `2^32` items.
pub const MAX_PROOF_LEN: u32 = 32;

/// The verdict of an item dispute in which the item's input or the disputed root's output of it
/// was not shown in time: nobody may show it as an output hash, nor open a bisection's leaf into
/// it, and an executor that revealed it as a root is judged against another such verdict
/// ([`Pallet::no_output_of`]), so the disputed root is found wrong.
pub const ITEM_NOT_SHOWN: H256 = H256([0xff; 32]);

/// The balance type of the currency bonds are posted in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// `blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror)`: what a juror commits to. Binding the
/// commitment to the juror and the round stops one juror from replaying another's.
///
/// Hashed through the host, as dispatch does it; [`agentchain_execution::vote_commitment`] is the
/// same rule for clients (edge agents), and a test holds the two equal.
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
		type AgentRegistry: AgentRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The inference tasks disputes are about.
		type Tasks: InferenceTasks<Self::AccountId, BalanceOf<Self>> + OffchainExecution;

		/// Seeds from the hash of a given block: juries are drawn from the block a dispute or
		/// appeal opened in, at a later block.
		type Randomness: BlockRandomness<BlockNumberFor<Self>>;

		/// Identifier of this pallet's account, through which forfeited funds are paid out.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The protocol account and the ledger of its flows: it pays audit jurors, and receives
		/// juror penalties and what a dispute's losers forfeit beyond what its jurors and
		/// winners are paid.
		type Treasury: ProtocolTreasury<Self::AccountId, BalanceOf<Self>>;

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

		/// Stake taken from an executor whose result is found wrong, at least: see
		/// [`Config::SlashFeeMultiple`].
		#[pallet::constant]
		type WrongResultSlash: Get<BalanceOf<Self>>;

		/// A wrong result is slashed at least its fee share times this, so that what cheating
		/// risks grows with what it earns: with audits alone, cheating loses whenever
		/// `AuditProbability × (SlashFeeMultiple + 1) > 1`.
		#[pallet::constant]
		type SlashFeeMultiple: Get<u32>;

		/// Paid to each juror who voted with the majority of its round.
		#[pallet::constant]
		type JurorReward: Get<BalanceOf<Self>>;

		/// Stake taken from a juror who did not reveal, or voted against the majority. Each
		/// juror reserves this much of its stake for its seat.
		#[pallet::constant]
		type JurorPenalty: Get<BalanceOf<Self>>;

		/// Share of what is left of the slashes, once jurors are paid, that an upheld
		/// challenge earns its challenger; the rest goes to the protocol account. Below one, so
		/// that a guilty executor's own challenge never recovers its slash.
		#[pallet::constant]
		type ChallengerShare: Get<Perbill>;

		/// Share of unchallenged results that are audited when their window ends.
		#[pallet::constant]
		type AuditProbability: Get<Perbill>;

		/// The requester of a result found wrong is refunded its fee and paid up to its fee
		/// times this out of the slash, so that requesters lose nothing in expectation to
		/// results nobody else checks: with audits alone, whenever
		/// `AuditProbability × (CompensationFeeMultiple + 1) ≥ 1`.
		#[pallet::constant]
		type CompensationFeeMultiple: Get<u32>;

		/// Most dispute deadlines processed in one block. Deadlines beyond it wait for the next
		/// blocks, in order.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// The most `on_initialize` weighs: it takes due disputes while the costliest
		/// transition ([`Pallet::transition_weight`]) still fits in it, each charged what it
		/// did. Must hold at least one.
		#[pallet::constant]
		type MaxDeadlineWeight: Get<Weight>;

		/// Blocks a vote commit or reveal deadline is extended by, once per phase, when the
		/// blocks this long before it were all full (their ordinary share 90 % used) and a juror
		/// has not acted: no juror is penalised because someone else filled the blocks.
		#[pallet::constant]
		type CongestionGrace: Get<BlockNumberFor<Self>>;

		/// Whether the chain takes batches (`pallet-inference` refuses them while it is false).
		/// Set only where every dispute over a batch is judged one item at a time: challenges
		/// and audits are; a disagreement between two batch roots needs the bisection that finds
		/// the item they differ on (`docs/batches.md`), which is not built yet.
		#[pallet::constant]
		type BatchesTaken: Get<bool>;

		/// The longest item input of a batch, which an item dispute shows on chain: the
		/// inference pallet's `MaxInputLen`.
		#[pallet::constant]
		type MaxItemLen: Get<u32>;

		/// Blocks an item dispute gives anyone to show the item's input and the disputed root's
		/// output hash of it, before its jury is drawn.
		#[pallet::constant]
		type ItemProofPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks each step of a bisection gives the two executors of a batch whose roots differ
		/// to open their nodes (`docs/batches.md`): one who has not by then is found wrong on an
		/// item.
		#[pallet::constant]
		type BisectionStepPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks the first jury of a batch's item dispute is drawn again for, from the first
		/// draw that found too few verifiers available, before the dispute ends unjudged: no root
		/// paid, nobody slashed, the fee to the protocol account (`Resolution::Unjudged`).
		#[pallet::constant]
		type JuryWaitLimit: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;
	}

	/// Open disputes, by task.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type Disputes<T: Config> = StorageMap<_, Twox64Concat, TaskId, Dispute<T>, OptionQuery>;

	/// The item of each open dispute over a batch, and what has been shown of it.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type ItemDisputes<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, ItemDispute<T>, OptionQuery>;

	/// The open audits of batches whose requester withheld its audit secret
	/// ([`AuditSeed::Withheld`]): an audit that overturns such a batch's result does not
	/// compensate its requester (`docs/batches.md`, *The audit's seed*).
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type UncompensatedAudits<T: Config> = StorageMap<_, Twox64Concat, TaskId, (), OptionQuery>;

	/// The bisection of each open disagreement between two roots of a batch, while it looks for
	/// the next item they differ on.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type Bisections<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, Bisection<T::AccountId>, OptionQuery>;

	/// What each open disagreement between two roots of a batch found beyond its current step:
	/// the forks it resumes at and the items judged. Kept from the bisection's start to its end;
	/// a bisection without one began before forks were kept (a runtime upgrade), and ends at its
	/// item.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type BisectionGames<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, BisectionGame, OptionQuery>;

	/// The bisection of each disagreement whose item is being judged, kept to resume from
	/// (at one of its game's forks) once the item is judged.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type SuspendedBisections<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, Bisection<T::AccountId>, OptionQuery>;

	/// The block at which the first jury of each item dispute still waiting for one was first
	/// not drawn (too few verifiers available): it is drawn again until
	/// [`Config::JuryWaitLimit`] blocks after.
	///
	/// Twox64Concat: task ids are assigned by the inference pallet in sequence.
	#[pallet::storage]
	pub type JuryWaitingSince<T: Config> =
		StorageMap<_, Twox64Concat, TaskId, BlockNumberFor<T>, OptionQuery>;

	/// The disputes each juror sits on in the current round, so that a juror's node finds them
	/// by iterating one prefix.
	///
	/// Blake2_128Concat for the juror (user-chosen accounts); Twox64Concat for the task id.
	#[pallet::storage]
	pub type JurorDuties<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, TaskId, (), OptionQuery>;

	/// The disputes whose current phase ends at a block, processed by `on_initialize` of that
	/// block or, when more fall due than a block processes, of the next ones.
	///
	/// Twox64Concat for both keys: block numbers and task ids are not user-controlled.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, TaskId, (), OptionQuery>;

	/// The earliest block whose dispute deadlines may not all have been processed.
	#[pallet::storage]
	pub type DeadlineCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Which of the last 64 blocks were full, recorded as each block finishes.
	#[pallet::storage]
	pub type FullBlockLog<T: Config> = StorageValue<_, FullBlocks<BlockNumberFor<T>>, ValueQuery>;

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
		/// A dispute opened over `task`; its jury is drawn at block `draw_at` (for an item
		/// dispute, if its item is shown by then).
		DisputeOpened {
			task: TaskId,
			kind: DisputeKind<T::AccountId>,
			bond: BalanceOf<T>,
			draw_at: BlockNumberFor<T>,
		},
		/// The jury of round `round` was drawn; `jurors` must commit their votes before
		/// `commit_deadline`.
		JuryDrawn {
			task: TaskId,
			round: u32,
			jurors: Vec<T::AccountId>,
			commit_deadline: BlockNumberFor<T>,
		},
		/// Too few verifiers were available when the jury of round `round` was due: the round
		/// is not held, and bonds posted for it are returned (the first jury of an item dispute
		/// is drawn again `CommitPeriod` blocks later instead).
		JuryNotDrawn { task: TaskId, round: u32 },
		/// A juror committed to a vote.
		VoteCommitted { task: TaskId, juror: T::AccountId },
		/// The commit phase is over; jurors must reveal before `reveal_deadline`.
		VoteRevealPhaseStarted { task: TaskId, reveal_deadline: BlockNumberFor<T> },
		/// A juror revealed its vote.
		VoteRevealed { task: TaskId, juror: T::AccountId, vote: H256 },
		/// The votes of a round were counted: `verdict` had the votes of an absolute majority of
		/// the round's `jurors` (`None`: no majority). Appealable until `appeal_deadline`, if set.
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
		/// The losing side appealed: a new round with a larger jury, drawn at block `draw_at`.
		Appealed {
			task: TaskId,
			appellant: T::AccountId,
			round: u32,
			bond: BalanceOf<T>,
			draw_at: BlockNumberFor<T>,
		},
		/// An executor's result was found wrong: it lost `slashed` of its stake.
		ExecutorSlashed { task: TaskId, executor: T::AccountId, slashed: BalanceOf<T> },
		/// A bond backed a claim the verdict contradicts and was forfeited.
		BondForfeited { task: TaskId, who: T::AccountId, amount: BalanceOf<T> },
		/// A bond was returned.
		BondReturned { task: TaskId, who: T::AccountId, amount: BalanceOf<T> },
		/// A majority juror or a winner was paid.
		RewardPaid { task: TaskId, who: T::AccountId, amount: BalanceOf<T> },
		/// The requester of a result found wrong was paid `amount` out of the slash, on top of
		/// its refund.
		RequesterCompensated { task: TaskId, requester: T::AccountId, amount: BalanceOf<T> },
		/// The dispute closed with `verdict` (`None`: no majority). `result_overturned`: the
		/// disputed result was found wrong.
		DisputeClosed { task: TaskId, verdict: Option<H256>, result_overturned: bool },
		/// Blocks before the current phase's deadline were full and a juror has not acted: the
		/// deadline moved to `phase_ends`, once for the phase.
		DeadlineExtended { task: TaskId, phase_ends: BlockNumberFor<T> },
		/// The dispute over `task` is over one item of the batch, `item`: its input and the
		/// disputed root's output hash of it may be shown until `show_deadline`.
		ItemDisputeOpened { task: TaskId, item: u32, show_deadline: BlockNumberFor<T> },
		/// The input of the disputed item was shown, with its proof.
		ItemInputShown { task: TaskId, item: u32, by: T::AccountId },
		/// The disputed root's output hash of the item was shown, with its proof.
		ItemOutputShown { task: TaskId, item: u32, output: H256, by: T::AccountId },
		/// A step of the bisection over `task`'s two roots: each executor must open its node at
		/// `position` of `level` (`merkle::root_level(items)` for the roots, 0 for the leaves)
		/// before `step_deadline`.
		BisectionStep { task: TaskId, level: u32, position: u32, step_deadline: BlockNumberFor<T> },
		/// An executor opened its node of the current bisection step.
		NodeOpened { task: TaskId, executor: T::AccountId, level: u32, position: u32 },
		/// The jury's endpoints refused the prompt ([`REFUSED_HASH`]) that `executor` answered:
		/// its answer is not paid, and it is not slashed.
		AnswerRefusedByJury { task: TaskId, executor: T::AccountId },
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
		/// Not enough verifiers with free stake serve the task's model to draw a jury; try again
		/// later.
		NotEnoughJurors,
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
		/// In jury mode a vote is the disputed result's hash or the zero hash; `INPUT_UNAVAILABLE`
		/// is a vote only for a task whose input is a reference.
		InvalidVote,
		/// The signer is not on the side the verdict goes against.
		NotLosingSide,
		/// The dispute has had all the appeals allowed.
		NoAppealsLeft,
		/// The dispute's current phase has not ended yet.
		TooEarly,
		/// Juries are drawn only by the per-block hook, before any transaction of its block,
		/// from the hash of the block before: no caller may choose when a draw happens.
		DrawnByHookOnly,
		/// A batch is disputed one item at a time: use `challenge_item`.
		BatchNeedsItem,
		/// The task is not a batch: use `challenge`.
		NotABatch,
		/// The batch has no item of that index.
		ItemOutOfRange,
		/// The disputed root was already found wrong on this item.
		ItemAlreadyJudged,
		/// The disputed root was found wrong on as many items as its collateral covers; its
		/// audit still judges it.
		ItemDisputesExhausted,
		/// The dispute is not over an item of a batch.
		NotItemDispute,
		/// That part of the item was already shown.
		AlreadyShown,
		/// The item is longer than any batch item may be.
		ItemTooLong,
		/// The proof does not show that item of the root.
		InvalidProof,
		/// The dispute is not a bisection between two roots of a batch.
		NotBisecting,
		/// The signer is not (the operator of) an executor on either side of the bisection.
		NotASide,
		/// This side already opened its node in the current step.
		AlreadyOpened,
		/// The opening does not hash to the side's node at the current step: the two children
		/// of an inner node (one for a node with a single child), the tree's top for a root,
		/// the item's output hash for a leaf (never `ITEM_NOT_SHOWN`).
		InvalidOpening,
		/// The output hash is `ITEM_NOT_SHOWN`, which the chain reserves for the verdict on an
		/// item nobody showed.
		ReservedOutput,
		/// A disagreement over a batch is between exactly two outputs roots.
		NotTwoRoots,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Makes the transitions of at most [`Config::MaxDeadlinesPerBlock`] due disputes, each
		/// charged what it did, for as long as the costliest could still fit in
		/// [`Config::MaxDeadlineWeight`]: never more than that, whatever is due.
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
			// A step or phase extended by none would be queued again at the block the hook is
			// taking.
			assert!(!T::CongestionGrace::get().is_zero(), "CongestionGrace must be positive");
			assert!(T::MaxDeadlinesPerBlock::get() > 0, "MaxDeadlinesPerBlock must be positive");
			assert!(
				Self::hook_weights()
					.most(1, MAX_BLOCKS_PER_RUN)
					.all_lte(T::MaxDeadlineWeight::get()),
				"MaxDeadlineWeight must hold the costliest transition"
			);
			assert!(!T::CommitPeriod::get().is_zero(), "CommitPeriod must be positive");
			assert!(!T::JuryWaitLimit::get().is_zero(), "JuryWaitLimit must be positive");
			assert!(!T::RevealPeriod::get().is_zero(), "RevealPeriod must be positive");
			assert!(!T::AppealPeriod::get().is_zero(), "AppealPeriod must be positive");
			assert!(!T::MinChallengeBond::get().is_zero(), "MinChallengeBond must be positive");
			assert!(!T::JurorPenalty::get().is_zero(), "JurorPenalty must be positive");
			assert!(
				T::ChallengerShare::get() < Perbill::one(),
				"a challenger may not recover a whole slash"
			);
			assert!(
				T::CompensationFeeMultiple::get() < T::SlashFeeMultiple::get(),
				"a requester may not recover a whole slash"
			);
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
		/// found wrong, forfeited if it is found right, and charged the pay of the jurors who
		/// voted if no verdict is reached.
		///
		/// The jury is drawn at the next block, from the hash of this one; enough verifiers
		/// must be available now. The task is not finalised while it is judged.
		///
		/// Errors: `NotChallengeable`, `BondTooLow`, `InsufficientBalance`, `OwnResult`,
		/// `NotEnoughJurors`.
		///
		/// Emits `DisputeOpened` (and the inference pallet's `TaskDisputed`).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::challenge())]
		pub fn challenge(origin: OriginFor<T>, task: TaskId, bond: BalanceOf<T>) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			let view = T::Tasks::open_challenge(task).map_err(|_| Error::<T>::NotChallengeable)?;
			ensure!(view.batch.is_none(), Error::<T>::BatchNeedsItem);
			Self::ensure_not_own(&view, &challenger)?;
			ensure!(bond >= Self::base_bond(view.fee), Error::<T>::BondTooLow);
			Self::hold_bond(&challenger, bond)?;
			let bonds = BoundedVec::truncate_from(alloc::vec![Bond {
				who: challenger.clone(),
				amount: bond,
				claim: Claim::ResultWrong,
			}]);
			for (executor, output) in view.revealed.iter() {
				if view.result == Some(*output) {
					T::AgentRegistry::record(executor, Outcome::Challenged);
				}
			}
			Self::open(
				task,
				view,
				DisputeKind::Challenge { challenger },
				bonds,
				bond,
				FirstPhase::Jury,
			)
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
		// Operational: a duty with a deadline, kept out of the share of the block ordinary
		// traffic can fill (only the round's jurors pass the runtime's validation).
		#[pallet::weight((T::WeightInfo::commit_vote(), DispatchClass::Operational))]
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
		/// result's hash (acceptable), the zero hash (not acceptable) or [`REFUSED_HASH`] (the
		/// juror's endpoint refused the prompt on its content policy). For a task whose input
		/// is a reference, [`INPUT_UNAVAILABLE`] says the juror could not obtain it.
		///
		/// Errors: `UnknownDispute`, `NotJuror`, `WrongPhase`, `DeadlinePassed`, `NotCommitted`,
		/// `AlreadyRevealed`, `CommitmentMismatch`, `InvalidVote`.
		///
		/// Emits `VoteRevealed`.
		#[pallet::call_index(2)]
		#[pallet::weight((T::WeightInfo::reveal_vote(), DispatchClass::Operational))]
		pub fn reveal_vote(
			origin: OriginFor<T>,
			task: TaskId,
			vote: H256,
			salt: [u8; 32],
		) -> DispatchResult {
			let (mut dispute, juror, index) =
				Self::juror_in_phase(origin, task, DisputePhase::Revealing)?;
			let round = dispute.round;
			let valid = if vote == INPUT_UNAVAILABLE {
				dispute.input_is_reference
			} else {
				match dispute.mode {
					VerificationMode::ExactMatch => true,
					VerificationMode::Jury => {
						vote == REJECT || vote == REFUSED_HASH || dispute.result == Some(vote)
					},
				}
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
		/// the result stood (or no verdict was reached, or the verdict is a refusal,
		/// [`REFUSED_HASH`]), or an executor (its owner account or
		/// operator key) whose accused output the verdict contradicts. Only while the round is
		/// appealable, and at most `MaxAppeals` times. `bond` must be at least the challenge
		/// bond times `2^round` (round 1, 2, …); it is held from the signer, returned if the
		/// final verdict agrees with the appellant, forfeited otherwise.
		///
		/// The new jury is drawn at the next block, from the hash of this one; enough fresh
		/// verifiers must be available now.
		///
		/// Errors: `UnknownDispute`, `WrongPhase`, `DeadlinePassed`, `NoAppealsLeft`,
		/// `NotLosingSide`, `BondTooLow`, `InsufficientBalance`, `NotEnoughJurors`.
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
			dispute
				.bonds
				.try_push(Bond { who: appellant.clone(), amount: bond, claim })
				.map_err(|_| Error::<T>::NoAppealsLeft)?;
			dispute.round = round;
			Self::ensure_jury_available(&dispute)?;
			Self::hold_bond(&appellant, bond)?;
			Queue::<T>::unschedule(&task, dispute.phase_ends);
			dispute.phase = DisputePhase::Drawing;
			dispute.phase_ends = Queue::<T>::schedule(&task, now.saturating_add(One::one()));
			Self::deposit_event(Event::Appealed {
				task,
				appellant,
				round,
				bond,
				draw_at: dispute.phase_ends,
			});
			Disputes::<T>::insert(task, dispute);
			Ok(())
		}

		/// Challenge the outputs root of a batch on one item, `item`: claim the root's output of
		/// it is wrong, and bond `bond` on it (`docs/batches.md`).
		///
		/// As [`challenge`](Pallet::challenge), for a batch: the origin must be signed, by anyone
		/// but an executor that revealed the root; the batch must be revealed, inside its
		/// challenge window, with no dispute open, and the root not already found wrong on this
		/// item, nor on as many items as its collateral covers (`MAX_ITEMS_FOUND_WRONG`). The item is
		/// priced as a task of its own: `bond` is at least
		/// `max(MinChallengeBond, fee / items × ChallengeBondFeeMultiple)`, and a root found wrong
		/// on it loses [`item_slash`](Pallet::item_slash)`(share / items)`, its requester refunded
		/// `share / items` and compensated up to `CompensationFeeMultiple` times that.
		///
		/// For `ItemProofPeriod` blocks anyone may show the item's input and the root's output
		/// hash of it ([`show_item_input`](Pallet::show_item_input),
		/// [`show_item_output`](Pallet::show_item_output)); then a jury re-executes the item, or,
		/// when either was not shown, the root is found wrong on the item. However it ends, the
		/// batch goes back to its window for the blocks it had left: a verdict settles the item,
		/// never the batch.
		///
		/// Errors: `NotChallengeable`, `NotABatch`, `ItemOutOfRange`, `ItemAlreadyJudged`,
		/// `ItemDisputesExhausted`, `OwnResult`, `BondTooLow`, `InsufficientBalance`,
		/// `NotEnoughJurors`.
		///
		/// Emits `DisputeOpened` and `ItemDisputeOpened` (and the inference pallet's
		/// `TaskDisputed`).
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::challenge_item_weight())]
		pub fn challenge_item(
			origin: OriginFor<T>,
			task: TaskId,
			item: u32,
			bond: BalanceOf<T>,
		) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			let view = T::Tasks::open_challenge(task).map_err(|_| Error::<T>::NotChallengeable)?;
			let batch = view.batch.clone().ok_or(Error::<T>::NotABatch)?;
			ensure!(item < batch.items, Error::<T>::ItemOutOfRange);
			ensure!(
				!batch.found_wrong.contains(&item)
					&& !batch.refused.contains(&item)
					&& !batch.disagreed.contains(&item),
				Error::<T>::ItemAlreadyJudged
			);
			// The items a disagreement judged used the batch's item disputes too, whichever
			// root lost them.
			let used = batch.disagreed.len().saturating_add(
				batch.found_wrong.iter().filter(|item| !batch.disagreed.contains(item)).count(),
			);
			ensure!((used as u32) < MAX_ITEMS_FOUND_WRONG, Error::<T>::ItemDisputesExhausted);
			Self::ensure_not_own(&view, &challenger)?;
			let root = view.result.ok_or(Error::<T>::NotChallengeable)?;
			let view = Self::item_priced(view, batch.items);
			ensure!(bond >= Self::base_bond(view.fee), Error::<T>::BondTooLow);
			Self::hold_bond(&challenger, bond)?;
			let bonds = BoundedVec::truncate_from(alloc::vec![Bond {
				who: challenger.clone(),
				amount: bond,
				claim: Claim::ResultWrong,
			}]);
			for (executor, output) in view.revealed.iter() {
				if view.result == Some(*output) {
					T::AgentRegistry::record(executor, Outcome::Challenged);
				}
			}
			Self::open_item(
				task,
				view,
				DisputeKind::Challenge { challenger },
				bonds,
				bond,
				item,
				&batch,
				root,
			)
		}

		/// Show the input of the item an item dispute is over: its bytes, and their Merkle proof
		/// against the batch's inputs root (the sibling hashes from the leaf up,
		/// `agentchain_execution::merkle`).
		///
		/// Anyone may show it, once, while the dispute is showing (`ItemProofPeriod` blocks from
		/// its opening). The executors of the disputed root have it: they checked the inputs
		/// document against the root before they committed. Showing it is a duty of the
		/// dispute's executors (signed by their owner account or operator key): the runtime
		/// gives such a showing priority, so that a flood of ordinary transactions cannot keep
		/// it out of the pool and of blocks. A showing this call would reject is refused before
		/// the pool, whoever sends it. A valid showing pays no fee, whoever sends it (there are
		/// at most two a dispute).
		///
		/// Errors: `UnknownDispute`, `NotItemDispute`, `WrongPhase`, `DeadlinePassed`,
		/// `AlreadyShown`, `ItemTooLong`, `InvalidProof`.
		///
		/// Emits `ItemInputShown`.
		#[pallet::call_index(6)]
		// Operational: a duty with a deadline, kept out of the share of the block ordinary
		// transactions fill.
		#[pallet::weight((T::WeightInfo::show_item_input(), DispatchClass::Operational))]
		pub fn show_item_input(
			origin: OriginFor<T>,
			task: TaskId,
			input: Vec<u8>,
			proof: Vec<H256>,
		) -> DispatchResultWithPostInfo {
			let by = ensure_signed(origin)?;
			let mut shown = Self::item_in_showing(task, proof.len())?;
			ensure!(shown.input.is_none(), Error::<T>::AlreadyShown);
			Self::input_accepted(&shown, &input, &proof)?;
			let input: BoundedVec<u8, T::MaxItemLen> =
				input.try_into().map_err(|_| Error::<T>::ItemTooLong)?;
			shown.input = Some(input);
			let item = shown.item;
			ItemDisputes::<T>::insert(task, shown);
			Self::deposit_event(Event::ItemInputShown { task, item, by });
			Ok(Pays::No.into())
		}

		/// Show the disputed root's output hash of the item an item dispute is over: the hash
		/// (the item's leaf), and its Merkle proof against the root.
		///
		/// Anyone may show it, once, while the dispute is showing. The executors of the root
		/// have it (their outputs document is public too, from their reveal). A duty of the
		/// dispute's executors, as [`show_item_input`](Pallet::show_item_input) is.
		///
		/// Errors: `UnknownDispute`, `NotItemDispute`, `WrongPhase`, `DeadlinePassed`,
		/// `AlreadyShown`, `ReservedOutput`, `InvalidProof`.
		///
		/// Emits `ItemOutputShown`.
		#[pallet::call_index(7)]
		#[pallet::weight((T::WeightInfo::show_item_output(), DispatchClass::Operational))]
		pub fn show_item_output(
			origin: OriginFor<T>,
			task: TaskId,
			output: H256,
			proof: Vec<H256>,
		) -> DispatchResultWithPostInfo {
			let by = ensure_signed(origin)?;
			let mut shown = Self::item_in_showing(task, proof.len())?;
			ensure!(shown.output.is_none(), Error::<T>::AlreadyShown);
			Self::output_accepted(task, &shown, &output, &proof)?;
			shown.output = Some(output);
			let item = shown.item;
			ItemDisputes::<T>::insert(task, shown);
			Self::deposit_event(Event::ItemOutputShown { task, item, output, by });
			Ok(Pays::No.into())
		}

		/// Open the signer's node of the current step of a bisection between two roots of a batch
		/// (`docs/batches.md`): `left` and `right` the node's children (`right` `None` for a
		/// node with a single child); at the roots' level, `left` the tree's top; at the leaves,
		/// `left` the item's output hash. The chain checks it against the side's node
		/// (`agentchain_execution::merkle::opens_in_bisection`).
		///
		/// The origin must be signed by one of the two executors (its owner account or operator
		/// key), once per step, before the step's deadline. When both have opened, the game goes
		/// down to the node the two differ on, into the left child when the left children
		/// differ, else the right; past the leaves, the dispute is over the item the roots differ
		/// on, its input shown for `ItemProofPeriod` blocks, then judged, and the game goes on to
		/// the next item they differ on. An executor who has not opened its node when the step
		/// ends withheld what its root commits to (a wrong result's slash of its share; its root
		/// is out of the batch). A valid opening pays no fee: it is a duty.
		///
		/// Errors: `UnknownDispute`, `NotBisecting`, `DeadlinePassed`, `NotASide`,
		/// `AlreadyOpened`, `InvalidOpening`.
		///
		/// Emits `NodeOpened`, then `BisectionStep` (or `ItemDisputeOpened`) when the step is
		/// complete.
		#[pallet::call_index(8)]
		#[pallet::weight((
			T::WeightInfo::open_node().max(T::WeightInfo::open_node_at_a_fork()),
			DispatchClass::Operational
		))]
		pub fn open_node(
			origin: OriginFor<T>,
			task: TaskId,
			left: H256,
			right: Option<H256>,
		) -> DispatchResultWithPostInfo {
			let signer = ensure_signed(origin)?;
			let dispute = Disputes::<T>::get(task).ok_or(Error::<T>::UnknownDispute)?;
			let mut bisection = Bisections::<T>::get(task).ok_or(Error::<T>::NotBisecting)?;
			ensure!(dispute.phase == DisputePhase::Bisecting, Error::<T>::NotBisecting);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < dispute.phase_ends, Error::<T>::DeadlinePassed);
			let executor = T::AgentRegistry::agent_of(&signer).ok_or(Error::<T>::NotASide)?;
			let (level, position) = (bisection.level, bisection.position);
			let index = bisection
				.sides
				.iter()
				.position(|side| side.executor == executor)
				.ok_or(Error::<T>::NotASide)?;
			let opening = (left, right);
			let node = bisection.sides[index].node;
			ensure!(bisection.sides[index].opening.is_none(), Error::<T>::AlreadyOpened);
			ensure!(
				Self::opening_accepted(&bisection, &node, &opening),
				Error::<T>::InvalidOpening
			);
			bisection.sides[index].opening = Some(opening);
			Self::deposit_event(Event::NodeOpened { task, executor, level, position });
			Self::bisection_step(task, dispute, bisection, now);
			Ok(Pays::No.into())
		}

		/// Move on a dispute whose current phase has ended but which the per-block hook has not
		/// processed yet (more deadlines fell due than a block processes): the same transition
		/// the hook would make. Anyone may call it.
		///
		/// Errors: `UnknownDispute`, `TooEarly`, `DrawnByHookOnly` (the round waits for its
		/// jury to be drawn).
		///
		/// Emits what the transition emits (`JuryDrawn`, `VoteRevealPhaseStarted`,
		/// `VotesCounted`, `DisputeClosed`, …).
		#[pallet::call_index(4)]
		// The costliest transition, with its queue entry taken out.
		#[pallet::weight(
			Pallet::<T>::transition_weight().saturating_add(entry_weight(T::DbWeight::get()))
		)]
		pub fn advance(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
			ensure_signed(origin)?;
			let dispute = Disputes::<T>::get(task).ok_or(Error::<T>::UnknownDispute)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				dispute.phase_ends < now && Queue::<T>::is_scheduled(&task, dispute.phase_ends),
				Error::<T>::TooEarly
			);
			// A draw run by a transaction would be seeded by a hash its sender already knows,
			// against a state it has just changed in the same block.
			ensure!(dispute.phase != DisputePhase::Drawing, Error::<T>::DrawnByHookOnly);
			Queue::<T>::unschedule(&task, dispute.phase_ends);
			Self::process_deadline(task, now);
			Ok(())
		}
	}
}

/// How a dispute starts.
pub(crate) enum FirstPhase<T: Config> {
	/// Its jury is drawn at the next block.
	Jury,
	/// Its item is shown first ([`DisputePhase::Showing`]).
	Item(ItemDispute<T>),
	/// Two roots of a batch are bisected first, to the item they differ on
	/// ([`DisputePhase::Bisecting`]).
	Bisection(Bisection<T::AccountId>),
}

/// The part of an item a showing shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ShowingPart {
	/// Its input ([`Call::show_item_input`]).
	Input = 0,
	/// The disputed root's output hash of it ([`Call::show_item_output`]).
	Output = 1,
}

/// The deadline queue of disputes.
pub type Queue<T> = DeadlineQueue<Deadlines<T>, DeadlineCursor<T>, BlockNumberFor<T>, TaskId>;

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

	/// What an executor whose fee share is `share` loses for a wrong result:
	/// `max(WrongResultSlash, share × SlashFeeMultiple)`.
	pub fn wrong_result_slash(share: BalanceOf<T>) -> BalanceOf<T> {
		T::WrongResultSlash::get().max(share.saturating_mul(T::SlashFeeMultiple::get().into()))
	}

	/// What a batch's root found wrong on one challenged item loses, the item's fee share being
	/// `item_share`: `max(2 × JurySize × JurorReward, item_share × SlashFeeMultiple)`, what the
	/// first jury costs and as much again, or a task's multiple of the item's share. Each root's
	/// collateral covers [`MAX_ITEMS_FOUND_WRONG`] of them.
	pub fn item_slash(item_share: BalanceOf<T>) -> BalanceOf<T> {
		Self::item_slash_floor().max(item_share.saturating_mul(T::SlashFeeMultiple::get().into()))
	}

	/// The least an item slash is: `2 × JurySize × JurorReward`.
	pub fn item_slash_floor() -> BalanceOf<T> {
		T::JurorReward::get()
			.saturating_mul(T::JurySize::get().into())
			.saturating_mul(2u32.into())
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

	/// Opens a dispute over `task`; its first jury is drawn at the next block. Fails, changing
	/// nothing, when too few verifiers are available now, except for an item of a batch, whose
	/// first jury is waited for (`JuryWaitLimit`).
	fn open(
		task: TaskId,
		view: DisputedTask<T::AccountId, BalanceOf<T>>,
		kind: DisputeKind<T::AccountId>,
		bonds: BoundedVec<Bond<T::AccountId, BalanceOf<T>>, MaxBonds<T>>,
		bond: BalanceOf<T>,
		first: FirstPhase<T>,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let mut dispute = Dispute::<T> {
			kind: kind.clone(),
			requester: view.requester,
			model: view.model,
			mode: view.mode,
			input_is_reference: view.input_is_reference,
			fee: view.fee,
			share: view.share,
			revealed: BoundedVec::truncate_from(view.revealed),
			result: view.result,
			round: 0,
			phase: DisputePhase::Drawing,
			phase_ends: now,
			jury: Default::default(),
			verdict: None,
			bonds,
			owed: Default::default(),
			unpaid: Default::default(),
			past_jurors: Default::default(),
			juror_collateral: T::JurorPenalty::get(),
			extended: false,
		};
		// An item dispute opens whatever verifiers are available now: its jury is drawn once
		// the item is shown, and waited for (`JuryWaitLimit`) if too few are available then. A
		// batch's audit cannot be skipped, nor a challenge of an item refused, by keeping the
		// verifiers paused for a block. A bisection is opened only when its item could be
		// judged now (its jury, if not available once the item is known, is waited for too).
		if !matches!(first, FirstPhase::Item(_)) {
			Self::ensure_jury_available(&dispute)?;
		}
		let draw_at = match first {
			// Drawn from the hash of this block, which nobody knows yet.
			FirstPhase::Jury => {
				dispute.phase_ends = Queue::<T>::schedule(&task, now.saturating_add(One::one()));
				dispute.phase_ends
			},
			// The item is shown first; its jury is drawn the block after the showing ends.
			FirstPhase::Item(item) => {
				Self::begin_showing(task, &mut dispute, item, now);
				dispute.phase_ends.saturating_add(One::one())
			},
			// The roots are bisected first: at the earliest, a jury is drawn after the first step.
			FirstPhase::Bisection(bisection) => {
				Self::begin_bisection_step(task, &mut dispute, bisection, now);
				dispute.phase_ends.saturating_add(One::one())
			},
		};
		Self::deposit_event(Event::DisputeOpened { task, kind, bond, draw_at });
		Disputes::<T>::insert(task, dispute);
		Ok(())
	}

	/// Puts `dispute` in the showing of a batch's item, for `ItemProofPeriod` blocks from `now`.
	fn begin_showing(
		task: TaskId,
		dispute: &mut Dispute<T>,
		shown: ItemDispute<T>,
		now: BlockNumberFor<T>,
	) {
		dispute.phase = DisputePhase::Showing;
		dispute.phase_ends =
			Queue::<T>::schedule(&task, now.saturating_add(T::ItemProofPeriod::get()));
		Self::deposit_event(Event::ItemDisputeOpened {
			task,
			item: shown.item,
			show_deadline: dispute.phase_ends,
		});
		ItemDisputes::<T>::insert(task, shown);
	}

	/// Puts `dispute` in the step of `bisection` at its level and position, for
	/// `BisectionStepPeriod` blocks from `now`.
	fn begin_bisection_step(
		task: TaskId,
		dispute: &mut Dispute<T>,
		bisection: Bisection<T::AccountId>,
		now: BlockNumberFor<T>,
	) {
		dispute.phase = DisputePhase::Bisecting;
		dispute.phase_ends =
			Queue::<T>::schedule(&task, now.saturating_add(T::BisectionStepPeriod::get()));
		Self::deposit_event(Event::BisectionStep {
			task,
			level: bisection.level,
			position: bisection.position,
			step_deadline: dispute.phase_ends,
		});
		Bisections::<T>::insert(task, bisection);
	}

	/// Refuses a challenge by an executor that revealed the disputed result (by its owner
	/// account or operator key).
	fn ensure_not_own(
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		challenger: &T::AccountId,
	) -> DispatchResult {
		let challenger_agent = T::AgentRegistry::agent_of(challenger);
		let own = view.revealed.iter().any(|(executor, output)| {
			view.result == Some(*output)
				&& (executor == challenger || challenger_agent.as_ref() == Some(executor))
		});
		ensure!(!own, Error::<T>::OwnResult);
		Ok(())
	}

	/// A batch's dispute view priced as one of its `items` items: the fee and each executor's
	/// share divided by the items, so that bonds, slashes and compensation are a task's of that
	/// item.
	fn item_priced(
		mut view: DisputedTask<T::AccountId, BalanceOf<T>>,
		items: u32,
	) -> DisputedTask<T::AccountId, BalanceOf<T>> {
		let items = BalanceOf::<T>::from(items.max(1));
		view.fee = view.fee / items;
		view.share = view.share / items;
		view
	}

	/// Opens a dispute over item `item` of a batch, whose disputed outputs root is `root`: its
	/// item is shown for `ItemProofPeriod` blocks, then judged, its jury waited for
	/// (`JuryWaitLimit`) while too few verifiers are available.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn open_item(
		task: TaskId,
		view: DisputedTask<T::AccountId, BalanceOf<T>>,
		kind: DisputeKind<T::AccountId>,
		bonds: BoundedVec<Bond<T::AccountId, BalanceOf<T>>, MaxBonds<T>>,
		bond: BalanceOf<T>,
		item: u32,
		batch: &BatchItems,
		root: H256,
	) -> DispatchResult {
		let shown = ItemDispute::<T> {
			item,
			items: batch.items,
			inputs_root: batch.inputs_root,
			outputs_root: root,
			input: None,
			output: None,
		};
		Self::open(task, view, kind, bonds, bond, FirstPhase::Item(shown))
	}

	/// For a showing of the item of the dispute over `task` with a proof of `proof_len` hashes:
	/// the item dispute, if the dispute is showing and the proof is not longer than any.
	fn item_in_showing(task: TaskId, proof_len: usize) -> Result<ItemDispute<T>, DispatchError> {
		let dispute = Disputes::<T>::get(task).ok_or(Error::<T>::UnknownDispute)?;
		let shown = ItemDisputes::<T>::get(task).ok_or(Error::<T>::NotItemDispute)?;
		ensure!(dispute.phase == DisputePhase::Showing, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < dispute.phase_ends, Error::<T>::DeadlinePassed);
		ensure!(proof_len <= MAX_PROOF_LEN as usize, Error::<T>::InvalidProof);
		Ok(shown)
	}

	/// Checks an item's input as shown: at most `MaxItemLen` bytes, whose hash `proof` proves to
	/// be the item's leaf under the batch's inputs root.
	fn input_accepted(shown: &ItemDispute<T>, input: &[u8], proof: &[H256]) -> DispatchResult {
		ensure!(input.len() <= T::MaxItemLen::get() as usize, Error::<T>::ItemTooLong);
		ensure!(proof.len() <= MAX_PROOF_LEN as usize, Error::<T>::InvalidProof);
		let leaf = H256(sp_io::hashing::blake2_256(input));
		ensure!(
			agentchain_execution::merkle::verify(
				&shown.inputs_root,
				shown.items,
				shown.item,
				&leaf,
				proof
			),
			Error::<T>::InvalidProof
		);
		Ok(())
	}

	/// Checks the disputed root's output hash of an item of `task` as shown: not the hash the
	/// chain reserves for an item nobody showed, and its leaf under the root by `proof`, or
	/// under the root reconciled with it (`InferenceTasks::reconciled_root`), which agrees with
	/// it on every item an item dispute may be over: either executor may show it.
	fn output_accepted(
		task: TaskId,
		shown: &ItemDispute<T>,
		output: &H256,
		proof: &[H256],
	) -> DispatchResult {
		use agentchain_execution::merkle::verify;
		ensure!(*output != ITEM_NOT_SHOWN, Error::<T>::ReservedOutput);
		ensure!(proof.len() <= MAX_PROOF_LEN as usize, Error::<T>::InvalidProof);
		let under = |root: &H256| verify(root, shown.items, shown.item, output, proof);
		ensure!(
			under(&shown.outputs_root)
				|| T::Tasks::reconciled_root(task).is_some_and(|r| under(&r)),
			Error::<T>::InvalidProof
		);
		Ok(())
	}

	/// At the end of an item dispute's showing: with the item's input and the root's output
	/// hash of it shown, the dispute is over that output hash, judged by a jury drawn at the
	/// next block; without either, the root is found wrong on the item, and the dispute closes.
	fn end_showing(task: TaskId, mut dispute: Dispute<T>, now: BlockNumberFor<T>) -> Weight {
		let shown = ItemDisputes::<T>::get(task);
		let leaf = shown.as_ref().and_then(|shown| shown.input.as_ref().and(shown.output));
		let Some((leaf, root)) = leaf.zip(shown.as_ref().map(|shown| shown.outputs_root)) else {
			if shown.is_none() {
				defensive!("an item dispute without its item");
			}
			dispute.verdict = Some(Self::no_output_of(&dispute));
			let executors = dispute.revealed.len() as u32;
			Self::close(task, dispute, false);
			return T::WeightInfo::end_showing().saturating_add(Self::close_weight(0, executors));
		};
		// From here on the dispute is a task's over the item: the root's output of it is its
		// leaf, and the item's input is on chain.
		for (_, output) in dispute.revealed.iter_mut() {
			if *output == root {
				*output = leaf;
			}
		}
		if dispute.result == Some(root) {
			dispute.result = Some(leaf);
		}
		dispute.input_is_reference = false;
		dispute.extended = false;
		dispute.phase = DisputePhase::Drawing;
		dispute.phase_ends = Queue::<T>::schedule(&task, now.saturating_add(One::one()));
		Disputes::<T>::insert(task, dispute);
		T::WeightInfo::end_showing()
	}

	/// After an opening in a bisection: when both sides have opened their node, the game goes
	/// down to the next node they differ on, its step open for `BisectionStepPeriod` blocks;
	/// past the leaves, the dispute is over an item the roots differ on (the first, or the first
	/// after those judged), each side accused by its output hash of it, the item's input shown
	/// for `ItemProofPeriod` blocks.
	/// Until both have opened, the bisection is kept as it is.
	pub(crate) fn bisection_step(
		task: TaskId,
		mut dispute: Dispute<T>,
		mut bisection: Bisection<T::AccountId>,
		now: BlockNumberFor<T>,
	) {
		let [first, second] = &bisection.sides;
		let (Some(a), Some(b)) = (first.opening, second.opening) else {
			Bisections::<T>::insert(task, bisection);
			return;
		};
		Queue::<T>::unschedule(&task, dispute.phase_ends);
		dispute.extended = false;
		let (items, level, position) = (bisection.items, bisection.level, bisection.position);
		// The subtree passed by where the sides differ too: the game resumes there once the
		// item it goes down to is judged.
		if let Some(fork) = agentchain_execution::merkle::fork(items, level, position, &a, &b) {
			BisectionGames::<T>::mutate_extant(task, |game| {
				if game.forks.try_push(fork).is_err() {
					defensive!("a bisection passed by more forks than its tree has levels");
				}
			});
		}
		match agentchain_execution::merkle::next_step(items, level, position, &a, &b) {
			Some((level, position, a_node, b_node)) => {
				if a_node == b_node {
					defensive!("the sides of a bisection agree under nodes they differ on");
				}
				bisection.level = level;
				bisection.position = position;
				for (side, node) in bisection.sides.iter_mut().zip([a_node, b_node]) {
					side.node = node;
					side.opening = None;
				}
				Self::begin_bisection_step(task, &mut dispute, bisection, now);
			},
			None => {
				// An item the roots differ on (the first, or the first after those judged):
				// each side is accused by its output hash of it, which its opening of the leaf
				// showed. Only the input is left to show. The bisection is kept to resume from.
				Bisections::<T>::remove(task);
				SuspendedBisections::<T>::insert(task, &bisection);
				for (executor, output) in dispute.revealed.iter_mut() {
					if let Some(side) = bisection.sides.iter().find(|s| &s.executor == executor) {
						*output = side.opening.map_or(*output, |(hash, _)| hash);
					}
				}
				let shown = ItemDispute::<T> {
					item: position,
					items,
					inputs_root: bisection.inputs_root,
					outputs_root: bisection.sides[0].root,
					input: None,
					output: Some(a.0),
				};
				Self::begin_showing(task, &mut dispute, shown, now);
			},
		}
		Disputes::<T>::insert(task, dispute);
	}

	/// At the end of a bisection step that one side or both did not complete: a side that did
	/// not open its node withheld what its root commits to, and pays what a withheld reveal
	/// costs (a wrong result's slash of its whole share), without a jury, charged on the first
	/// item under its node; the other side's root stands. Both silent: both pay.
	fn end_bisection_step(task: TaskId, mut dispute: Dispute<T>) -> Weight {
		let bisection = Bisections::<T>::get(task);
		let answered = bisection.as_ref().and_then(|bisection| {
			bisection.sides.iter().find(|side| side.opening.is_some()).map(|side| side.root)
		});
		dispute.verdict = Some(answered.unwrap_or_else(|| Self::no_output_of(&dispute)));
		// Priced as the whole share, not the item the dispute was priced as.
		let items = bisection.map_or(1, |bisection| bisection.items.max(1));
		dispute.share = dispute.share.saturating_mul(items.into());
		Self::close(task, dispute, false);
		// Measured with the close on the path where the answering root is the result (nobody
		// to pay but the protocol account, two executors); the others (both silent, or the
		// answering root found wrong on more items: the batch expires) are bounded by the
		// inference pallet's most, as `transition_weight` counts them.
		T::WeightInfo::end_bisection_step().saturating_add(T::Tasks::max_resolve_weight())
	}

	/// A verdict that is none of the dispute's revealed outputs: [`ITEM_NOT_SHOWN`], unless an
	/// executor revealed exactly that, then another. Whatever an executor chose to reveal, it is
	/// found wrong when nobody showed its item (or it did not open its node).
	pub(crate) fn no_output_of(dispute: &Dispute<T>) -> H256 {
		[ITEM_NOT_SHOWN, H256::zero(), H256::repeat_byte(0xfe)]
			.into_iter()
			.find(|verdict| !dispute.revealed.iter().any(|(_, output)| output == verdict))
			.unwrap_or(ITEM_NOT_SHOWN)
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
		let juror = T::AgentRegistry::agent_of(&signer).ok_or(Error::<T>::NotJuror)?;
		let index =
			dispute.jury.iter().position(|s| s.juror == juror).ok_or(Error::<T>::NotJuror)?;
		ensure!(dispute.phase == phase, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < dispute.phase_ends, Error::<T>::DeadlinePassed);
		Ok((dispute, juror, index))
	}

	/// Whether `call`, signed by `signer`, is a duty: a juror's `commit_vote` or `reveal_vote`
	/// of the current round of a dispute it sits on (itself or as its agent's operator key), in
	/// the round's phase, not done yet, before the deadline; a side's `open_node`
	/// ([`Self::opening_duty`]); an executor's showing of its disputed item
	/// ([`Self::showing_duty`]). `None` for every other call. The runtime's transaction
	/// extension gives duties priority, and refuses calls that pretend to be duties.
	pub fn duty_of(signer: &T::AccountId, call: &Call<T>) -> DutyCheck<BlockNumberFor<T>> {
		let (task, phase, kind) = match call {
			Call::commit_vote { task, .. } => (*task, DisputePhase::Committing, 0u8),
			Call::reveal_vote { task, .. } => (*task, DisputePhase::Revealing, 1u8),
			Call::open_node { task, left, right } => {
				return Some(Self::opening_duty(signer, *task, &(*left, *right)))
			},
			Call::show_item_input { task, input, proof } => {
				return Self::showing_duty(signer, *task, ShowingPart::Input, |shown| {
					ensure!(shown.input.is_none(), DutyError::AlreadyDone);
					Self::input_accepted(shown, input, proof).map_err(|_| DutyError::Invalid)
				})
			},
			Call::show_item_output { task, output, proof } => {
				return Self::showing_duty(signer, *task, ShowingPart::Output, |shown| {
					ensure!(shown.output.is_none(), DutyError::AlreadyDone);
					Self::output_accepted(*task, shown, output, proof)
						.map_err(|_| DutyError::Invalid)
				})
			},
			_ => return None,
		};
		Some((|| {
			let dispute = Disputes::<T>::get(task).ok_or(DutyError::NotAssigned)?;
			let juror = T::AgentRegistry::agent_of(signer).ok_or(DutyError::NotAssigned)?;
			let seat =
				dispute.jury.iter().find(|s| s.juror == juror).ok_or(DutyError::NotAssigned)?;
			let done = match kind {
				0 => seat.commitment.is_some(),
				_ => seat.vote.is_some(),
			};
			ensure!(!done, DutyError::AlreadyDone);
			ensure!(dispute.phase == phase, DutyError::WrongPhase);
			// Only a juror that committed has a vote to reveal.
			ensure!(kind == 0 || seat.commitment.is_some(), DutyError::NotAssigned);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < dispute.phase_ends, DutyError::DeadlinePassed);
			Ok(Duty {
				tag: duty_tag(b"challenges", (task, dispute.round, kind, juror)),
				last_block: dispute.phase_ends.saturating_sub(One::one()),
			})
		})())
	}

	/// Whether `opening` opens `node`, a side's node at the current step of `bisection`
	/// (`merkle::opens_in_bisection`), and, at the leaves, does not claim an output hash the
	/// chain reserves for a verdict ([`ITEM_NOT_SHOWN`]), which would let a side be found right
	/// when nobody showed the item.
	pub(crate) fn opening_accepted(
		bisection: &Bisection<T::AccountId>,
		node: &H256,
		opening: &(H256, Option<H256>),
	) -> bool {
		(bisection.level != 0 || opening.0 != ITEM_NOT_SHOWN)
			&& agentchain_execution::merkle::opens_in_bisection(
				bisection.items,
				bisection.level,
				bisection.position,
				node,
				opening,
			)
	}

	/// Whether an `open_node` of `task` signed by `signer` is a duty: its agent is a side of the
	/// bisection that has not opened its node of the current step, before the step's deadline.
	fn opening_duty(
		signer: &T::AccountId,
		task: TaskId,
		opening: &(H256, Option<H256>),
	) -> Result<Duty<BlockNumberFor<T>>, DutyError> {
		let dispute = Disputes::<T>::get(task).ok_or(DutyError::NotAssigned)?;
		let bisection = Bisections::<T>::get(task).ok_or(DutyError::NotAssigned)?;
		let executor = T::AgentRegistry::agent_of(signer).ok_or(DutyError::NotAssigned)?;
		let side = bisection
			.sides
			.iter()
			.find(|side| side.executor == executor)
			.ok_or(DutyError::NotAssigned)?;
		ensure!(side.opening.is_none(), DutyError::AlreadyDone);
		ensure!(dispute.phase == DisputePhase::Bisecting, DutyError::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < dispute.phase_ends, DutyError::DeadlinePassed);
		// Only an opening dispatch accepts takes the lane: two hashes at most.
		ensure!(Self::opening_accepted(&bisection, &side.node, opening), DutyError::Invalid);
		Ok(Duty {
			tag: duty_tag(
				b"challenges",
				(task, bisection.level, bisection.position, 2u8, executor),
			),
			last_block: dispute.phase_ends.saturating_sub(One::one()),
		})
	}

	/// Whether a showing of `task`'s item signed by `signer` is a duty: the dispute is showing
	/// its item, `part` of it is not shown yet, the deadline has not passed, `check` accepts what
	/// the call shows, and the signer's agent revealed one of the dispute's outputs (an executor
	/// of the disputed root, or a side of a disagreement). Anyone may show: a valid showing by
	/// anyone else is ordinary traffic (`None`); only the executors, whose roots a missing
	/// showing finds wrong, take the lane, one showing of each part each. A showing dispatch
	/// would reject is refused whoever sends it, so that the operational class of the call
	/// gives nobody a way past ordinary traffic with calls that fail.
	fn showing_duty(
		signer: &T::AccountId,
		task: TaskId,
		part: ShowingPart,
		check: impl FnOnce(&ItemDispute<T>) -> Result<(), DutyError>,
	) -> DutyCheck<BlockNumberFor<T>> {
		(|| {
			let dispute = Disputes::<T>::get(task).ok_or(DutyError::NotAssigned)?;
			let shown = ItemDisputes::<T>::get(task).ok_or(DutyError::WrongPhase)?;
			ensure!(dispute.phase == DisputePhase::Showing, DutyError::WrongPhase);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < dispute.phase_ends, DutyError::DeadlinePassed);
			check(&shown)?;
			let party = T::AgentRegistry::agent_of(signer)
				.filter(|agent| dispute.revealed.iter().any(|(executor, _)| executor == agent));
			Ok(party.map(|executor| Duty {
				tag: duty_tag(b"challenges", (task, shown.item, part as u8 + 3, executor)),
				last_block: dispute.phase_ends.saturating_sub(One::one()),
			}))
		})()
		.transpose()
	}

	/// The claim `who` may appeal with: it must be on the side the current verdict goes
	/// against.
	fn losing_claim(dispute: &Dispute<T>, who: &T::AccountId) -> Option<Claim> {
		// A verdict of refusal finds nothing wrong: the challenger may appeal it, so that a
		// captured first jury cannot shield a wrong result by refusing it.
		if dispute.challenger() == Some(who)
			&& (!dispute.result_overturned() || dispute.refused_by_jury())
		{
			return Some(Claim::ResultWrong);
		}
		let agent = T::AgentRegistry::agent_of(who);
		dispute
			.revealed
			.iter()
			.find(|(executor, output)| {
				let lost = match dispute.verdict {
					Some(verdict) => verdict != *output,
					// Without a verdict a challenged or audited result stands; only a
					// disagreement goes against the executors.
					None => dispute.kind == DisputeKind::Disagreement,
				};
				(executor == who || agent.as_ref() == Some(executor))
					&& dispute.accuses(output)
					&& lost
			})
			.map(|(_, output)| Claim::OutputRight(*output))
	}

	/// The transition due when a dispute's current phase ends; returns its weight.
	fn process_deadline(task: TaskId, now: BlockNumberFor<T>) -> Weight {
		let Some(mut dispute) = Disputes::<T>::get(task) else {
			defensive!("a deadline of a dispute that is gone");
			return T::WeightInfo::on_initialize_idle();
		};
		if matches!(
			dispute.phase,
			DisputePhase::Committing
				| DisputePhase::Revealing
				| DisputePhase::Showing
				| DisputePhase::Bisecting
		) && Self::extend_if_congested(task, &mut dispute)
		{
			dispute.phase_ends = Queue::<T>::schedule(&task, dispute.phase_ends);
			Self::deposit_event(Event::DeadlineExtended { task, phase_ends: dispute.phase_ends });
			Disputes::<T>::insert(task, dispute);
			return T::WeightInfo::start_reveal();
		}
		match dispute.phase {
			DisputePhase::Drawing => {
				let round = dispute.round;
				match Self::draw_jury(task, &mut dispute, now) {
					Ok(jurors) => {
						JuryWaitingSince::<T>::remove(task);
						Self::deposit_event(Event::JuryDrawn {
							task,
							round,
							jurors,
							commit_deadline: dispute.phase_ends,
						});
						Disputes::<T>::insert(task, dispute);
						T::WeightInfo::draw_jury()
					},
					Err(_) if round == 0 && ItemDisputes::<T>::contains_key(task) => {
						// An item of a batch is judged or nobody gains: its first jury is drawn
						// again later (an executor that pauses verifiers it controls cannot end
						// its audit with the batch paid, nor a challenger take its bond back so)
						// until the wait's limit, when the batch ends unjudged: no root paid,
						// nobody slashed, the fee to the protocol account.
						Self::deposit_event(Event::JuryNotDrawn { task, round });
						let since = JuryWaitingSince::<T>::get(task).unwrap_or(now);
						if now.saturating_sub(since) >= T::JuryWaitLimit::get() {
							let executors = dispute.revealed.len() as u32;
							Self::close(task, dispute, true);
							return T::WeightInfo::draw_jury()
								.saturating_add(Self::close_weight(0, executors));
						}
						JuryWaitingSince::<T>::insert(task, since);
						dispute.phase_ends =
							Queue::<T>::schedule(&task, now.saturating_add(T::CommitPeriod::get()));
						Disputes::<T>::insert(task, dispute);
						T::WeightInfo::draw_jury()
					},
					Err(_) => {
						// The verifiers available when the round opened are not now (paused,
						// gone, or their stake taken by other work). The round is not held: the
						// bond that asked for it is returned, and the dispute closes on what was
						// decided before (nothing, in the first round).
						Self::deposit_event(Event::JuryNotDrawn { task, round });
						if round > 0 {
							if let Some(bond) = dispute.bonds.pop() {
								Self::return_bond(task, &bond);
							}
							dispute.round = round.saturating_sub(1);
						}
						let (owed, executors) =
							(dispute.owed.len() as u32, dispute.revealed.len() as u32);
						Self::close(task, dispute, round == 0);
						T::WeightInfo::draw_jury()
							.saturating_add(Self::close_weight(owed, executors))
					},
				}
			},
			DisputePhase::Committing => {
				dispute.phase = DisputePhase::Revealing;
				dispute.extended = false;
				dispute.phase_ends =
					Queue::<T>::schedule(&task, now.saturating_add(T::RevealPeriod::get()));
				Self::deposit_event(Event::VoteRevealPhaseStarted {
					task,
					reveal_deadline: dispute.phase_ends,
				});
				Disputes::<T>::insert(task, dispute);
				T::WeightInfo::start_reveal()
			},
			DisputePhase::Revealing => {
				let jury = dispute.jury.len() as u32;
				Self::count_votes(task, dispute, now)
					.saturating_add(T::WeightInfo::count_votes(jury))
			},
			DisputePhase::Appealable => {
				let (owed, executors) = (dispute.owed.len() as u32, dispute.revealed.len() as u32);
				Self::close(task, dispute, false);
				Self::close_weight(owed, executors)
			},
			DisputePhase::Showing => Self::end_showing(task, dispute, now),
			DisputePhase::Bisecting => Self::end_bisection_step(task, dispute),
		}
	}

	/// At a vote commit or reveal deadline, or an item's showing deadline: whether it is
	/// extended because the [`Config::CongestionGrace`] blocks before it were all full while a
	/// juror has not acted (or a part of the item is not shown), once per phase. Moves `phase_ends` on by
	/// [`Config::CongestionGrace`] if so (the caller schedules it).
	fn extend_if_congested(task: TaskId, dispute: &mut Dispute<T>) -> bool {
		let grace = T::CongestionGrace::get();
		let waiting = match dispute.phase {
			// An item's input or output hash not shown yet.
			DisputePhase::Showing => ItemDisputes::<T>::get(task)
				.map_or(false, |shown| shown.input.is_none() || shown.output.is_none()),
			// A side that has not opened its node yet.
			DisputePhase::Bisecting => Bisections::<T>::get(task)
				.map_or(false, |bisection| bisection.sides.iter().any(|s| s.opening.is_none())),
			_ => dispute.jury.iter().any(|seat| match dispute.phase {
				DisputePhase::Committing => seat.commitment.is_none(),
				_ => seat.commitment.is_some() && seat.vote.is_none(),
			}),
		};
		if dispute.extended
			|| !waiting
			|| !FullBlockLog::<T>::get().full_before(dispute.phase_ends, grace)
		{
			return false;
		}
		dispute.extended = true;
		dispute.phase_ends = dispute.phase_ends.saturating_add(grace);
		true
	}

	/// What `challenge_item` weighs: its benchmark, whose batch has one root, and the read of
	/// the root reconciled with the result that a batch with two makes for its view.
	pub(crate) fn challenge_item_weight() -> Weight {
		T::WeightInfo::challenge_item().saturating_add(T::DbWeight::get().reads(1))
	}

	/// The weight of closing a dispute, with the inference pallet's resolution.
	fn close_weight(owed: u32, executors: u32) -> Weight {
		T::WeightInfo::close(owed, executors)
			.max(T::WeightInfo::close_overturned(owed, executors))
			.max(T::WeightInfo::close_resuming(owed))
			.saturating_add(T::Tasks::max_resolve_weight())
	}

	/// The costliest transition a dispute's deadline makes ([`Self::process_deadline`]):
	/// counting the last round's votes of the largest jury then closing at once, a draw that
	/// finds no jury then closing, an item nobody showed closing, a bisection step a side did
	/// not complete, or a deadline moved on.
	pub fn transition_weight() -> Weight {
		let executors = T::MaxExecutors::get();
		let closing = Self::close_weight(MaxJurorsPerDispute::<T>::get(), executors);
		T::WeightInfo::count_votes(T::MaxJurySize::get())
			.saturating_add(closing)
			.max(T::WeightInfo::draw_jury().saturating_add(closing))
			.max(T::WeightInfo::end_showing().saturating_add(Self::close_weight(0, executors)))
			// Measured with its close on one path; the verdict's other paths are bounded by
			// the inference pallet's most.
			.max(T::WeightInfo::end_bisection_step().saturating_add(T::Tasks::max_resolve_weight()))
			.max(T::WeightInfo::start_reveal())
	}

	/// The most the deadline hook weighs in a block: [`Config::MaxDeadlineWeight`], or less
	/// when [`Config::MaxDeadlinesPerBlock`] of the costliest transition, each with its queue
	/// entry, after looking at as many blocks of the queue as a run may, weigh less.
	pub fn max_hook_weight() -> Weight {
		let count = Self::hook_weights().most(T::MaxDeadlinesPerBlock::get(), MAX_BLOCKS_PER_RUN);
		let budget = T::MaxDeadlineWeight::get();
		Weight::from_parts(
			count.ref_time().min(budget.ref_time()),
			count.proof_size().min(budget.proof_size()),
		)
	}

	/// What the deadline hook weighs: its idle run and its costliest transition, within
	/// [`Config::MaxDeadlineWeight`].
	pub(crate) fn hook_weights() -> HookWeights {
		HookWeights {
			idle: T::WeightInfo::on_initialize_idle(),
			transition: Self::transition_weight(),
			limit: T::MaxDeadlineWeight::get(),
			db: T::DbWeight::get(),
		}
	}
}
