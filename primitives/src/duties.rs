//! Protocol duties: the transactions that must land before a deadline.
//!
//! An executor's `commit` and `reveal`, a juror's `commit_vote` and `reveal_vote`, a side's
//! `open_node`, a disputed executor's showing of its item, and an agent's due `heartbeat` are
//! duties: missing their deadline costs stake (or, for a heartbeat,
//! work). The runtime's transaction extension asks the pallets whether a call is a duty of its
//! signer; a duty enters the transaction pool and the block ahead of ordinary traffic, and a
//! call that pretends to be one (its signer is not assigned, the duty is done, or its deadline
//! passed) is refused before it reaches the pool, so the priority lane cannot be spammed.

use alloc::vec::Vec;

/// A duty a transaction fulfils.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Duty<BlockNumber> {
	/// What the duty is, as a transaction-pool tag: one transaction per duty is kept, so that a
	/// resent duty replaces the earlier one only with a higher priority.
	pub tag: Vec<u8>,
	/// The last block in which the duty may be included.
	pub last_block: BlockNumber,
}

/// Why a call that only a duty may make is refused at validation. The codes are those of
/// `InvalidTransaction::Custom`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum DutyError {
	/// The signer is not assigned to the task or dispute (nor the operator key of an agent
	/// that is), or the task or dispute does not exist.
	NotAssigned = 101,
	/// The task or dispute is not in the phase this duty belongs to.
	WrongPhase = 102,
	/// The duty is already done (committed or revealed).
	AlreadyDone = 103,
	/// The duty's deadline has passed.
	DeadlinePassed = 104,
	/// The call would not fulfil the duty: its arguments fail the check dispatch makes (an
	/// opening of a bisection node that does not hash to the side's node, a showing of an item
	/// whose bytes or hash its Merkle proof does not prove).
	Invalid = 105,
}

/// What a pallet says of a call: `None` for a call that is no duty (ordinary traffic), or the
/// duty it fulfils, or why its signer may not make it now.
pub type DutyCheck<BlockNumber> = Option<Result<Duty<BlockNumber>, DutyError>>;

/// The tag of a duty: `domain`, then the SCALE encoding of what identifies it.
pub fn duty_tag(domain: &[u8], what: impl codec::Encode) -> Vec<u8> {
	let mut tag = domain.to_vec();
	what.encode_to(&mut tag);
	tag
}
