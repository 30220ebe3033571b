//! Prepaid funds: held in advance by a requester, they pay its tasks' fees and deposits
//! without a hold of their own; and the deposits held apart by tasks submitted before them.

use super::*;
use crate::weights::WeightInfo;
use frame_support::traits::{fungible::MutateHold as _, UnfilteredDispatchable as _};

fn prepaid(who: u64) -> u64 {
	Prepaid::<Test>::get(who)
}

fn held_apart(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::TaskDeposit.into(), &who)
}

/// Takes tasks assigned to one executor each through their challenge windows, each revealed
/// by it: finalised, their deposits held until they are pruned at the block returned.
fn deliver(ids: &[TaskId]) -> u64 {
	for &id in ids {
		let executor = executors(id)[0];
		assert_ok!(commit(executor, executor, id, b"4"));
		assert_ok!(reveal(executor, executor, id, b"4"));
	}
	compare_results();
	let challenge_end = task(ids[0]).phase_ends;
	run_to_block(challenge_end);
	for &id in ids {
		assert_eq!(task(id).status, TaskStatus::Finalised);
	}
	challenge_end + RETENTION
}

/// The submission by 1 of a task asking `prompt`, with one executor and `fee`.
fn submission(prompt: &[u8], fee: u64) -> Call<Test> {
	Call::<Test>::submit_task {
		model: model(),
		input: TaskInput::Inline(prompt.to_vec()),
		params: PARAMS,
		fee,
		redundancy: 1,
		commit_period: COMMIT_PERIOD,
	}
}

/// Submits 1's task asking `prompt` for a fee of 100, then moves to the next block, where its
/// executor is drawn.
fn submit_prompt(prompt: &[u8]) -> TaskId {
	let id = NextTaskId::<Test>::get();
	assert_ok!(submission(prompt, 100).dispatch_bypass_filter(RuntimeOrigin::signed(1)));
	run_to_block(System::block_number() + 1);
	id
}

/// Moves a task's deposit from the escrow hold to the deposit hold, as a task submitted
/// before runtime spec 126 holds it.
fn hold_deposit_apart(id: TaskId) {
	let (requester, deposit) = (task(id).requester, task(id).deposit);
	assert_ok!(Balances::release(
		&HoldReason::TaskEscrow.into(),
		&requester,
		deposit,
		Precision::Exact
	));
	assert_ok!(Balances::hold(&HoldReason::TaskDeposit.into(), &requester, deposit));
}

#[test]
fn a_task_is_paid_from_prepaid_funds_without_a_hold_of_its_own_and_charged_less() {
	run_test(|| {
		DepositBase::set(5);
		let before = Balances::free_balance(1);
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(1), 500));
		System::assert_last_event(Event::FundsPrepaid { requester: 1, amount: 500 }.into());
		assert_eq!((prepaid(1), escrow_held(1)), (500, 500));
		assert_eq!(Balances::free_balance(1), before - 500);

		let prompt = b"What is 2 + 2?";
		let post = submission(prompt, 100)
			.dispatch_bypass_filter(RuntimeOrigin::signed(1))
			.expect("submitted");
		let id = NextTaskId::<Test>::get() - 1;
		let deposit = task(id).deposit;
		assert_eq!(deposit, 5);
		// Taken from the prepaid funds: the free balance and the hold are as they were.
		assert_eq!(prepaid(1), 500 - 100 - deposit);
		assert_eq!(escrow_held(1), 500);
		assert_eq!(Balances::free_balance(1), before - 500);
		// Charged as a submission that held nothing, which costs less than one that did.
		let len = prompt.len() as u32;
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::submit_task(1, len, 0, 0)));
		assert!(
			<() as WeightInfo>::submit_task(1, len, 0, 0).ref_time()
				< <() as WeightInfo>::submit_task(1, len, 0, 1).ref_time()
		);

		// Its escrow pays its executor as any task's does; its deposit comes back at pruning,
		// to the free balance, as any refund.
		run_to_block(System::block_number() + 1);
		let executor = executors(id)[0];
		let executor_before = Balances::free_balance(executor);
		let pruned_at = deliver(&[id]);
		assert_eq!(Balances::free_balance(executor), executor_before + 90);
		assert_eq!(escrow_held(1), 500 - 100);
		run_to_block(pruned_at);
		assert!(Tasks::<Test>::get(id).is_none());
		assert_eq!(Balances::free_balance(1), before - 500 + deposit);
		assert_eq!((prepaid(1), escrow_held(1)), (500 - 100 - deposit, 500 - 100 - deposit));
	});
}

#[test]
fn prepaid_funds_that_do_not_cover_the_fee_and_deposit_are_left_alone() {
	run_test(|| {
		DepositBase::set(5);
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(1), 104));
		let free = Balances::free_balance(1);
		let id = submit(100, 1);
		// 104 < 100 + 5: both held from the free balance, the prepaid funds untouched.
		assert_eq!(prepaid(1), 104);
		assert_eq!(Balances::free_balance(1), free - 105);
		assert_eq!(escrow_held(1), 104 + 105);
		assert_eq!(task(id).escrow, 100);
	});
}

#[test]
fn only_prepaid_funds_can_be_withdrawn_never_an_open_tasks_fee_or_deposit() {
	run_test(|| {
		DepositBase::set(5);
		// Nothing prepaid: nothing to withdraw, whatever its tasks hold.
		let id = submit(100, 1);
		assert_eq!(escrow_held(1), 105);
		assert_noop!(
			Inference::withdraw_prepaid(RuntimeOrigin::signed(1), 1),
			Error::<Test>::InsufficientPrepaid
		);
		// Prepaid, then partly spent on a task: the rest may be withdrawn, not a unit more.
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(1), 300));
		let second = submit(100, 1);
		assert_eq!(prepaid(1), 195);
		assert_noop!(
			Inference::withdraw_prepaid(RuntimeOrigin::signed(1), 196),
			Error::<Test>::InsufficientPrepaid
		);
		let free = Balances::free_balance(1);
		assert_ok!(Inference::withdraw_prepaid(RuntimeOrigin::signed(1), 195));
		System::assert_last_event(Event::PrepaidWithdrawn { requester: 1, amount: 195 }.into());
		assert!(!Prepaid::<Test>::contains_key(1), "an empty record is removed");
		assert_eq!(Balances::free_balance(1), free + 195);
		// Both tasks' fees and deposits stay held, and both still pay their executors.
		assert_eq!(escrow_held(1), 2 * 105);
		let paid = [executors(id)[0], executors(second)[0]];
		let before = paid.map(Balances::free_balance);
		deliver(&[id, second]);
		assert_eq!(paid.map(Balances::free_balance), before.map(|b| b + 90));
	});
}

#[test]
fn prepaying_nothing_or_more_than_the_free_balance_is_refused_and_changes_nothing() {
	run_test(|| {
		assert_noop!(Inference::prepay(RuntimeOrigin::signed(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Inference::withdraw_prepaid(RuntimeOrigin::signed(1), 0),
			Error::<Test>::ZeroAmount
		);
		// The existential deposit stays free: 3 has 15, of which it may prepay 14.
		assert_noop!(
			Inference::prepay(RuntimeOrigin::signed(3), 15),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(3), 14));
		assert_eq!((prepaid(3), Balances::free_balance(3)), (14, 1));
	});
}

#[test]
fn deposits_held_apart_by_older_tasks_are_released_at_pruning_in_any_order() {
	// Which of the two tasks is from before runtime spec 126 (its deposit held apart), and
	// whether the first pruned has the larger deposit.
	for (old_first, first_larger) in [(true, true), (true, false), (false, true), (false, false)] {
		run_test(|| {
			DepositBase::set(5);
			DepositPerByte::set(1);
			let before = Balances::free_balance(1);
			let (long, short) = (&b"What is 2 + 2? One word."[..], &b"2 + 2?"[..]);
			let (first_prompt, second_prompt) =
				if first_larger { (long, short) } else { (short, long) };
			// The second is submitted a block later, so pruned a block later.
			let first = submit_prompt(first_prompt);
			let executor = executors(first)[0];
			assert_ok!(commit(executor, executor, first, b"4"));
			assert_ok!(reveal(executor, executor, first, b"4"));
			let second = submit_prompt(second_prompt);
			hold_deposit_apart(if old_first { first } else { second });
			let (d1, d2) = (task(first).deposit, task(second).deposit);
			assert_eq!(d1 > d2, first_larger);
			// Nothing else held: the escrow hold is exactly what the tasks need.
			assert_eq!(escrow_held(1) + held_apart(1), 2 * 100 + d1 + d2);
			assert_ok!(Inference::do_try_state());

			let second_pruned = deliver(&[second]);
			let first_pruned = second_pruned - 1;
			assert_eq!(task(first).phase_ends, first_pruned);
			run_to_block(first_pruned);
			assert!(Tasks::<Test>::get(first).is_none());
			// What was held apart went first, up to the pruned task's deposit; what is left
			// apart never exceeds the open task's deposit, and both holds are its deposit.
			let apart_left = if old_first { 0 } else { d2.saturating_sub(d1) };
			assert_eq!(held_apart(1), apart_left);
			assert_eq!(escrow_held(1), d2 - apart_left);
			assert_ok!(Inference::do_try_state());
			run_to_block(second_pruned);
			assert!(Tasks::<Test>::get(second).is_none());
			assert_eq!((held_apart(1), escrow_held(1)), (0, 0));
			// Two fees spent, nothing else kept.
			assert_eq!(Balances::free_balance(1), before - 200);
		});
	}
}

#[test]
fn prepaid_funds_pay_only_for_the_task_they_cover_and_its_refund_goes_to_the_free_balance() {
	run_test(|| {
		DepositBase::set(5);
		let before = Balances::free_balance(1);
		// Exactly one task's fee and deposit: the record is removed once spent.
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(1), 105));
		let id = NextTaskId::<Test>::get();
		assert_ok!(
			submission(b"What is 2 + 2?", 100).dispatch_bypass_filter(RuntimeOrigin::signed(1))
		);
		System::assert_has_event(
			Event::PrepaidSpent { task: id, requester: 1, amount: 105 }.into(),
		);
		assert!(!Prepaid::<Test>::contains_key(1));
		// More prepaid, then the task expires unserved: its fee comes back to the free balance,
		// the prepaid funds stay as they were.
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(1), 50));
		run_to_block(System::block_number() + 1);
		let executor = executors(id)[0];
		pause_all_but(executor);
		assert_ok!(Agents::pause(RuntimeOrigin::signed(executor)));
		run_to_block(task(id).phase_ends);
		run_to_block(task(id).phase_ends);
		assert_eq!(task(id).status, TaskStatus::Expired);
		assert_eq!(prepaid(1), 50);
		assert_eq!(Balances::free_balance(1), before - 105 - 50 + 100);
		assert_eq!(escrow_held(1), 50 + 5);
	});
}

#[test]
fn a_refused_or_uncovered_submission_leaves_the_prepaid_funds_alone_and_is_charged_its_hold() {
	run_test(|| {
		DepositBase::set(5);
		assert_ok!(Inference::prepay(RuntimeOrigin::signed(1), 104));
		let call = |fee: u64| submission(b"What is 2 + 2?", fee);
		// 104 < 100 + 5: held from the free balance, and charged for the hold.
		let free = Balances::free_balance(1);
		let post = call(100).dispatch_bypass_filter(RuntimeOrigin::signed(1)).expect("submitted");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::submit_task(1, 14, 0, 1)));
		assert_eq!((prepaid(1), Balances::free_balance(1)), (104, free - 105));
		// Refused for want of executors: nothing held, nothing taken from the prepaid funds.
		pause_all_but(0);
		let refused = call(10).dispatch_bypass_filter(RuntimeOrigin::signed(1)).unwrap_err();
		assert_eq!(refused.error, Error::<Test>::NoExecutors.into());
		assert_eq!((prepaid(1), Balances::free_balance(1)), (104, free - 105));
	});
}
