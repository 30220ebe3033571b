//! Types stored by the challenges pallet.

use crate::{BalanceOf, Config, MaxBonds, MaxJurorsPerDispute};
use agentchain_primitives::{
	challenges::{DisputeKind, DisputePhase},
	inference::VerificationMode,
	ModelId,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::ConstU32, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;

/// What a bond backs: it is returned when the final verdict agrees, forfeited otherwise.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Claim {
	/// The disputed result is wrong (a challenger's claim).
	ResultWrong,
	/// This output is the correct one (an executor's claim, when it appeals).
	OutputRight(H256),
}

/// A bond posted in a dispute: a challenge or an appeal.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Bond<AccountId, Balance> {
	/// Who posted it (the funds are held from this account).
	pub who: AccountId,
	/// How much is held.
	pub amount: Balance,
	/// What it backs.
	pub claim: Claim,
}

/// A juror's seat in the current round.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Seat<AccountId> {
	/// The juror (a verifier agent, by its owner account).
	pub juror: AccountId,
	/// `blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror)`, once committed.
	pub commitment: Option<H256>,
	/// The revealed vote, once revealed.
	pub vote: Option<H256>,
}

/// Everything the chain records about a dispute. A task has at most one; appeals are further
/// rounds of it.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Dispute<T: Config> {
	/// Why the result is disputed.
	pub kind: DisputeKind<T::AccountId>,
	/// Who paid for the task.
	pub requester: T::AccountId,
	/// The model the task ran.
	pub model: ModelId,
	/// How results are compared, and so what jurors vote.
	pub mode: VerificationMode,
	/// Whether the task's input is a reference kept off chain (jurors who cannot obtain it
	/// vote `INPUT_UNAVAILABLE`).
	pub input_is_reference: bool,
	/// The task's fee: challenge and appeal bonds scale with it.
	pub fee: BalanceOf<T>,
	/// The fee share of one executor: a wrong result's slash scales with it.
	pub share: BalanceOf<T>,
	/// Each executor that revealed, with its output hash.
	pub revealed: BoundedVec<(T::AccountId, H256), T::MaxExecutors>,
	/// The disputed result (`None` for a disagreement, where no result stands).
	pub result: Option<H256>,
	/// The round: 0 for the first jury, then one more per appeal.
	pub round: u32,
	/// Where the current round stands.
	pub phase: DisputePhase,
	/// The block at which the current phase ends: the dispute sits in that block's queue.
	pub phase_ends: BlockNumberFor<T>,
	/// The jurors of the current round.
	pub jury: BoundedVec<Seat<T::AccountId>, T::MaxJurySize>,
	/// The verdict of the last round counted: the output the majority voted for (`None`: no
	/// majority, or no votes).
	pub verdict: Option<H256>,
	/// Bonds posted: the challenge, then appeals.
	pub bonds: BoundedVec<Bond<T::AccountId, BalanceOf<T>>, MaxBonds<T>>,
	/// Jurors who voted with the majority of their round, with their vote: paid when the
	/// dispute closes if the final verdict is their vote.
	pub owed: BoundedVec<(T::AccountId, H256), MaxJurorsPerDispute<T>>,
	/// Jurors who revealed in a round that reached no majority: paid from the bonds if the
	/// dispute ends without a verdict.
	pub unpaid: BoundedVec<T::AccountId, MaxJurorsPerDispute<T>>,
	/// Jurors of earlier rounds, never drawn again for this dispute.
	pub past_jurors: BoundedVec<T::AccountId, MaxJurorsPerDispute<T>>,
	/// The stake each juror reserves for its seat.
	pub juror_collateral: BalanceOf<T>,
	/// Whether the current phase's deadline was extended because blocks before it were full.
	pub extended: bool,
}

impl<T: Config> Dispute<T> {
	/// Whether an executor's output is accused by this dispute: in a disagreement every output
	/// is; otherwise the disputed result is.
	pub fn accuses(&self, output: &H256) -> bool {
		match self.kind {
			DisputeKind::Disagreement => true,
			_ => self.result == Some(*output),
		}
	}

	/// The challenger, if any.
	pub fn challenger(&self) -> Option<&T::AccountId> {
		match &self.kind {
			DisputeKind::Challenge { challenger } => Some(challenger),
			_ => None,
		}
	}

	/// Whether the verdict is [`REFUSED_HASH`](crate::REFUSED_HASH): a majority of the jury's
	/// endpoints refused the prompt on their content policy.
	pub fn refused_by_jury(&self) -> bool {
		self.verdict == Some(crate::REFUSED_HASH)
	}

	/// Whether the current verdict finds the disputed result wrong.
	pub fn result_overturned(&self) -> bool {
		match (self.verdict, self.result) {
			(Some(verdict), Some(result)) => verdict != result,
			_ => false,
		}
	}
}

/// What a dispute over one item of a batch adds to its [`Dispute`]: which item, and what has
/// been shown of it. Kept from the dispute's opening to its close.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ItemDispute<T: Config> {
	/// The item judged, `0..items`.
	pub item: u32,
	/// How many items the batch has.
	pub items: u32,
	/// The Merkle root of the batch's input hashes: the input shown is checked against it.
	pub inputs_root: H256,
	/// The disputed outputs root: the output hash shown is checked against it.
	pub outputs_root: H256,
	/// The item's input, once shown: what the jurors run.
	pub input: Option<BoundedVec<u8, T::MaxItemLen>>,
	/// The disputed root's output hash of the item (its leaf), once shown: what the jurors'
	/// votes are compared with.
	pub output: Option<H256>,
}

/// One side of a bisection: an executor, its outputs root, its node at the game's current step,
/// and what it has opened of that node in this step.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct BisectionSide<AccountId> {
	/// The executor (its agent account).
	pub executor: AccountId,
	/// The outputs root it revealed.
	pub root: H256,
	/// Its node at the current level and position (its root at the roots' level).
	pub node: H256,
	/// What it opened its node into in the current step (`agentchain_execution::merkle::Opening`).
	pub opening: Option<(H256, Option<H256>)>,
}

/// A disagreement between the outputs roots of a batch's two executors, refereed one level of
/// their trees at a time down to an item they differ on (`docs/batches.md`). Kept while its
/// dispute is [`DisputePhase::Bisecting`], then, while that item is judged, as a
/// [`SuspendedBisections`](crate::SuspendedBisections) entry.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Bisection<AccountId> {
	/// How many items the batch has.
	pub items: u32,
	/// The Merkle root of the batch's input hashes (for the item dispute that follows).
	pub inputs_root: H256,
	/// The current level: `merkle::root_level(items)` for the roots, down to 0 for the leaves.
	pub level: u32,
	/// The current node's position in its level.
	pub position: u32,
	/// The two sides.
	pub sides: [BisectionSide<AccountId>; 2],
}

/// Most forks a bisection keeps: one a level at most, and a tree of up to `u32::MAX` items has
/// 32 levels below its top.
pub const MAX_FORKS: u32 = 32;

/// A bisection's disagreement beyond its current step, kept while it goes on past each item
/// the roots differ on (`docs/batches.md`, problem 9): where it resumes once that item is
/// judged, and what the items judged so far decided.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct BisectionGame {
	/// The subtrees the game passed by where the two sides differ too, each a place
	/// (`agentchain_execution::merkle::Place`: level, position, each side's node), the deepest
	/// and so the nearest last: every difference under them comes after the current one.
	pub forks: BoundedVec<(u32, u32, H256, H256), ConstU32<MAX_FORKS>>,
	/// The items judged so far (at most `MAX_ITEMS_FOUND_WRONG`, the batch's item disputes).
	pub judged: u32,
	/// Of those, how many each side (in the bisection's order) was found wrong on. A verdict of
	/// refusal counts for neither.
	pub lost: [u32; 2],
}
