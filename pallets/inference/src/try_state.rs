//! The pallet's invariants, checked by `try_state` and after every unit test.

use super::*;

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants (used by `try_state`, and by tests after every test).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut queued: BTreeMap<TaskId, u32> = BTreeMap::new();
		let cursor = Queue::<T>::cursor();
		for (block, id) in Queue::<T>::all() {
			*queued.entry(id).or_default() += 1;
			let task = Tasks::<T>::get(id).ok_or("a deadline queue points to no task")?;
			ensure!(task.phase_ends == block, "a task is queued at a block not its own");
			ensure!(
				block >= cursor,
				"a task is queued behind the cursor: it would never be processed"
			);
		}
		for (id, task) in Tasks::<T>::iter() {
			ensure!(queued.get(&id) == Some(&1), "a task is not in exactly one deadline queue");
			let held = escrow.entry(task.requester.clone()).or_default();
			*held = held.saturating_add(task.escrow);
			let held = deposits.entry(task.requester.clone()).or_default();
			*held = held.saturating_add(task.deposit);
			if task.status.is_finished() {
				ensure!(task.escrow.is_zero(), "a finished task still holds escrow");
			}
			if task.status == TaskStatus::Submitted {
				ensure!(task.assignments.is_empty(), "a task waiting for its draw has executors");
			}
			for assignment in task.assignments.iter() {
				let open = AssignedTasks::<T>::contains_key(&assignment.executor, id);
				// An executor whose root lost a batch's disagreement is out of the batch; one
				// reconciled with the result stays in it.
				let lost = matches!(task.input, TaskInput::Batch { .. })
					&& task.result.is_some()
					&& assignment.output.is_some_and(|output| {
						Some(output) != task.result
							&& output != INPUT_UNAVAILABLE
							&& ReconciledRoots::<T>::get(id) != Some(output)
					});
				ensure!(
					open == (task.status.has_executors() && !lost),
					"the executor index does not match the task's assignments"
				);
			}
		}
		// A requester's two holds together are its tasks' escrow and deposits and its prepaid
		// funds; the deposit hold (tasks submitted before runtime spec 126) is at most its
		// tasks' deposits, so that the escrow hold covers the rest (see `release_deposit`).
		for (requester, prepaid) in Prepaid::<T>::iter() {
			ensure!(!prepaid.is_zero(), "a requester's prepaid funds are recorded as zero");
			escrow.entry(requester.clone()).or_default();
			deposits.entry(requester).or_default();
		}
		for (requester, escrowed) in escrow {
			let deposited = deposits.get(&requester).copied().unwrap_or_default();
			let prepaid = Prepaid::<T>::get(&requester);
			let in_escrow =
				T::Currency::balance_on_hold(&HoldReason::TaskEscrow.into(), &requester);
			let apart = T::Currency::balance_on_hold(&HoldReason::TaskDeposit.into(), &requester);
			ensure!(
				in_escrow.saturating_add(apart)
					== escrowed.saturating_add(deposited).saturating_add(prepaid),
				"funds held differ from the tasks' escrow and deposits and the prepaid funds"
			);
			ensure!(apart <= deposited, "deposits held apart exceed the tasks' deposits");
		}
		let mut batch_blocks = alloc::collections::BTreeMap::<T::AccountId, u32>::new();
		for (executor, id, ()) in AssignedTasks::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("an executor is assigned a task that is gone")?;
			ensure!(
				task.assignments.iter().any(|a| a.executor == executor),
				"an executor is indexed for a task it is not assigned to"
			);
			let held = Self::batch_blocks_held(&task, &executor);
			let sum = batch_blocks.entry(executor).or_default();
			*sum = sum.saturating_add(held);
		}
		// The batch work counted for an executor is at most that of the batches it has not
		// committed to (less for batches drawn before the count was kept): none is left
		// behind by a batch it is done with.
		for (executor, held) in batch_blocks {
			ensure!(
				T::AgentRegistry::batch_blocks_of(&executor) <= held,
				"an executor is counted batch work it does not have"
			);
		}
		// What item disputes record, only for batches: the items found wrong of its executors,
		// and the window paused while one is disputed.
		for (id, executor, found) in WrongItems::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("items found wrong of a task that is gone")?;
			let TaskInput::Batch { items, .. } = task.input else {
				return Err("items found wrong of a task that is not a batch".into());
			};
			ensure!(found.iter().all(|item| *item < items), "an item found wrong past the batch");
			ensure!(
				task.assignments.iter().any(|a| a.executor == executor),
				"items found wrong of an executor not in the batch"
			);
		}
		for (id, executor, refused) in RefusedItems::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("items refused of a task that is gone")?;
			let TaskInput::Batch { items, .. } = task.input else {
				return Err("items refused of a task that is not a batch".into());
			};
			ensure!(refused.iter().all(|item| *item < items), "an item refused past the batch");
			let wrong = WrongItems::<T>::get(id, &executor);
			ensure!(
				refused.iter().all(|item| !wrong.contains(item)),
				"an item both found wrong and refused"
			);
			ensure!(
				task.assignments.iter().any(|a| a.executor == executor),
				"items refused of an executor not in the batch"
			);
		}
		// A batch's audit secret is awaited only once its window has ended (it stays
		// recorded through the audit to the pruning), and revealed only while awaited.
		for (id, _) in AwaitedAuditSecrets::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("an audit secret awaited of a task gone")?;
			ensure!(
				matches!(task.input, TaskInput::Batch { .. })
					&& task.status != TaskStatus::Committed,
				"an audit secret awaited of no batch past its reveals"
			);
		}
		for id in AuditSecrets::<T>::iter_keys() {
			ensure!(
				AwaitedAuditSecrets::<T>::contains_key(id),
				"an audit secret revealed that was not awaited"
			);
		}
		for (id, root) in ReconciledRoots::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("a reconciled root of a task that is gone")?;
			// A batch ended unjudged has no result left; the entry goes with its pruning.
			ensure!(
				matches!(task.input, TaskInput::Batch { .. })
					&& (task.result.is_some() || task.status.is_finished()),
				"a reconciled root of no batch's result"
			);
			ensure!(task.result != Some(root), "the result reconciled with itself");
			ensure!(
				task.assignments.iter().any(|a| a.output == Some(root)),
				"a reconciled root no executor revealed"
			);
			ensure!(!DisagreedItems::<T>::get(id).is_empty(), "a root reconciled on no item");
		}
		for (id, disagreed) in DisagreedItems::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("items disagreed on of a task that is gone")?;
			let TaskInput::Batch { items, .. } = task.input else {
				return Err("items disagreed on of a task that is not a batch".into());
			};
			ensure!(
				disagreed.iter().all(|item| *item < items),
				"an item disagreed on past the batch"
			);
			ensure!(
				disagreed.windows(2).all(|pair| pair[0] < pair[1]),
				"the items of a disagreement judged out of order"
			);
		}
		for (id, _) in PausedWindows::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("a paused window of a task that is gone")?;
			ensure!(
				matches!(task.input, TaskInput::Batch { .. }),
				"a paused window of a task that is not a batch"
			);
			ensure!(
				task.status == TaskStatus::Disputed || task.status.is_finished(),
				"a paused window of a batch not under dispute"
			);
		}
		// The protocol account holds at least what came in minus what went out (anyone may
		// also send it funds).
		let (mut received, mut paid) = (BalanceOf::<T>::zero(), BalanceOf::<T>::zero());
		for (_, totals) in ProtocolFlows::<T>::iter() {
			received = received.saturating_add(totals.received);
			paid = paid.saturating_add(totals.paid);
		}
		let balance = T::Currency::balance(&Self::account_id());
		ensure!(
			balance.saturating_add(paid) >= received,
			"the protocol account holds less than its flows left in it"
		);
		Ok(())
	}
}
