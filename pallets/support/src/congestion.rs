//! Which recent blocks were full.
//!
//! A duty with a deadline (a commit, a reveal, a vote) can be kept out of full blocks by traffic
//! its sender does not control. Pallets record, as each block finishes, whether its ordinary
//! share was full, and a deadline whose last blocks were all full can then be extended, once,
//! rather than deciding who is slashed.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{dispatch::DispatchClass, traits::Get};
use scale_info::TypeInfo;
use sp_runtime::{traits::AtLeast32BitUnsigned, SaturatedConversion};

/// How many recent blocks a [`FullBlocks`] remembers.
pub const REMEMBERED: u64 = 64;

/// Whether each of the last [`REMEMBERED`] blocks up to `last` was full: bit `i` of `bits` is
/// block `last - i`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub struct FullBlocks<BlockNumber> {
	/// The last block recorded.
	pub last: BlockNumber,
	/// One bit a block, the last one lowest.
	pub bits: u64,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> FullBlocks<BlockNumber> {
	/// Records whether `block`, later than every block recorded so far, was full.
	pub fn record(&mut self, block: BlockNumber, full: bool) {
		let shift: u64 = block.saturating_sub(self.last).saturated_into();
		self.bits = if shift >= REMEMBERED { 0 } else { self.bits << shift };
		if full {
			self.bits |= 1;
		}
		self.last = block;
	}

	/// Whether every block from `from` to `to` (both included, `from <= to`) was recorded full.
	/// Blocks not recorded (too old, or not finished) count as not full.
	pub fn all_full(&self, from: BlockNumber, to: BlockNumber) -> bool {
		if from > to || to > self.last {
			return false;
		}
		let newest: u64 = self.last.saturating_sub(to).saturated_into();
		let oldest: u64 = self.last.saturating_sub(from).saturated_into();
		oldest < REMEMBERED && (newest..=oldest).all(|age| self.bits & (1 << age) != 0)
	}

	/// Whether the `grace` blocks before `deadline` were all recorded full: the rule by which a
	/// duty's deadline is extended. False for a `grace` of zero.
	pub fn full_before(&self, deadline: BlockNumber, grace: BlockNumber) -> bool {
		let last = deadline.saturating_sub(BlockNumber::one());
		self.all_full(last.saturating_sub(grace).saturating_add(BlockNumber::one()), last)
	}
}

/// Whether the block being built is full: its `Normal` (ordinary) share of weight is at least
/// 90 % used. Weight only: the block's length counts every class and is cheap to fill with bytes,
/// so it would let anyone buy an extension with one large remark. Reads only whitelisted storage.
pub fn current_block_is_full<T: frame_system::Config>() -> bool {
	let weights = T::BlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let max_weight = normal.max_total.unwrap_or(weights.max_block);
	let used = *frame_system::BlockWeight::<T>::get().get(DispatchClass::Normal);
	used.ref_time().saturating_mul(10) >= max_weight.ref_time().saturating_mul(9)
		|| used.proof_size().saturating_mul(10) >= max_weight.proof_size().saturating_mul(9)
}

/// Uses up the `Normal` share of the block being built, as a flood of ordinary traffic would:
/// for tests and benchmarks of what follows full blocks.
pub fn fill_normal_share<T: frame_system::Config>() {
	let weights = T::BlockWeights::get();
	let max = weights.get(DispatchClass::Normal).max_total.unwrap_or(weights.max_block);
	frame_system::BlockWeight::<T>::mutate(|used| used.set(max, DispatchClass::Normal));
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn full_blocks_are_remembered_for_64_blocks() {
		let mut log = FullBlocks::<u32>::default();
		log.record(10, true);
		log.record(11, false);
		log.record(12, true);
		log.record(13, true);
		assert!(log.all_full(10, 10));
		assert!(!log.all_full(10, 11), "block 11 had room");
		assert!(log.all_full(12, 13));
		assert!(!log.all_full(12, 14), "block 14 is not recorded yet");
		assert!(!log.all_full(13, 12));
		log.record(13 + 50, false);
		assert!(log.all_full(12, 13), "50 blocks later, still remembered");
		log.record(12 + 64, false);
		assert!(!log.all_full(12, 13), "64 blocks later, forgotten");
		assert!(log.all_full(13, 13));
		log.record(1_000, true);
		assert!(log.all_full(1_000, 1_000));
		assert!(!log.all_full(999, 1_000), "blocks skipped count as not full");
		assert!(log.full_before(1_001, 1));
		assert!(!log.full_before(1_001, 2));
		assert!(!log.full_before(1_001, 0), "no grace, no extension");
	}
}
