//! The pallet's invariants, checked by `try_state` and after every unit test.

use super::*;

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants (used by `try_state`, and by tests after every test).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut queued: BTreeMap<TaskId, u32> = BTreeMap::new();
		let cursor = Queue::<T>::cursor();
		for (block, task) in Queue::<T>::all() {
			*queued.entry(task).or_default() += 1;
			let dispute =
				Disputes::<T>::get(task).ok_or("a deadline queue points to no dispute")?;
			ensure!(dispute.phase_ends == block, "a dispute is queued at a block not its own");
			ensure!(block >= cursor, "a dispute is queued behind the cursor");
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
			match dispute.phase {
				DisputePhase::Committing | DisputePhase::Revealing => {
					ensure!(!dispute.jury.is_empty(), "a round without jurors")
				},
				DisputePhase::Drawing | DisputePhase::Appealable => {
					ensure!(dispute.jury.is_empty(), "jurors seated outside a round")
				},
				DisputePhase::Showing => {
					ensure!(dispute.jury.is_empty(), "jurors seated before an item is shown");
					ensure!(dispute.round == 0, "an item shown after a round");
					ensure!(ItemDisputes::<T>::contains_key(task), "an item shown of no batch");
				},
				DisputePhase::Bisecting => {
					ensure!(dispute.jury.is_empty(), "jurors seated during a bisection");
					ensure!(dispute.round == 0, "a bisection after a round");
					ensure!(Bisections::<T>::contains_key(task), "a bisection of no roots");
				},
			}
		}
		for (task, since) in JuryWaitingSince::<T>::iter() {
			let dispute =
				Disputes::<T>::get(task).ok_or("a jury waited for without its dispute")?;
			ensure!(
				dispute.phase == DisputePhase::Drawing && dispute.round == 0,
				"a jury waited for out of the first draw"
			);
			ensure!(ItemDisputes::<T>::contains_key(task), "a jury waited for a task's dispute");
			ensure!(
				since <= frame_system::Pallet::<T>::block_number(),
				"a jury waited for since a block to come"
			);
		}
		for (task, bisection) in Bisections::<T>::iter() {
			use agentchain_execution::merkle::{level_width, root_level};
			let dispute = Disputes::<T>::get(task).ok_or("a bisection without its dispute")?;
			ensure!(dispute.phase == DisputePhase::Bisecting, "a bisection out of its phase");
			ensure!(!ItemDisputes::<T>::contains_key(task), "a bisection with its item known");
			let level = bisection.level;
			ensure!(level <= root_level(bisection.items), "a bisection above the roots");
			ensure!(
				level == root_level(bisection.items)
					|| bisection.position < level_width(bisection.items, level),
				"a bisection past its level's nodes"
			);
			let [a, b] = &bisection.sides;
			ensure!(a.node != b.node, "the sides of a bisection agree on its node");
			for side in &bisection.sides {
				ensure!(
					dispute
						.revealed
						.iter()
						.any(|(e, root)| *e == side.executor && *root == side.root),
					"a side of a bisection that revealed another root"
				);
			}
		}
		for (task, bisection) in SuspendedBisections::<T>::iter() {
			let dispute =
				Disputes::<T>::get(task).ok_or("a suspended bisection without its dispute")?;
			ensure!(dispute.kind == DisputeKind::Disagreement, "a bisection of no disagreement");
			ensure!(!Bisections::<T>::contains_key(task), "a bisection both open and suspended");
			ensure!(
				ItemDisputes::<T>::contains_key(task),
				"a bisection suspended with no item judged"
			);
			ensure!(bisection.level == 0, "a bisection suspended above its leaves");
		}
		for (task, game) in BisectionGames::<T>::iter() {
			ensure!(
				Bisections::<T>::contains_key(task) || SuspendedBisections::<T>::contains_key(task),
				"a bisection's game without its bisection"
			);
			ensure!(game.forks.iter().all(|(_, _, a, b)| a != b), "a fork where the sides agree");
			ensure!(
				game.judged < MAX_ITEMS_FOUND_WRONG,
				"a bisection going on past the batch's item disputes"
			);
			ensure!(
				game.lost.iter().all(|lost| *lost <= game.judged),
				"a side lost more items than were judged"
			);
		}
		for task in UncompensatedAudits::<T>::iter_keys() {
			let dispute = Disputes::<T>::get(task).ok_or("an uncompensated audit of no dispute")?;
			ensure!(dispute.kind == DisputeKind::Audit, "an uncompensated dispute not an audit");
		}
		for (task, shown) in ItemDisputes::<T>::iter() {
			let dispute = Disputes::<T>::get(task).ok_or("an item dispute without its dispute")?;
			ensure!(shown.item < shown.items, "an item dispute past the batch's items");
			ensure!(
				dispute.phase == DisputePhase::Showing
					|| (shown.input.is_some() && shown.output.is_some()),
				"an item judged without its input and output hash shown"
			);
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
