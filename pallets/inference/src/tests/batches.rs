//! Batches: what the chain asks of a batch when it is submitted, and how its executors reveal
//! their outputs root (`docs/batches.md`).

use super::*;

/// The verifiers the tests register: enough for a batch's juries (`JURORS_NEEDED`) and one per
/// executor of a batch of two.
const VERIFIERS: [u64; 5] = [31, 32, 33, 34, 35];

/// Two calls and four blocks of tokens for 16 items of 2 tokens: a commit period of 6 to 20.
const ITEMS: u32 = 16;
const BATCH_PARAMS: TaskParams = TaskParams { max_tokens: 2, ..PARAMS };
const BATCH_COMMIT: u64 = 6;

/// The audit secret the batches of these tests commit to.
const AUDIT_SECRET: H256 = H256::repeat_byte(0xA5);
/// The mock's `AuditSecretPeriod`.
const AUDIT_SECRET_PERIOD: u64 = 4;

fn batch_input(items: u32, uri: &[u8]) -> TaskInput<Vec<u8>> {
	TaskInput::Batch {
		root: H256::repeat_byte(0xB0),
		uri: uri.to_vec(),
		items,
		audit_commitment: hash(AUDIT_SECRET.as_bytes()),
	}
}

fn submit_batch(
	items: u32,
	params: TaskParams,
	fee: u64,
	redundancy: u32,
	commit_period: u64,
) -> DispatchResultWithPostInfo {
	Inference::submit_task(
		RuntimeOrigin::signed(1),
		model(),
		batch_input(items, b"https://inputs.example/b.json"),
		params,
		fee,
		redundancy,
		commit_period,
	)
}

/// What `who` holds for its tasks: their escrow and deposits.
fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::TaskEscrow.into(), &who)
}

fn reveal_root(
	executor: u64,
	id: TaskId,
	root: H256,
	output: Option<Vec<u8>>,
	uri: Option<&[u8]>,
) -> DispatchResult {
	Inference::reveal(
		RuntimeOrigin::signed(executor),
		id,
		root,
		salt(executor as u8),
		output,
		uri.map(|u| u.to_vec()),
	)
}

#[test]
fn a_batch_is_refused_while_its_disputes_cannot_be_judged_item_by_item() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		BatchesJudged::set(false);
		assert_noop!(
			submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT),
			Error::<Test>::BatchesNotJudged
		);
		BatchesJudged::set(true);
		assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT));
	});
}

#[test]
fn a_batch_is_sized_priced_and_timed_by_the_chains_rules() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		let refused = |items, params, fee, redundancy, commit, error: Error<Test>| {
			assert_noop!(submit_batch(items, params, fee, redundancy, commit), error);
		};
		// Size: 1 to MaxBatchItems (1,024), and its calls and tokens within a day's period.
		refused(0, BATCH_PARAMS, 1_000, 1, BATCH_COMMIT, Error::InvalidBatchSize);
		refused(1_025, BATCH_PARAMS, 10_000, 1, 400, Error::InvalidBatchSize);
		// 1,024 items of 16 tokens need 128 + 2,048 blocks, more than MaxBatchCommitPeriod.
		let long = TaskParams { max_tokens: 16, ..PARAMS };
		refused(1_024, long, 10_000, 1, 400, Error::InvalidBatchSize);
		// Exact match only, one or two executors.
		let jury = TaskParams { mode: VerificationMode::Jury, ..BATCH_PARAMS };
		refused(ITEMS, jury, 1_000, 1, BATCH_COMMIT, Error::BatchNeedsExactMatch);
		refused(ITEMS, BATCH_PARAMS, 1_000, 3, BATCH_COMMIT, Error::BatchRedundancy);
		// An item asks no more tokens than a juror re-executes in its 2 blocks (8 a block).
		let many = TaskParams { max_tokens: 17, ..PARAMS };
		refused(ITEMS, many, 1_000, 1, 40, Error::TooManyTokens);
		// The commit period leaves a block per 8 items and per 8 tokens (2 + 4), and is at most
		// twice that or MaxCommitPeriod (20).
		refused(ITEMS, BATCH_PARAMS, 1_000, 1, BATCH_COMMIT - 1, Error::CommitPeriodTooShort);
		refused(ITEMS, BATCH_PARAMS, 1_000, 1, MAX_COMMIT + 1, Error::InvalidCommitPeriod);
		// 64 items need 8 + 16 = 24 blocks, over a task's 20: up to 48.
		refused(64, BATCH_PARAMS, 1_000, 1, 23, Error::CommitPeriodTooShort);
		refused(64, BATCH_PARAMS, 1_000, 1, 49, Error::InvalidCommitPeriod);
		// The fee, per executor: the most of MinFeePerExecutor (10), 1 an item, 1 a block.
		refused(8, BATCH_PARAMS, 2 * MIN_FEE - 1, 2, 3, Error::FeeTooLow);
		refused(ITEMS, BATCH_PARAMS, 2 * 16 - 1, 2, BATCH_COMMIT, Error::FeeTooLow);
		refused(ITEMS, BATCH_PARAMS, 2 * 20 - 1, 2, 20, Error::FeeTooLow);
		// Its inputs document is at an http(s) URI of at most MaxUriLen (32) bytes.
		let with_uri = |uri: &[u8]| {
			Inference::submit_task(
				RuntimeOrigin::signed(1),
				model(),
				batch_input(ITEMS, uri),
				BATCH_PARAMS,
				1_000,
				1,
				BATCH_COMMIT,
			)
		};
		assert_noop!(with_uri(b"ftp://inputs.example/b.json"), Error::<Test>::InvalidInputUri);
		assert_noop!(with_uri(&[b'h'; 33]), Error::<Test>::InvalidInputUri);
		let long_uri = [b"https://".as_slice(), &[b'a'; 25]].concat();
		assert_noop!(with_uri(&long_uri), Error::<Test>::UriTooLong);
		// 1,024 items of one token need 128 + 128 blocks; twice that is past
		// MaxBatchCommitPeriod (400), which caps it.
		let one = TaskParams { max_tokens: 1, ..PARAMS };
		refused(1_024, one, 10_000, 1, 255, Error::CommitPeriodTooShort);
		refused(1_024, one, 10_000, 1, 401, Error::InvalidCommitPeriod);
		// The period is checked before the fee it prices.
		refused(ITEMS, BATCH_PARAMS, 1, 2, MAX_COMMIT + 1, Error::InvalidCommitPeriod);

		assert_ok!(submit_batch(64, BATCH_PARAMS, 2 * 64, 2, 48));
		assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 2 * 16, 2, BATCH_COMMIT));
		assert_ok!(submit_batch(8, BATCH_PARAMS, 2 * MIN_FEE, 2, 3));
	});
}

#[test]
fn a_batch_needs_verifiers_for_every_jury_of_its_disputes_the_requesters_agent_excluded() {
	run_test(|| {
		let declared =
			Inference::submit_task_weight(&batch_input(ITEMS, b"https://inputs.example/b.json"), 2);
		let refused = |result: DispatchResultWithPostInfo| {
			let error = result.expect_err("refused");
			assert_eq!(error.error, Error::<Test>::NotEnoughJurors.into());
			let charged = error.post_info.actual_weight.expect("charged for what it read");
			assert!(charged.all_lte(declared) && charged != declared, "charged what it read");
			charged
		};
		// Three jurors and one verifier per executor: five, for two executors.
		register_verifiers(&VERIFIERS[..4], 500);
		let four = refused(submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT));
		assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 16, 1, BATCH_COMMIT));

		// The agent whose operator key the requester is does not count.
		register_verifiers(&VERIFIERS[4..], 500);
		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(VERIFIERS[4]), 1));
		assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(1), VERIFIERS[4]));
		let five = refused(submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT));
		assert_eq!(four, five, "the excluded agent's record is not even read");

		// Nor does one without the free stake a juror's seat reserves.
		register_verifiers(&[36], JUROR_COLLATERAL - 1);
		refused(submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT));
		register_verifiers(&[37], 500);
		let result = submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT);
		let charged = result.expect("taken").actual_weight.expect("charged for what it read");
		assert!(charged.all_lte(declared) && charged != declared);
	});
}

#[test]
fn a_batch_reserves_every_item_slash_its_root_can_owe_and_a_jury_deposit() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		DepositBase::set(5);
		DepositPerByte::set(1);
		let id = NextTaskId::<Test>::get();
		// Fee share 16 over 16 items: an item slash is the floor (20 > 5 × 1); a root can owe
		// 15 of them on top of a task's collateral (100).
		assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT));
		let collateral = 100 + 15 * ITEM_SLASH_FLOOR;
		assert_eq!(task(id).collateral, collateral);
		assert_eq!(Inference::collateral_of(16, Some(ITEMS)), collateral);
		// A batch of 4 items owes at most 4 item slashes; a large share per item raises them.
		assert_eq!(Inference::collateral_of(16, Some(4)), 100 + 4 * ITEM_SLASH_FLOOR);
		assert_eq!(Inference::collateral_of(160, Some(2)), 100 + 2 * 5 * 80);
		// The deposit: the URI (29 bytes), the root, count and audit commitment (68), two
		// outputs' room, and the jury deposit.
		let deposit = 5 + 29 + 68 + 2 * (64 + 32) + JURY_DEPOSIT;
		assert_eq!(task(id).deposit, deposit);
		assert_eq!(held(1), 32 + deposit);

		run_to_block(System::block_number() + 1);
		let record = task(id);
		assert_eq!(record.status, TaskStatus::Assigned);
		for executor in executors(id) {
			assert_eq!(
				Agents::free_stake_of(&executor),
				500 - collateral,
				"each executor reserves the batch's collateral"
			);
		}
	});
}

#[test]
fn a_batch_is_drawn_only_from_executors_whose_free_stake_covers_its_item_slashes() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		// A share of 1,000 over 10 items: item slashes of 5 × 100 each, 10 of them, past every
		// executor's 500.
		assert_noop!(
			submit_batch(10, BATCH_PARAMS, 2_000, 2, BATCH_COMMIT).map_err(|e| e.error),
			Error::<Test>::NoExecutors
		);
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(11), 5_000));
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(12), 5_000));
		let id = NextTaskId::<Test>::get();
		assert_ok!(submit_batch(10, BATCH_PARAMS, 2_000, 2, BATCH_COMMIT));
		run_to_block(System::block_number() + 1);
		let mut drawn = executors(id);
		drawn.sort();
		assert_eq!(drawn, vec![11, 12]);
	});
}

#[test]
fn a_batch_is_drawn_only_from_batch_executors_and_a_task_only_from_executors() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		let task = |prompt: &[u8], redundancy| {
			Inference::submit_task(
				RuntimeOrigin::signed(1),
				model(),
				TaskInput::Inline(prompt.to_vec()),
				PARAMS,
				100,
				redundancy,
				10,
			)
			.map_err(|e| e.error)
		};
		// 11 and 12 run single tasks only, 13 and 14 batches only.
		for (executor, role) in [
			(11, Role::Executor),
			(12, Role::Executor),
			(13, Role::BatchExecutor),
			(14, Role::BatchExecutor),
		] {
			assert_ok!(Agents::set_roles(RuntimeOrigin::signed(executor), vec![role]));
		}
		// Four executors serve the model, but two of them run single tasks.
		assert_noop!(task(b"three executors", 3), Error::<Test>::NoExecutors);
		let batch = NextTaskId::<Test>::get();
		assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 100, 2, BATCH_COMMIT));
		let single = NextTaskId::<Test>::get();
		assert_ok!(task(b"two executors", 2));
		run_to_block(System::block_number() + 1);
		let mut drawn = executors(batch);
		drawn.sort();
		assert_eq!(drawn, vec![13, 14]);
		let mut drawn = executors(single);
		drawn.sort();
		assert_eq!(drawn, vec![11, 12]);

		// An executor without the batch role is never drawn for a batch, whatever its stake.
		assert_ok!(Agents::set_roles(RuntimeOrigin::signed(13), vec![Role::Executor]));
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(11), 5_000));
		assert_noop!(
			submit_batch(ITEMS, BATCH_PARAMS, 100, 2, BATCH_COMMIT).map_err(|e| e.error),
			Error::<Test>::NoExecutors
		);
	});
}

/// The blocks of an executor's work batch `id` takes.
fn batch_work(id: TaskId) -> u64 {
	Inference::batch_work(&task(id)).expect("a batch").blocks.into()
}

/// The blocks of batch work executor `who`'s record counts.
fn batch_blocks(who: u64) -> u32 {
	pallet_agents::Registry::<Test>::get(who).expect("registered").batch_blocks
}

/// Registers the verifiers and leaves 13, with 100,000 more bonded, the one batch executor: 11,
/// 12 and 14 run single tasks only.
fn only_13_runs_batches() {
	register_verifiers(&VERIFIERS, 500);
	for executor in [11, 12, 14] {
		assert_ok!(Agents::set_roles(RuntimeOrigin::signed(executor), vec![Role::Executor]));
	}
	assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), 13, 1_000_000));
	assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(13), 100_000));
}

/// A requester can no longer give one executor more batches than it can run before their
/// deadlines, and have it slashed for each it misses: a batch's commit phase lasts its commit
/// period, or the time its executor takes for the batches it has not committed to and this
/// one (with a margin), whichever is longer; an executor is drawn only while that time fits in
/// `MaxBatchStretch` (4) commit periods. Before the count, a second batch drawn to an executor
/// running one that took its whole period had the same deadline, which it could not meet.
#[test]
fn an_executors_batches_are_given_the_time_they_take() {
	run_test(|| {
		only_13_runs_batches();
		// 64 items of 2 tokens need 8 + 16 = 24 blocks of an executor's work.
		let batch = |commit_period| {
			let id = NextTaskId::<Test>::get();
			submit_batch(64, BATCH_PARAMS, 64, 1, commit_period)
				.map(|_| id)
				.map_err(|e| e.error)
		};
		// Each drawn in the block after its submission.
		let drawn = |commit_period| {
			let id = batch(commit_period).expect("13 has the time");
			run_to_block(System::block_number() + 1);
			assert_eq!(executors(id), vec![13]);
			id
		};
		let drawn_at = System::block_number() + 1;
		let (first, second, long) = (drawn(24), drawn(24), drawn(48));
		// Each deadline leaves the time for the batches due before it, the earliest first, and
		// a margin of two blocks and a sixteenth, or the commit period when that is longer.
		assert_eq!(task(first).phase_ends, drawn_at + 24 + 1 + 2, "its own work and the margin");
		assert_eq!(task(second).phase_ends, drawn_at + 1 + 48 + 3 + 2, "after the first's");
		assert_eq!(task(long).phase_ends, drawn_at + 2 + 72 + 4 + 2, "longer than its period");
		System::assert_has_event(
			Event::TaskAssigned {
				task: second,
				executors: vec![13],
				commit_deadline: drawn_at + 1 + 53,
			}
			.into(),
		);
		assert_eq!(batch_blocks(13), 72);

		// Up to four commit periods: one more batch of 24 blocks fits in 4 × 24, a fifth does
		// not, though the stake would back it; one with a longer commit period still does.
		let mut open = vec![first, second, long, drawn(24)];
		assert_eq!(batch_blocks(13), 96);
		assert!(Agents::free_stake_of(&13) >= task(first).collateral, "stake is not the bound");
		assert_noop!(batch(24), Error::<Test>::NoExecutors);
		open.push(drawn(48));
		assert_eq!(batch_blocks(13), 120);
		// Every deadline is met at the reference speed, the earliest first.
		open.sort_by_key(|id| task(*id).phase_ends);
		let mut done = drawn_at;
		for id in &open {
			done += batch_work(*id);
			let deadline = task(*id).phase_ends;
			assert!(done <= deadline, "batch {id} ends at {done}, after its deadline {deadline}");
		}

		// Single tasks do not count against batches, nor batches against them.
		assert_ok!(Agents::set_roles(
			RuntimeOrigin::signed(13),
			vec![Role::Executor, Role::BatchExecutor]
		));
		for executor in [11, 12, 14] {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(executor)));
		}
		let single = submit(100, 1);
		assert_eq!(executors(single), vec![13]);
		assert_eq!(batch_blocks(13), 120);

		// Its commit ends a batch's count: the executor has time again.
		let first_task = task(first);
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(13),
			first,
			commitment_of(&H256::repeat_byte(1), &salt(13), &13u64),
		));
		assert_eq!(task(first).status, TaskStatus::Committed);
		assert_eq!(batch_blocks(13), 96);
		assert_eq!(first_task.collateral, task(first).collateral, "the collateral stays held");

		// A commit deadline missed ends the count too: the executor is slashed and released.
		run_to_block(task(second).phase_ends);
		assert!(!AssignedTasks::<Test>::contains_key(13, second));
		assert_eq!(batch_blocks(13), 72);

		// A node that declares twice the reference speed is given deadlines at that speed.
		assert_noop!(
			Agents::set_batch_speed(RuntimeOrigin::signed(13), 0),
			pallet_agents::Error::<Test>::InvalidBatchSpeed
		);
		assert_ok!(Agents::set_batch_speed(RuntimeOrigin::signed(13), 2));
		let now = System::block_number() + 1;
		let fast = drawn(24);
		assert_eq!(task(fast).phase_ends, now + 48 + 3 + 2, "96 blocks of work take 48");
		assert_eq!(batch_blocks(13), 96);

		// The invariant: nobody is counted more batch work than its uncommitted batches need.
		let count = |blocks| {
			pallet_agents::Registry::<Test>::mutate(13, |info| {
				info.as_mut().expect("registered").batch_blocks = blocks
			})
		};
		count(97);
		assert!(Inference::do_try_state().is_err(), "a block counted of no batch");
		count(96);
	});
}

/// An executor whose node runs at the chain's reference speed, given a batch with the shortest
/// commit period the batch allows (its work fills the period exactly), learns of the draw in
/// the draw's block, runs the items in the blocks after it, and its commit lands in the block
/// after the last: it meets the deadline. Before, the commit phase was the bare commit period,
/// a block short of that, and a requester could have honest executors slashed, batch after
/// batch, by asking for the shortest period (refunded when nobody commits).
#[test]
fn an_executor_at_the_reference_speed_meets_a_batch_given_its_shortest_commit_period() {
	run_test(|| {
		only_13_runs_batches();
		// 64 items of 2 tokens: 24 blocks of work, and 24 the shortest commit period allowed.
		let (shortest, _) =
			Inference::commit_period_bounds(Some(64), &BATCH_PARAMS).expect("a valid batch");
		assert_eq!(shortest, 24);
		let id = NextTaskId::<Test>::get();
		assert_ok!(submit_batch(64, BATCH_PARAMS, 64, 1, shortest));
		run_to_block(System::block_number() + 1);
		let drawn_at = System::block_number();
		assert_eq!(executors(id), vec![13]);
		assert_eq!(batch_work(id), 24);
		// The node runs the 24 blocks of work in blocks drawn_at + 1 to drawn_at + 24; its
		// commit is in the next block.
		run_to_block(drawn_at + 24 + 1);
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(13),
			id,
			commitment_of(&H256::repeat_byte(1), &salt(13), &13u64),
		));
		assert_eq!(task(id).status, TaskStatus::Committed);
		assert!(!System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::Inference(Event::ExecutorMissedDeadline { .. })
		)));
	});
}

/// The draw for a batch weighs free stake, not the speeds the agents declared: an agent that
/// declares more speed than its node has, while the honest ones are busy, is given shorter
/// deadlines, not the batches. Before, a draw took only executors whose open batches left
/// them the time within the new one's commit period: an honest executor that declared the
/// reference speed, and commits each batch six blocks after its draw, was passed over while
/// it had one batch open, and every such batch went to the one that declared 10,000 times it.
#[test]
fn the_draw_for_a_batch_is_weighted_by_stake_whatever_the_declared_speeds() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		for executor in [11, 12] {
			assert_ok!(Agents::set_roles(RuntimeOrigin::signed(executor), vec![Role::Executor]));
		}
		for executor in [13, 14] {
			assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), executor, 1_000_000));
			assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(executor), 100_000));
		}
		assert_ok!(Agents::set_batch_speed(
			RuntimeOrigin::signed(14),
			pallet_agents::MAX_BATCH_SPEED
		));
		// One batch a block, each taking 24 blocks of work at the reference speed; 13 commits
		// each six blocks after its draw, 14 commits none.
		// (The batch, its executor, the block it was drawn in, its commit deadline.)
		let mut batches: Vec<(TaskId, u64, u64, u64)> = Vec::new();
		for _ in 0..30 {
			let id = NextTaskId::<Test>::get();
			assert_ok!(submit_batch(64, BATCH_PARAMS, 64, 1, 24));
			run_to_block(System::block_number() + 1);
			let now = System::block_number();
			batches.push((id, executors(id)[0], now, task(id).phase_ends));
			for (id, executor, drawn_at, _) in &batches {
				if *drawn_at + 6 == now && *executor == 13 {
					let root = H256::repeat_byte(1);
					assert_ok!(Inference::commit(
						RuntimeOrigin::signed(13),
						*id,
						commitment_of(&root, &salt(13), &13u64),
					));
					assert_ok!(reveal_root(13, *id, root, None, Some(b"https://o.example")));
				}
			}
		}
		let to = |who| batches.iter().filter(|(_, executor, _, _)| *executor == who).count();
		assert_eq!(to(13) + to(14), 30, "every batch is drawn");
		assert!(to(13) >= 10, "the honest executor, of equal stake, is drawn {} of 30", to(13));
		assert!(to(14) >= 10, "{} of 30", to(14));
		// 14's declared speed gives it 24 blocks for each; 13, at its own, the time of its
		// batches open besides, with a margin.
		for (_, executor, drawn_at, deadline) in &batches {
			if *executor == 14 {
				assert_eq!(*deadline, drawn_at + 24);
			} else {
				assert!(*deadline >= drawn_at + 24);
			}
		}
	});
}

/// A batch of [`ITEMS`] with two executors (fee 32), drawn, executor `i` committed to root
/// `root_of(i)`. Returns it and its executors.
fn committed_batch(root_of: impl Fn(usize) -> H256) -> (TaskId, Vec<u64>) {
	register_verifiers(&VERIFIERS, 500);
	let id = NextTaskId::<Test>::get();
	assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 32, 2, BATCH_COMMIT));
	run_to_block(System::block_number() + 1);
	let chosen = executors(id);
	for (i, &executor) in chosen.iter().enumerate() {
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(executor),
			id,
			commitment_of(&root_of(i), &salt(executor as u8), &executor),
		));
	}
	(id, chosen)
}

#[test]
fn a_batchs_executors_reveal_a_root_and_its_outputs_uri_with_no_inline_output() {
	run_test(|| {
		let root = H256::repeat_byte(0x0A);
		let (id, chosen) = committed_batch(|_| root);
		let (first, second) = (chosen[0], chosen[1]);
		assert_noop!(
			reveal_root(first, id, root, Some(b"an output".to_vec()), Some(b"https://o")),
			Error::<Test>::BatchOutputNotInline
		);
		assert_noop!(reveal_root(first, id, root, None, None), Error::<Test>::OutputUriRequired);
		assert_noop!(
			reveal_root(first, id, root, None, Some(b"file:///outputs")),
			Error::<Test>::InvalidOutputUri
		);
		assert_ok!(reveal_root(first, id, root, None, Some(b"https://outputs.example/1")));
		assert_ok!(reveal_root(second, id, root, None, Some(b"https://outputs.example/2")));
		// Each executor's URI is kept, even where their roots agree; no output is stored.
		let uri = |executor| OutputUris::<Test>::get(id, executor).map(|u| u.into_inner());
		assert_eq!(uri(first), Some(b"https://outputs.example/1".to_vec()));
		assert_eq!(uri(second), Some(b"https://outputs.example/2".to_vec()));
		assert_eq!(Outputs::<Test>::iter_prefix(id).count(), 0);
		let view = Inference::task_view(id).expect("a view");
		let outputs_uri = |i: usize| view.assignments[i].outputs_uri.clone();
		assert_eq!(outputs_uri(1).as_deref(), Some("https://outputs.example/2"));
		assert!(matches!(
			view.input,
			agentchain_primitives::api::TaskInputView::Batch { items: ITEMS, .. }
		));

		// Agreeing roots: a window of ChallengePeriod and a quarter of the commit period.
		compare_results();
		let record = task(id);
		assert_eq!(record.status, TaskStatus::Revealed);
		assert_eq!(record.result, Some(root));
		assert_eq!(record.phase_ends, System::block_number() + CHALLENGE_PERIOD + BATCH_COMMIT / 4);

		// The URIs are pruned with the task (its window, its audit secret, its retention).
		end_window(id);
		run_to_block(System::block_number() + RETENTION);
		assert!(Tasks::<Test>::get(id).is_none());
		assert_eq!(OutputUris::<Test>::iter_prefix(id).count(), 0);
	});
}

#[test]
fn a_batchs_executor_that_cannot_use_its_inputs_document_says_so() {
	run_test(|| {
		register_verifiers(&VERIFIERS, 500);
		let id = NextTaskId::<Test>::get();
		assert_ok!(submit_batch(ITEMS, BATCH_PARAMS, 32, 1, BATCH_COMMIT));
		run_to_block(System::block_number() + 1);
		let executor = executors(id)[0];
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(executor),
			id,
			commitment_of(&INPUT_UNAVAILABLE, &salt(executor as u8), &executor),
		));
		assert_ok!(reveal_root(executor, id, INPUT_UNAVAILABLE, None, Some(b"https://o.example")));
		assert_eq!(Outputs::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(OutputUris::<Test>::iter_prefix(id).count(), 0);
	});
}

#[test]
fn a_batch_ended_unjudged_pays_nobody_and_its_fee_goes_to_the_protocol() {
	run_test(|| {
		// No jury could be drawn for the batch's item dispute (the handler's
		// `Resolution::Unjudged`): neither executor is paid or slashed, and the requester, who
		// might have starved the jury of its own batch, is not refunded.
		let root_of = |i: usize| H256::repeat_byte(0x0A + i as u8);
		let (id, chosen) = committed_batch(root_of);
		for (i, &executor) in chosen.iter().enumerate() {
			let uri = Some(&b"https://outputs.example/o"[..]);
			assert_ok!(reveal_root(executor, id, root_of(i), None, uri));
		}
		compare_results();
		assert_eq!(task(id).status, TaskStatus::Disputed);
		let free = |who: u64| Balances::free_balance(who);
		let before: Vec<u64> = [1, chosen[0], chosen[1]].iter().map(|who| free(*who)).collect();
		let protocol_before = free(Inference::account_id());
		let escrow = task(id).escrow;
		assert_eq!(escrow, 32);

		assert_ok!(<Inference as InferenceTasks<_, _>>::resolve(id, Resolution::Unjudged));
		assert_eq!(task(id).status, TaskStatus::Expired);
		assert_eq!(task(id).result, None);
		assert_eq!(task(id).escrow, 0);
		System::assert_has_event(Event::TaskUnjudged { task: id, forfeited: escrow }.into());
		let after: Vec<u64> = [1, chosen[0], chosen[1]].iter().map(|who| free(*who)).collect();
		assert_eq!(after, before, "nobody paid or refunded");
		assert_eq!(free(Inference::account_id()), protocol_before + escrow);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received, escrow);
		for executor in chosen {
			assert_eq!(pallet_agents::Registry::<Test>::get(executor).unwrap().collateral, 0);
		}
		// Refused once ended; its deposit comes back when it is pruned.
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::resolve(id, Resolution::Unjudged),
			Error::<Test>::WrongPhase
		);
		run_to_block(task(id).phase_ends);
		assert!(Tasks::<Test>::get(id).is_none());
		assert_eq!(held(1), 0);
	});
}

/// Runs batch `id` to its window's end, reveals its audit secret and runs to the next block,
/// where its audit is decided.
fn end_window(id: TaskId) {
	run_to_block(task(id).phase_ends);
	assert_ok!(Inference::reveal_audit_secret(RuntimeOrigin::signed(1), id, AUDIT_SECRET));
	run_to_block(System::block_number() + 1);
}

/// A batch with two executors agreeing on a root, revealed: its window running. Returns it.
fn revealed_batch() -> TaskId {
	let root = H256::repeat_byte(0x0A);
	let (id, chosen) = committed_batch(|_| root);
	for (i, executor) in chosen.into_iter().enumerate() {
		let uri = format!("https://outputs.example/{i}");
		assert_ok!(reveal_root(executor, id, root, None, Some(uri.as_bytes())));
	}
	compare_results();
	assert_eq!(task(id).status, TaskStatus::Revealed);
	id
}

/// The requester's audit secret is revealed only once the window has ended, when the hash of
/// the block before that end is sealed: revealed earlier, an executor and that block's author
/// would know every part of the seed while they could still choose the block. The window's end
/// waits for it, closed to challenges, and the audit is decided from both at the next block.
#[test]
fn a_batchs_audit_is_seeded_by_its_requesters_secret_revealed_after_the_window() {
	run_test(|| {
		let id = revealed_batch();
		let end = task(id).phase_ends;
		// Not before the window's end, not a task, not another secret; and refused before the
		// pool, where dispatch would refuse it (a secret sent early is never published).
		let duty =
			|secret| Inference::duty_of(&7, &crate::Call::reveal_audit_secret { task: id, secret });
		assert_noop!(
			Inference::reveal_audit_secret(RuntimeOrigin::signed(1), id, AUDIT_SECRET),
			Error::<Test>::AuditSecretNotAwaited
		);
		assert_eq!(duty(AUDIT_SECRET), Some(Err(DutyError::WrongPhase)));
		run_to_block(end);
		assert!(AuditSeeds::get().is_empty(), "nothing decided without the secret");
		System::assert_has_event(
			Event::AuditSecretAwaited { task: id, until: end + AUDIT_SECRET_PERIOD }.into(),
		);
		let record = task(id);
		assert_eq!(
			(record.status, record.phase_ends),
			(TaskStatus::Revealed, end + AUDIT_SECRET_PERIOD)
		);
		// The seed of the block before the window's end is read once, now, and kept: no
		// block's hash is looked up once the secret may be known.
		let block_seed =
			TestRandomness::random_at(&(b"inference/audit", id).encode(), end - 1).expect("a seed");
		assert_eq!(
			AwaitedAuditSecrets::<Test>::get(id),
			Some(AwaitedSecret { extended: false, block_seed: Some(block_seed) })
		);
		// The window has ended: no challenge now.
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::open_challenge(id),
			Error::<Test>::DeadlinePassed
		);
		assert_noop!(
			Inference::reveal_audit_secret(RuntimeOrigin::signed(1), id, H256::repeat_byte(1)),
			Error::<Test>::AuditSecretMismatch
		);
		assert_eq!(duty(H256::repeat_byte(1)), Some(Err(DutyError::Invalid)));
		let accepted = duty(AUDIT_SECRET).expect("a duty").expect("valid");
		assert_eq!(accepted.last_block, end + AUDIT_SECRET_PERIOD - 1);
		let single = submit(50, 1);
		assert_noop!(
			Inference::reveal_audit_secret(RuntimeOrigin::signed(1), single, AUDIT_SECRET),
			Error::<Test>::NotABatch
		);
		// Anyone may send it (only the requester knows it); decided at the next block.
		let decided = System::block_number() + 1;
		assert_ok!(Inference::reveal_audit_secret(RuntimeOrigin::signed(7), id, AUDIT_SECRET));
		System::assert_has_event(
			Event::AuditSecretRevealed { task: id, audit_decided_at: decided }.into(),
		);
		assert_noop!(
			Inference::reveal_audit_secret(RuntimeOrigin::signed(1), id, AUDIT_SECRET),
			Error::<Test>::AuditSecretNotAwaited
		);
		assert_eq!(duty(AUDIT_SECRET), Some(Err(DutyError::AlreadyDone)));
		run_to_block(decided);
		assert_eq!(
			AuditSeeds::get(),
			vec![(
				id,
				AuditSeed::Drawn(Some(Inference::batch_audit_seed_of(AUDIT_SECRET, block_seed)))
			)]
		);
		assert_ne!(Inference::batch_audit_seed_of(AUDIT_SECRET, block_seed), block_seed);
		// Not audited (the mock audits only withheld secrets here): paid, the deposit whole.
		let deposit = task(id).deposit;
		assert_eq!(task(id).status, TaskStatus::Finalised);
		run_to_block(decided + RETENTION);
		assert!(Tasks::<Test>::get(id).is_none());
		assert!(!AwaitedAuditSecrets::<Test>::contains_key(id));
		assert!(!AuditSecrets::<Test>::contains_key(id));
		System::assert_has_event(Event::TaskPruned { task: id }.into());
		// The whole deposit back, its jury part included.
		System::assert_has_event(
			pallet_balances::Event::Released {
				reason: HoldReason::TaskEscrow.into(),
				who: 1,
				amount: deposit,
			}
			.into(),
		);
	});
}

/// A requester that does not reveal its audit secret gets its batch audited whatever the draw,
/// on an item drawn from a block after it chose to withhold, and pays that audit's jury from
/// the deposit it held at submission: withholding can buy an audit, never escape one, and never
/// costs the protocol account. Full blocks before the wait's end move it on once.
#[test]
fn a_withheld_audit_secret_audits_the_batch_at_the_requesters_cost() {
	run_test(|| {
		let id = revealed_batch();
		let end = task(id).phase_ends;
		run_to_block(end);
		let until = end + AUDIT_SECRET_PERIOD;
		// The blocks before the wait's end were full: it moves on once.
		agentchain_support::mock_helpers::run_full_to_block::<Test, AllPalletsWithSystem>(until);
		System::assert_has_event(
			Event::DeadlineExtended { task: id, phase_ends: until + CONGESTION_GRACE }.into(),
		);
		assert!(AuditSeeds::get().is_empty());
		let (deposit, held_before) = (task(id).deposit, held(1));
		let protocol = Balances::free_balance(Inference::account_id());
		run_to_block(until + CONGESTION_GRACE);
		let item_seed = TestRandomness::random_at(
			&(b"inference/withheld-audit", id).encode(),
			until + CONGESTION_GRACE - 1,
		)
		.expect("a seed");
		assert_eq!(AuditSeeds::get(), vec![(id, AuditSeed::Withheld(item_seed))]);
		assert_eq!(Audited::get(), vec![id]);
		assert_eq!(task(id).status, TaskStatus::Disputed);
		System::assert_has_event(
			Event::AuditSecretWithheld { task: id, forfeited: JURY_DEPOSIT }.into(),
		);
		assert_eq!(task(id).deposit, deposit - JURY_DEPOSIT);
		assert_eq!(held(1), held_before - JURY_DEPOSIT);
		assert_eq!(Balances::free_balance(Inference::account_id()), protocol + JURY_DEPOSIT);
		assert_eq!(
			ProtocolFlows::<Test>::get(ProtocolFlow::WithheldAuditSecrets).received,
			JURY_DEPOSIT
		);
		// Too late to reveal now (and refused before the pool).
		assert_eq!(
			Inference::duty_of(
				&1,
				&crate::Call::reveal_audit_secret { task: id, secret: AUDIT_SECRET }
			),
			Some(Err(DutyError::WrongPhase))
		);
		assert_noop!(
			Inference::reveal_audit_secret(RuntimeOrigin::signed(1), id, AUDIT_SECRET),
			Error::<Test>::AuditSecretNotAwaited
		);
	});
}
