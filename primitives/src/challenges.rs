//! Disputes over inference results, as pallets other than `pallet-challenges` and clients see
//! them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Why a result is disputed.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub enum DisputeKind<AccountId> {
	/// Someone bonded a challenge against the result.
	Challenge {
		/// Who challenged.
		challenger: AccountId,
	},
	/// Redundant executors revealed different outputs (exact-match mode).
	Disagreement,
	/// A random protocol audit, with no challenger.
	Audit,
}

/// Where a round of a dispute stands.
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
pub enum DisputePhase {
	/// Jurors re-execute the task and commit to a vote.
	Committing,
	/// Jurors reveal their votes.
	Revealing,
	/// The votes are counted; the losing side may appeal until the phase ends.
	Appealable,
	/// The round's jury is drawn when the phase ends (the block after the dispute or appeal
	/// opened), from the hash of the block it opened in.
	Drawing,
	/// A dispute over one item of a batch, before its first round: until the phase ends, anyone
	/// may show the item's input and the disputed root's output hash of it, each with its Merkle
	/// proof. Then the jury is drawn, or, when either was not shown, the root is found wrong on
	/// the item without one.
	Showing,
	/// A disagreement between the outputs roots of a batch's two executors, before its item is
	/// known: at each step until the phase ends, each executor opens its node of the bisection
	/// (`docs/batches.md`), down to the next item the roots differ on, whose dispute follows.
	/// An executor that does not open its node in time withheld what its root commits to: it
	/// pays a withheld reveal's slash and is out of the batch.
	Bisecting,
}
