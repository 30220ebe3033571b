//! Block-indexed deadline queues that never refuse an entry and never drop one.
//!
//! A pallet whose records move on when a phase ends (a task's commit deadline, a dispute's
//! reveal deadline) puts each record's id under the block where its phase ends. The queue lives
//! in two storage items of the pallet:
//!
//! - an entries map `(block, id) → ()`: any number of ids per block, one storage key each, so
//!   scheduling never fails and never depends on how many others chose the same block;
//! - a cursor: the earliest block that may still hold entries.
//!
//! Each block, the pallet's `on_initialize` takes due entries one at a time with
//! [`DeadlineQueue::process_due`], in block order, starting at the cursor, for as long as it has
//! room for another (at most `max_items`). Entries a block has no room for stay where they are
//! and are taken by the next blocks, before anything that falls due later: work is deferred,
//! never dropped, and never decided by a full queue. The work per block stays bounded whatever
//! the number of entries: the pallet's room, at most `max_items` entries, and at most
//! `max_blocks` blocks looked at.
//!
//! A deferred entry is processed on a later block than its deadline. The calls that act in a
//! phase check the deadline itself (`now < phase_ends`), not whether the entry was processed,
//! so nothing changes in between: deferring changes when an outcome is applied, not what it is.

use codec::FullCodec;
use core::marker::PhantomData;
use frame_support::{
	storage::{IterableStorageDoubleMap, StorageDoubleMap, StorageValue},
	weights::{RuntimeDbWeight, Weight},
};
use sp_runtime::traits::{One, Saturating};

/// What a pallet's deadline hook ([`DeadlineQueue::run_hook`]) weighs, from the pallet's
/// benchmarks and configuration.
#[derive(Clone, Copy, Debug)]
pub struct HookWeights {
	/// The hook with nothing due (its benchmark).
	pub idle: Weight,
	/// The costliest transition a due entry may make.
	pub transition: Weight,
	/// The most the hook may weigh in a block.
	pub limit: Weight,
	/// The runtime's database weights.
	pub db: RuntimeDbWeight,
}

impl HookWeights {
	/// What the hook weighs besides its transitions, having looked at `blocks` blocks of the
	/// queue (two key reads each at most): its idle run, and the pallet's `on_finalize` record
	/// of whether the block was full (one item read and written).
	pub fn overhead(&self, blocks: u32) -> Weight {
		self.idle
			.saturating_add(self.db.reads_writes(1, 1))
			.saturating_add(self.db.reads(2 * u64::from(blocks)))
	}

	/// Taking one entry out of the queue: its key read (two for a block's last) and its
	/// removal.
	pub fn entry(&self) -> Weight {
		entry_weight(self.db)
	}

	/// The most the hook weighs for `count` transitions, each the costliest, after looking at
	/// `blocks` blocks of the queue.
	pub fn most(&self, count: u32, blocks: u32) -> Weight {
		let per_entry = self.transition.saturating_add(self.entry());
		self.overhead(blocks).saturating_add(per_entry.saturating_mul(count.into()))
	}
}

/// Taking one entry out of a deadline queue with database weights `db`: its key read (two for a
/// block's last) and its removal.
pub fn entry_weight(db: RuntimeDbWeight) -> Weight {
	db.reads_writes(2, 1)
}

/// The deadline queue kept in `Entries` (a double map `(block, id) → ()`) and `Cursor` (a
/// value query holding the earliest block that may still hold entries).
pub struct DeadlineQueue<Entries, Cursor, BlockNumber, Id>(
	PhantomData<(Entries, Cursor, BlockNumber, Id)>,
);

impl<Entries, Cursor, BlockNumber, Id> DeadlineQueue<Entries, Cursor, BlockNumber, Id>
where
	Entries: IterableStorageDoubleMap<BlockNumber, Id, ()> + StorageDoubleMap<BlockNumber, Id, ()>,
	Cursor: StorageValue<BlockNumber, Query = BlockNumber>,
	BlockNumber: FullCodec + Copy + Ord + One + Saturating,
	Id: FullCodec + Clone,
{
	/// Queues `id` at block `at`, or at the cursor if `at` is behind it (a block whose entries
	/// were all taken already). Returns the block it was queued at. Never fails.
	pub fn schedule(id: &Id, at: BlockNumber) -> BlockNumber {
		let at = at.max(Cursor::get());
		Entries::insert(at, id, ());
		at
	}

	/// Takes `id` out of the queue of block `at`, if it is there.
	pub fn unschedule(id: &Id, at: BlockNumber) {
		Entries::remove(at, id);
	}

	/// Whether `id` is queued at block `at`.
	pub fn is_scheduled(id: &Id, at: BlockNumber) -> bool {
		Entries::contains_key(at, id)
	}

	/// Takes due entries one at a time, the earliest first, and hands each to `process` as it
	/// is taken, until `process` answers that there is no room for another, `max_items` were
	/// taken, or nothing is due by block `now`; steps over at most `max_blocks` blocks in all.
	/// What is not taken stays where it is, for the next runs, before anything due later.
	///
	/// The cursor is up to date whenever `process` runs: an entry it schedules lands at the
	/// cursor at the earliest, and is taken by this run or a later one, never left behind it.
	/// Each entry costs one key read and its removal; the last of a block, one more read, from
	/// the block's start, which steps over the keys removed from it (once a block). Each block
	/// looked at costs at most two key reads more. Returns how many entries were taken and how many
	/// blocks were looked at.
	pub fn process_due(
		now: BlockNumber,
		max_items: u32,
		max_blocks: u32,
		mut process: impl FnMut(BlockNumber, Id) -> bool,
	) -> (u32, u32) {
		let mut block = Cursor::get();
		let (mut taken, mut looked) = (0u32, 0u32);
		let mut looking = false;
		// The raw key of the entry last taken from `block`: the next is read after it, so
		// that the entries removed before it are not stepped over again.
		let mut after: Option<alloc::vec::Vec<u8>> = None;
		// The block last written to the cursor.
		let mut written: Option<BlockNumber> = None;
		while block <= now && taken < max_items {
			if !looking {
				if looked >= max_blocks.max(1) {
					break;
				}
				looked = looked.saturating_add(1);
				looking = true;
			}
			let next = after
				.take()
				.and_then(|key| Entries::iter_key_prefix_from(block, key).next())
				// Read from the block's start again: `process` may have queued an entry at
				// the cursor, before the last one taken.
				.or_else(|| Entries::iter_key_prefix(block).next());
			let Some(id) = next else {
				block = block.saturating_add(One::one());
				looking = false;
				continue;
			};
			after = Some(Entries::hashed_key_for(block, &id));
			Entries::remove(block, &id);
			taken = taken.saturating_add(1);
			if written != Some(block) {
				Cursor::put(block);
				written = Some(block);
			}
			if !process(block, id) {
				break;
			}
		}
		Cursor::put(block);
		(taken, looked)
	}

	/// Puts `lists` (each block with the ids queued at it, as a migration from another queue
	/// layout finds them) into the queue, and starts the cursor at the earliest of their blocks,
	/// or at `now` if that is earlier. Returns how many blocks and entries were written.
	pub fn import<L: IntoIterator<Item = Id>>(
		lists: impl IntoIterator<Item = (BlockNumber, L)>,
		now: BlockNumber,
	) -> (u64, u64) {
		let (mut blocks, mut entries) = (0u64, 0u64);
		let mut cursor = now;
		for (block, ids) in lists {
			blocks = blocks.saturating_add(1);
			cursor = cursor.min(block);
			for id in ids {
				Entries::insert(block, id, ());
				entries = entries.saturating_add(1);
			}
		}
		Cursor::put(cursor);
		(blocks, entries)
	}

	/// A pallet's deadline hook at block `now`: takes due entries (at most `max_items`, looking
	/// at most at `max_blocks` blocks) and makes each one's transition, charged what it did, for
	/// as long as the costliest could still fit in `weights.limit` with the hook's overhead:
	/// a block takes as many transitions as its budget holds, whatever their number, and never
	/// weighs more than the limit, whatever is due. Returns what the hook weighed.
	///
	/// A limit that does not hold one costliest transition takes none (the pallets' integrity
	/// tests refuse such a configuration).
	pub fn run_hook(
		now: BlockNumber,
		max_items: u32,
		max_blocks: u32,
		weights: &HookWeights,
		mut transition: impl FnMut(Id) -> Weight,
	) -> Weight {
		let per_entry = weights.transition.saturating_add(weights.entry());
		let budget = weights.limit.saturating_sub(weights.overhead(max_blocks));
		let fits = |used: Weight| used.saturating_add(per_entry).all_lte(budget);
		let mut used = Weight::zero();
		if !fits(used) {
			frame_support::defensive!("the deadline hook's limit holds no transition");
			return weights.overhead(0);
		}
		let (_, blocks) = Self::process_due(now, max_items, max_blocks, |_, id| {
			used = used.saturating_add(transition(id)).saturating_add(weights.entry());
			fits(used)
		});
		weights.overhead(blocks).saturating_add(used)
	}

	/// The earliest block that may still hold entries.
	pub fn cursor() -> BlockNumber {
		Cursor::get()
	}

	/// Every queued entry, as `(block, id)` (for `try_state`; unbounded).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn all() -> alloc::vec::Vec<(BlockNumber, Id)> {
		Entries::iter().map(|(block, id, ())| (block, id)).collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::{storage_alias, Twox64Concat};

	#[storage_alias]
	type Entries = StorageDoubleMap<Queue, Twox64Concat, u64, Twox64Concat, u32, ()>;
	#[storage_alias]
	type Cursor = StorageValue<Queue, u64, frame_support::pallet_prelude::ValueQuery>;
	type Q = DeadlineQueue<Entries, Cursor, u64, u32>;

	/// Takes every entry `process_due` hands over, up to `max_items`: the entries, each with
	/// its block, and the blocks looked at.
	fn take(now: u64, max_items: u32, max_blocks: u32) -> (alloc::vec::Vec<(u64, u32)>, u32) {
		let mut entries = alloc::vec::Vec::new();
		let (_, blocks) = Q::process_due(now, max_items, max_blocks, |block, id| {
			entries.push((block, id));
			true
		});
		(entries, blocks)
	}

	#[test]
	fn scheduling_never_fails_and_unscheduling_removes_the_entry() {
		sp_io::TestExternalities::default().execute_with(|| {
			for id in 0..1_000 {
				assert_eq!(Q::schedule(&id, 5), 5);
			}
			assert!(Q::is_scheduled(&7, 5));
			Q::unschedule(&7, 5);
			assert!(!Q::is_scheduled(&7, 5));
			assert_eq!(Q::all().len(), 999);
		});
	}

	#[test]
	fn a_full_block_defers_the_rest_in_order_and_never_drops_it() {
		sp_io::TestExternalities::default().execute_with(|| {
			for id in 0..5 {
				Q::schedule(&id, 3);
			}
			Q::schedule(&100, 4);
			// Block 3 takes two; the three others wait, before block 4's entry.
			assert_eq!(take(3, 2, 16).0.len(), 2);
			assert_eq!(Q::cursor(), 3);
			let (due, _) = take(4, 2, 16);
			assert!(due.iter().all(|(block, _)| *block == 3));
			let blocks: alloc::vec::Vec<u64> = take(5, 2, 16).0.iter().map(|e| e.0).collect();
			assert_eq!(blocks, vec![3, 4]);
			assert!(Q::all().is_empty());
			// A run that fills its room cannot know the block is empty: the next run steps on.
			assert_eq!(Q::cursor(), 4);
			assert!(take(5, 2, 16).0.is_empty());
			assert_eq!(Q::cursor(), 6);
			// Nothing is ever scheduled behind the cursor, where it would never be taken.
			assert_eq!(Q::schedule(&200, 2), 6);
		});
	}

	#[test]
	fn processing_stops_when_there_is_no_room_and_the_rest_waits_in_order() {
		sp_io::TestExternalities::default().execute_with(|| {
			for id in 0..5 {
				Q::schedule(&id, 3);
			}
			Q::schedule(&100, 4);
			let mut seen = alloc::vec::Vec::new();
			// Room for three: the third answers there is none left.
			let (taken, _) = Q::process_due(4, 100, 16, |block, id| {
				seen.push((block, id));
				seen.len() < 3
			});
			assert_eq!(taken, 3);
			assert!(seen.iter().all(|(block, _)| *block == 3));
			assert_eq!(Q::cursor(), 3);
			assert_eq!(Q::all().len(), 3);
			// The next run takes block 3's two others before block 4's entry.
			let mut rest = alloc::vec::Vec::new();
			assert_eq!(
				Q::process_due(5, 100, 16, |block, id| {
					rest.push((block, id));
					true
				}),
				(3, 3)
			);
			assert_eq!(rest.iter().map(|e| e.0).collect::<alloc::vec::Vec<_>>(), vec![3, 3, 4]);
			let mut all: alloc::vec::Vec<u32> =
				seen.iter().chain(rest.iter()).map(|e| e.1).collect();
			all.sort();
			assert_eq!(all, vec![0, 1, 2, 3, 4, 100]);
			assert!(Q::all().is_empty());
			assert_eq!(Q::cursor(), 6);
			// And `max_items` bounds a run whatever room is left.
			for id in 0..10 {
				Q::schedule(&id, 6);
			}
			assert_eq!(Q::process_due(6, 4, 16, |_, _| true).0, 4);
			assert_eq!(Q::all().len(), 6);
		});
	}

	#[test]
	fn an_entry_queued_while_processing_is_taken_never_left_behind_the_cursor() {
		sp_io::TestExternalities::default().execute_with(|| {
			for id in 10..14 {
				Q::schedule(&id, 3);
			}
			let mut seen = alloc::vec::Vec::new();
			Q::process_due(3, 100, 16, |block, id| {
				seen.push(id);
				if id == 12 {
					// Queued behind the cursor, and at its block: both land at block 3.
					assert_eq!(Q::schedule(&1, 1), 3);
					assert_eq!(Q::schedule(&99, 3), 3);
				}
				// Queued after `now`: left for its block.
				if id == 13 {
					Q::schedule(&7, 8);
				}
				assert_eq!(block, 3);
				true
			});
			seen.sort();
			assert_eq!(seen, vec![1, 10, 11, 12, 13, 99]);
			assert_eq!(Q::all(), vec![(8, 7)]);
			assert_eq!(Q::cursor(), 4);
		});
	}

	#[test]
	fn empty_blocks_stepped_over_are_bounded_per_run() {
		sp_io::TestExternalities::default().execute_with(|| {
			Q::schedule(&1, 40);
			let (due, blocks) = take(40, 10, 16);
			assert!(due.is_empty());
			assert_eq!((blocks, Q::cursor()), (16, 16));
			let (_, blocks) = take(40, 10, 16);
			assert_eq!((blocks, Q::cursor()), (16, 32));
			let (due, _) = take(40, 10, 16);
			assert_eq!(due, vec![(40, 1)]);
			assert_eq!(Q::cursor(), 41);
			// The same bound when the processing answers it has room for more.
			Q::schedule(&2, 80);
			assert_eq!(Q::process_due(80, 10, 16, |_, _| true), (0, 16));
			assert_eq!(Q::cursor(), 57);
			assert_eq!(Q::process_due(80, 10, 16, |_, _| true), (0, 16));
			assert_eq!(Q::process_due(80, 10, 16, |_, _| true), (1, 8));
			assert_eq!(Q::cursor(), 81);
		});
	}

	/// The hook takes transitions charged what each did while the costliest still fits: with a
	/// limit of two costliest, cheap transitions fill it further; it never weighs more than the
	/// limit, defers the rest in order, and takes none under a limit that holds no transition.
	#[test]
	fn the_hook_takes_what_its_limit_holds_and_defers_the_rest() {
		sp_io::TestExternalities::default().execute_with(|| {
			let weights = HookWeights {
				idle: Weight::from_parts(1_000, 0),
				transition: Weight::from_parts(10_000, 0),
				limit: Weight::zero(),
				db: RuntimeDbWeight { read: 100, write: 200 },
			};
			let limit = weights.most(2, 16);
			let weights = HookWeights { limit, ..weights };
			for id in 0..8 {
				Q::schedule(&id, 5);
			}
			let run = |cost: u64| {
				let mut taken = alloc::vec::Vec::new();
				let used = Q::run_hook(5, 100, 16, &weights, |id| {
					taken.push(id);
					Weight::from_parts(cost, 0)
				});
				assert!(used.all_lte(limit), "{used} > {limit}");
				taken
			};
			// Each at the costliest: two.
			assert_eq!(run(10_000).len(), 2);
			// Each a fifth of it: room for the costliest after each of the first four (and
			// every entry's removal).
			assert_eq!(run(2_000).len(), 5);
			assert_eq!(Q::all().len(), 1, "the rest stays queued");
			// A limit that does not hold one transition takes none (a broken invariant: in a
			// debug build, `defensive!` panics).
			#[cfg(not(debug_assertions))]
			{
				let tight = HookWeights {
					limit: weights.most(1, 16) - Weight::from_parts(1, 0),
					..weights
				};
				assert_eq!(Q::run_hook(5, 100, 16, &tight, |_| Weight::zero()), tight.overhead(0));
				assert_eq!(Q::all().len(), 1);
			}
		});
	}
}
