//! Seeds from the hash of a chosen block.
//!
//! A draw run by a transaction, seeded with the parent hash of its block, can be simulated by
//! anyone who chooses when to act: the parent hash is known before the block is built.
//! AgentChain's pallets therefore draw only in the per-block hook, before any transaction of
//! the block, from the hash of the block before: the block in which the party who triggered the
//! draw acted (a requester's `submit_task`, a challenger's `challenge`, an appellant's
//! `appeal`), or a later one when a full queue defers the draw. Whoever acts in that block does
//! not know its hash, and nothing after it changes the state the draw reads. Only the author of
//! that block can still bias it, by choosing which transactions to include or by withholding the
//! block (and its reward); see `docs/economics.md`.

use core::marker::PhantomData;
use frame_system::pallet_prelude::BlockNumberFor;

/// A seed tied to a block: `random_at(subject, block)` is the same whenever it is asked, once
/// `block` is sealed, and unknown to everyone before it is (but to its author).
pub trait BlockRandomness<BlockNumber> {
	/// A 32-byte seed for `subject` from the hash of `block`, which must be sealed (an earlier
	/// block than the one executing). `None` for a block not sealed yet, or too old for its
	/// hash to be kept: the caller decides what fails closed, never a seed somebody could
	/// choose by picking when to ask.
	fn random_at(subject: &[u8], block: BlockNumber) -> Option<[u8; 32]>;
}

/// [`BlockRandomness`] from the block hashes `frame_system` keeps (`BlockHashCount` of them).
pub struct BlockHashRandomness<T>(PhantomData<T>);

impl<T: frame_system::Config> BlockRandomness<BlockNumberFor<T>> for BlockHashRandomness<T> {
	fn random_at(subject: &[u8], block: BlockNumberFor<T>) -> Option<[u8; 32]> {
		use codec::Encode;
		use sp_runtime::traits::{One, Saturating};
		let now = frame_system::Pallet::<T>::block_number();
		let hash = if block.saturating_add(One::one()) == now {
			// The parent block: its hash is always kept.
			Some(frame_system::Pallet::<T>::parent_hash())
		} else {
			(block < now)
				.then(|| frame_system::Pallet::<T>::block_hash(block))
				.filter(|hash| *hash != T::Hash::default())
		};
		hash.map(|hash| sp_io::hashing::blake2_256(&(subject, hash).encode()))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::derive_impl;
	use sp_core::H256;
	use sp_runtime::BuildStorage;

	type Block = frame_system::mocking::MockBlock<Test>;

	#[frame_support::runtime]
	mod runtime {
		#[runtime::runtime]
		#[runtime::derive(RuntimeCall, RuntimeEvent, RuntimeError, RuntimeOrigin, RuntimeTask)]
		pub struct Test;

		#[runtime::pallet_index(0)]
		pub type System = frame_system;
	}

	#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
	impl frame_system::Config for Test {
		type Block = Block;
	}

	type R = BlockHashRandomness<Test>;

	#[test]
	fn a_seed_is_tied_to_its_block_and_asked_any_time_later_it_is_the_same() {
		let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		sp_io::TestExternalities::new(storage).execute_with(|| {
			let seal = |n: u64| {
				System::initialize(&n, &H256::repeat_byte(n as u8 - 1), &Default::default())
			};
			(1..=6).for_each(seal);
			let at_six = R::random_at(b"draw", 5);
			assert!(at_six.is_some());
			(7..=9).for_each(seal);
			assert_eq!(R::random_at(b"draw", 5), at_six, "the seed of block 5 does not move");
			assert_ne!(R::random_at(b"draw", 4), at_six);
			assert_ne!(R::random_at(b"other", 5), at_six);
			assert_eq!(
				R::random_at(b"draw", 8),
				Some(sp_io::hashing::blake2_256(&(&b"draw"[..], H256::repeat_byte(8)).encode()))
			);
			// Nobody can ask for the future (the block executing is not sealed), nor for a hash
			// no longer kept: the caller decides what fails closed.
			assert_eq!(R::random_at(b"draw", 9), None);
			assert_eq!(R::random_at(b"draw", 10), None);
			frame_system::BlockHash::<Test>::remove(2);
			assert_eq!(R::random_at(b"draw", 2), None);
		});
	}

	use codec::Encode;
}
