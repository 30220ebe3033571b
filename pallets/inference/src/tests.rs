//! Unit tests of the inference pallet, with the real agent registry.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::GetDispatchInfo,
	traits::{fungible::InspectHold as _, Hooks},
};
use pallet_agents::AgentRegistry as _;
use sp_runtime::traits::BadOrigin;

const PARAMS: TaskParams = TaskParams {
	max_tokens: 16,
	temperature_milli: 0,
	seed: 7,
	mode: VerificationMode::ExactMatch,
};
const COMMIT_PERIOD: u64 = 5;

fn hash(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

fn salt(n: u8) -> [u8; 32] {
	[n; 32]
}

/// Submits a task, then moves to the next block, where its executors are drawn.
fn submit_with(requester: u64, fee: u64, redundancy: u32, params: TaskParams) -> TaskId {
	let id = NextTaskId::<Test>::get();
	assert_ok!(Inference::submit_task(
		RuntimeOrigin::signed(requester),
		model(),
		TaskInput::Inline(b"What is 2 + 2?".to_vec()),
		params,
		fee,
		redundancy,
		COMMIT_PERIOD,
	));
	assert_eq!(task(id).status, TaskStatus::Submitted);
	run_to_block(System::block_number() + 1);
	id
}

fn submit(fee: u64, redundancy: u32) -> TaskId {
	submit_with(1, fee, redundancy, PARAMS)
}

fn task(id: TaskId) -> TaskInfo<Test> {
	Tasks::<Test>::get(id).expect("task exists")
}

fn executors(id: TaskId) -> Vec<u64> {
	task(id).assignments.iter().map(|a| a.executor).collect()
}

fn commit(signer: u64, executor: u64, id: TaskId, output: &[u8]) -> DispatchResult {
	Inference::commit(
		RuntimeOrigin::signed(signer),
		id,
		commitment_of(&hash(output), &salt(executor as u8), &executor),
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

fn reveal(signer: u64, executor: u64, id: TaskId, output: &[u8]) -> DispatchResult {
	Inference::reveal(
		RuntimeOrigin::signed(signer),
		id,
		hash(output),
		salt(executor as u8),
		Some(output.to_vec()),
		None,
	)
}

/// Runs the next block, whose hook compares the results of a task whose last executor revealed.
fn compare_results() {
	run_to_block(System::block_number() + 1);
}

fn escrow_held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::TaskEscrow.into(), &who)
}

fn pause_all_but(keep: u64) {
	for executor in 11..=14 {
		if executor != keep {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(executor)));
		}
	}
}

#[test]
fn a_task_goes_from_submission_to_finalisation_and_pruning() {
	run_test(|| {
		let protocol = Inference::account_id();
		let requester_before = Balances::free_balance(1);
		DepositBase::set(5);
		DepositPerByte::set(1);
		let id = submit(100, 1);
		// The deposit pays for what the task may store: its input, and one output of at most
		// `MaxOutputLen` with a URI of at most `MaxUriLen`.
		let deposit = 5 + 14 + 64 + 32;
		assert_eq!(task(id).deposit, deposit);
		// The fee and the deposit under one hold.
		assert_eq!(escrow_held(1), 100 + deposit);
		assert_eq!(Balances::balance_on_hold(&HoldReason::TaskDeposit.into(), &1), 0);
		System::assert_has_event(
			Event::TaskSubmitted {
				task: id,
				requester: 1,
				model: model(),
				fee: 100,
				redundancy: 1,
			}
			.into(),
		);
		let record = task(id);
		assert_eq!(record.status, TaskStatus::Assigned);
		assert_eq!(record.phase_ends, 2 + COMMIT_PERIOD);
		let executor = executors(id)[0];
		assert!(AssignedTasks::<Test>::contains_key(executor, id));
		let agent = pallet_agents::Registry::<Test>::get(executor).unwrap();
		assert_eq!(agent.open_work, 1);
		// The executor's stake backs this task alone, up to the worst it may cost it.
		assert_eq!(agent.collateral, Inference::executor_collateral(100));
		assert_eq!(
			Inference::executor_collateral(100),
			MISSED_REVEAL_SLASH.max(WRONG_RESULT_SLASH)
		);
		let executor_before = Balances::free_balance(executor);

		run_to_block(3);
		assert_ok!(commit(executor, executor, id, b"4"));
		System::assert_has_event(Event::ResultCommitted { task: id, executor }.into());
		// The only executor committed: the reveal phase starts at once.
		assert_eq!(task(id).status, TaskStatus::Committed);
		assert_eq!(task(id).phase_ends, 3 + REVEAL_PERIOD);

		run_to_block(4);
		assert_ok!(reveal(executor, executor, id, b"4"));
		System::assert_has_event(
			Event::RevealPhaseEnded { task: id, results_compared_at: 5 }.into(),
		);
		compare_results();
		let challenge_end = 5 + CHALLENGE_PERIOD;
		System::assert_has_event(
			Event::TaskRevealed { task: id, output_hash: hash(b"4"), challenge_end }.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Revealed);
		assert_eq!(task(id).result, Some(hash(b"4")));
		assert_eq!(Outputs::<Test>::get(id, hash(b"4")).unwrap().inline.unwrap().to_vec(), b"4");

		// Finalising before the challenge window ends is refused.
		assert_noop!(Inference::advance(RuntimeOrigin::signed(2), id), Error::<Test>::TooEarly);

		run_to_block(challenge_end);
		System::assert_has_event(
			Event::TaskFinalised {
				task: id,
				output_hash: hash(b"4"),
				paid: 90,
				protocol_cut: 10,
				refunded: 0,
			}
			.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Finalised);
		assert_eq!(Finalised::get(), vec![(id, 10)]);
		assert_eq!(Balances::free_balance(executor), executor_before + 90);
		assert_eq!(Balances::free_balance(protocol), 10);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::ProtocolCut).received, 10);
		assert_eq!(Balances::free_balance(1), requester_before - 100 - deposit);
		assert_eq!(escrow_held(1), deposit);
		assert!(!AssignedTasks::<Test>::contains_key(executor, id));
		let agent = pallet_agents::Registry::<Test>::get(executor).unwrap();
		assert_eq!((agent.open_work, agent.collateral), (0, 0));
		assert_eq!(agent.reputation.completed, 1);

		run_to_block(challenge_end + RETENTION);
		System::assert_has_event(Event::TaskPruned { task: id }.into());
		assert!(Tasks::<Test>::get(id).is_none());
		// Pruned: the deposit is back.
		assert_eq!(Balances::free_balance(1), requester_before - 100);
		assert_eq!(escrow_held(1), 0);
		assert!(Outputs::<Test>::get(id, hash(b"4")).is_none());
	});
}

#[test]
fn redundant_executors_that_agree_share_the_fee() {
	run_test(|| {
		let id = submit(90, 3);
		let chosen = executors(id);
		assert_eq!(chosen.len(), 3);
		let before: Vec<u64> = chosen.iter().map(|e| Balances::free_balance(e)).collect();
		for &executor in &chosen {
			assert_ok!(commit(executor, executor, id, b"same"));
		}
		for &executor in &chosen {
			assert_ok!(reveal(executor, executor, id, b"same"));
		}
		compare_results();
		assert_eq!(task(id).status, TaskStatus::Revealed);
		run_to_block(3 + CHALLENGE_PERIOD);
		for (executor, before) in chosen.iter().zip(before) {
			assert_eq!(Balances::free_balance(executor), before + 27);
		}
		assert_eq!(Balances::free_balance(Inference::account_id()), 9);
	});
}

#[test]
fn the_operator_key_commits_and_reveals_for_its_agent() {
	run_test(|| {
		pause_all_but(11);
		let id = submit(50, 1);
		assert_eq!(executors(id), vec![11]);
		let operator_before = Balances::free_balance(21);
		// 21 is 11's operator: it signs, the commitment binds the agent's account.
		assert_ok!(commit(21, 11, id, b"out"));
		assert_ok!(reveal(21, 11, id, b"out"));
		System::assert_has_event(
			Event::ResultRevealed { task: id, executor: 11, output_hash: hash(b"out") }.into(),
		);
		run_to_block(3 + CHALLENGE_PERIOD);
		assert_eq!(task(id).status, TaskStatus::Finalised);
		// Payment goes to the agent, never to the operator key.
		assert_eq!(Balances::free_balance(21), operator_before);
	});
}

#[test]
fn only_assigned_executors_commit_and_reveal() {
	run_test(|| {
		pause_all_but(12);
		let id = submit(50, 1);
		assert_eq!(executors(id), vec![12]);
		// Another registered agent, its operator, and a stranger are refused.
		assert_noop!(commit(13, 13, id, b"x"), Error::<Test>::NotAssigned);
		assert_noop!(commit(21, 11, id, b"x"), Error::<Test>::NotAssigned);
		assert_noop!(commit(5, 5, id, b"x"), Error::<Test>::NotAssigned);
		assert_noop!(Inference::commit(RuntimeOrigin::root(), id, H256::zero()), BadOrigin);
		assert_noop!(commit(12, 12, 99, b"x"), Error::<Test>::UnknownTask);
		// Revealing before the reveal phase.
		assert_noop!(reveal(12, 12, id, b"x"), Error::<Test>::WrongPhase);
	});
}

#[test]
fn a_late_commit_is_refused() {
	run_test(|| {
		let id = submit(50, 1);
		let executor = executors(id)[0];
		// The hook has not run for the deadline block yet (as if it were left over).
		System::set_block_number(task(id).phase_ends);
		assert_noop!(commit(executor, executor, id, b"x"), Error::<Test>::DeadlinePassed);
	});
}

#[test]
fn reveals_must_match_their_commitment_and_happen_once() {
	run_test(|| {
		let id = submit(100, 2);
		let chosen = executors(id);
		let (a, b) = (chosen[0], chosen[1]);
		assert_ok!(commit(a, a, id, b"answer"));
		assert_noop!(commit(a, a, id, b"answer"), Error::<Test>::AlreadyCommitted);
		assert_ok!(commit(b, b, id, b"answer"));

		// Another output than the committed one.
		assert_noop!(reveal(a, a, id, b"other"), Error::<Test>::CommitmentMismatch);
		// The right hash and salt, but output bytes that do not hash to it.
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(a),
				id,
				hash(b"answer"),
				salt(a as u8),
				Some(b"forged".to_vec()),
				None
			),
			Error::<Test>::OutputHashMismatch
		);
		// The output must be on chain: the requester reads what it pays for.
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(a),
				id,
				hash(b"answer"),
				salt(a as u8),
				None,
				Some(b"ipfs://answer".to_vec())
			),
			Error::<Test>::InlineOutputRequired
		);
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(a),
				id,
				hash(b"answer"),
				salt(a as u8),
				Some(vec![0; 65]),
				None
			),
			Error::<Test>::OutputTooLong
		);
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(a),
				id,
				hash(b"answer"),
				salt(a as u8),
				Some(b"answer".to_vec()),
				Some(vec![b'u'; 33])
			),
			Error::<Test>::UriTooLong
		);
		// Only a task with a referenced input may be answered "input unavailable".
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(a),
				id,
				INPUT_UNAVAILABLE,
				salt(a as u8),
				None,
				None
			),
			Error::<Test>::CommitmentMismatch
		);

		// The output inline, with a URI where else to find it.
		assert_ok!(Inference::reveal(
			RuntimeOrigin::signed(a),
			id,
			hash(b"answer"),
			salt(a as u8),
			Some(b"answer".to_vec()),
			Some(b"ipfs://answer".to_vec())
		));
		assert_noop!(reveal(a, a, id, b"answer"), Error::<Test>::AlreadyRevealed);
		assert_eq!(task(id).status, TaskStatus::Committed);
		assert_ok!(reveal(b, b, id, b"answer"));
		compare_results();
		assert_eq!(task(id).status, TaskStatus::Revealed);
	});
}

#[test]
fn submissions_are_checked() {
	run_test(|| {
		let submit_raw = |who: u64,
		                  m: ModelId,
		                  input: Vec<u8>,
		                  params: TaskParams,
		                  fee: u64,
		                  r: u32,
		                  period: u64| {
			// The error alone: a refusal for want of executors carries the weight it used.
			Inference::submit_task(
				RuntimeOrigin::signed(who),
				m,
				TaskInput::Inline(input),
				params,
				fee,
				r,
				period,
			)
			.map_err(|refused| refused.error)
		};
		let input = b"prompt".to_vec();
		assert_noop!(
			submit_raw(1, H256::repeat_byte(1), input.clone(), PARAMS, 50, 1, COMMIT_PERIOD),
			Error::<Test>::NoExecutors
		);
		assert_noop!(
			submit_raw(1, model(), input.clone(), PARAMS, MIN_FEE * 2 - 1, 2, COMMIT_PERIOD),
			Error::<Test>::FeeTooLow
		);
		assert_noop!(
			submit_raw(1, model(), input.clone(), PARAMS, 50, 0, COMMIT_PERIOD),
			Error::<Test>::InvalidRedundancy
		);
		assert_noop!(
			submit_raw(1, model(), input.clone(), PARAMS, 50, 4, COMMIT_PERIOD),
			Error::<Test>::InvalidRedundancy
		);
		assert_noop!(
			submit_raw(1, model(), input.clone(), PARAMS, 50, 1, MIN_COMMIT - 1),
			Error::<Test>::InvalidCommitPeriod
		);
		assert_noop!(
			submit_raw(1, model(), input.clone(), PARAMS, 50, 1, MAX_COMMIT + 1),
			Error::<Test>::InvalidCommitPeriod
		);
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { max_tokens: 0, ..PARAMS },
				50,
				1,
				COMMIT_PERIOD
			),
			Error::<Test>::InvalidParams
		);
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { temperature_milli: 2001, ..PARAMS },
				50,
				1,
				COMMIT_PERIOD
			),
			Error::<Test>::InvalidParams
		);
		assert_noop!(
			submit_raw(1, model(), vec![0; 65], PARAMS, 50, 1, COMMIT_PERIOD),
			Error::<Test>::InputTooLong
		);
		// Exact match needs greedy decoding, or honest executors disagree.
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { temperature_milli: 1500, ..PARAMS },
				50,
				1,
				COMMIT_PERIOD
			),
			Error::<Test>::TemperatureNotZero
		);
		// Nor can jurors judge a sampled output by re-executing it: honest outputs would be
		// rejected, and their executors slashed.
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { mode: VerificationMode::Jury, temperature_milli: 700, ..PARAMS },
				50,
				1,
				COMMIT_PERIOD
			),
			Error::<Test>::TemperatureNotZero
		);
		// A jury judges one output: jury mode has one executor.
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { mode: VerificationMode::Jury, ..PARAMS },
				50,
				2,
				COMMIT_PERIOD
			),
			Error::<Test>::JuryModeRedundancy
		);
		// More tokens than allowed, or than the commit period gives time for.
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { max_tokens: MAX_TOKENS + 1, ..PARAMS },
				50,
				1,
				MAX_COMMIT
			),
			Error::<Test>::TooManyTokens
		);
		assert_noop!(
			submit_raw(
				1,
				model(),
				input.clone(),
				TaskParams { max_tokens: TOKENS_PER_BLOCK * MIN_COMMIT as u32 + 1, ..PARAMS },
				50,
				1,
				MIN_COMMIT
			),
			Error::<Test>::CommitPeriodTooShort
		);
		// The executor would only fail on it.
		assert_noop!(
			submit_raw(1, model(), vec![0xff], PARAMS, 50, 1, COMMIT_PERIOD),
			Error::<Test>::InputNotText
		);
		for uri in [&b"ftp://example.org/in"[..], b"https://", b"http://a b", b"\xff"] {
			assert_noop!(
				Inference::submit_task(
					RuntimeOrigin::signed(1),
					model(),
					TaskInput::Reference { hash: hash(b"in"), uri: uri.to_vec() },
					PARAMS,
					50,
					1,
					COMMIT_PERIOD
				),
				Error::<Test>::InvalidInputUri
			);
		}
		// Account 3 has 15: it cannot put 15 in escrow and stay alive.
		assert_noop!(
			submit_raw(3, model(), input.clone(), PARAMS, 15, 1, COMMIT_PERIOD),
			Error::<Test>::InsufficientBalance
		);
		// More executors than are active.
		pause_all_but(11);
		assert_noop!(
			submit_raw(1, model(), input, PARAMS, 50, 2, COMMIT_PERIOD),
			Error::<Test>::NoExecutors
		);
		assert_eq!(NextTaskId::<Test>::get(), 0);
	});
}

#[test]
fn a_large_input_can_be_referenced_by_hash() {
	run_test(|| {
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(1),
			model(),
			TaskInput::Reference { hash: hash(b"big"), uri: b"https://example.org/in".to_vec() },
			PARAMS,
			50,
			1,
			COMMIT_PERIOD,
		));
		assert!(matches!(task(0).input, TaskInput::Reference { .. }));
	});
}

#[test]
fn an_executor_that_misses_the_commit_deadline_is_slashed_and_replaced() {
	run_test(|| {
		let id = submit(50, 1);
		let first = executors(id)[0];
		let requester_before = Balances::free_balance(1);
		let stake_before = Agents::stake_of(&first);
		let protocol = Inference::account_id();
		let deadline = task(id).phase_ends;
		assert_eq!(deadline, 2 + COMMIT_PERIOD);

		run_to_block(deadline);
		System::assert_has_event(
			Event::ExecutorMissedDeadline { task: id, executor: first, slashed: MISSED_SLASH }
				.into(),
		);
		assert_eq!(Agents::stake_of(&first), stake_before - MISSED_SLASH);
		// The miss is on the executor's record.
		let reputation = pallet_agents::Registry::<Test>::get(first).unwrap().reputation;
		assert_eq!((reputation.deadlines_missed, reputation.completed), (1, 0));
		// The slash funds the protocol, not the requester (who must not profit from failures).
		assert_eq!(Balances::free_balance(protocol), MISSED_SLASH);
		assert_eq!(
			ProtocolFlows::<Test>::get(ProtocolFlow::MissedDeadlines).received,
			MISSED_SLASH
		);
		assert_eq!(Balances::free_balance(1), requester_before);
		assert!(!AssignedTasks::<Test>::contains_key(first, id));
		assert_eq!(pallet_agents::Registry::<Test>::get(first).unwrap().collateral, 0);

		// New executors are drawn at the next block, never the one that failed.
		System::assert_has_event(Event::TaskReassigned { task: id, excluded: vec![first] }.into());
		assert_eq!(task(id).status, TaskStatus::Submitted);
		assert_eq!(task(id).reassignments, 1);
		run_to_block(deadline + 1);
		let second = executors(id)[0];
		assert_ne!(second, first);
		assert_eq!(task(id).status, TaskStatus::Assigned);
		assert_eq!(task(id).phase_ends, deadline + 1 + COMMIT_PERIOD);

		// The second executor misses too: no reassignment left, the fee is refunded.
		run_to_block(deadline + 1 + COMMIT_PERIOD);
		System::assert_has_event(Event::TaskExpired { task: id, refunded: 50 }.into());
		assert_eq!(task(id).status, TaskStatus::Expired);
		assert_eq!(escrow_held(1), 0);
		assert_eq!(Balances::free_balance(1), requester_before + 50);
		assert_eq!(Balances::free_balance(protocol), 2 * MISSED_SLASH);
	});
}

/// Runs to block `n`, every block on the way full of ordinary traffic.
fn run_full_to_block(n: u64) {
	agentchain_support::mock_helpers::run_full_to_block::<Test, AllPalletsWithSystem>(n)
}

/// Someone fills the blocks before a commit deadline: the deadline moves on by the grace, once
/// for the phase, and nobody is slashed for it; the executor's late commit counts. A deadline
/// extended once is not extended again, whatever the blocks: no flood stalls a task.
#[test]
fn a_deadline_that_fell_in_full_blocks_is_extended_once() {
	run_test(|| {
		let id = submit(50, 1);
		let executor = executors(id)[0];
		let stake = Agents::stake_of(&executor);
		let deadline = task(id).phase_ends;
		run_full_to_block(deadline);
		System::assert_has_event(
			Event::DeadlineExtended { task: id, phase_ends: deadline + CONGESTION_GRACE }.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Assigned);
		assert_eq!(Agents::stake_of(&executor), stake);
		assert_ok!(commit(executor, executor, id, b"4"));
		assert_eq!(task(id).status, TaskStatus::Committed);

		// The reveal phase may be extended once too; after that the executor that does not
		// reveal is slashed, full blocks or not.
		let reveal_deadline = task(id).phase_ends;
		run_full_to_block(reveal_deadline);
		assert_eq!(task(id).phase_ends, reveal_deadline + CONGESTION_GRACE);
		run_full_to_block(reveal_deadline + CONGESTION_GRACE);
		assert!(Agents::stake_of(&executor) < stake, "slashed for the missed reveal");
		assert_ne!(task(id).status, TaskStatus::Committed);
	});
}

/// Blocks that were not full, or full long before the deadline, extend nothing.
#[test]
fn a_deadline_after_blocks_with_room_is_not_extended() {
	run_test(|| {
		let id = submit(50, 1);
		let executor = executors(id)[0];
		let deadline = task(id).phase_ends;
		// Full, but before the grace blocks that precede the deadline.
		run_full_to_block(deadline - CONGESTION_GRACE);
		run_to_block(deadline);
		System::assert_has_event(
			Event::ExecutorMissedDeadline { task: id, executor, slashed: MISSED_SLASH }.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Submitted);
	});
}

/// One full block before a deadline is not enough to move it: the grace blocks must all be full,
/// so that a late executor cannot buy time by filling one block.
#[test]
fn one_full_block_before_a_deadline_does_not_extend_it() {
	run_test(|| {
		let id = submit(50, 1);
		let executor = executors(id)[0];
		let deadline = task(id).phase_ends;
		run_to_block(deadline - 1);
		run_full_to_block(deadline);
		System::assert_has_event(
			Event::ExecutorMissedDeadline { task: id, executor, slashed: MISSED_SLASH }.into(),
		);
		assert!(!System::events()
			.iter()
			.any(|r| matches!(r.event, RuntimeEvent::Inference(Event::DeadlineExtended { .. }))));
	});
}

/// A cheater with a co-executor sees the honest reveal differ from its own commitment, and
/// withholds its reveal: that must cost it at least what the wrong result would have.
#[test]
fn withholding_a_reveal_costs_as_much_as_a_wrong_result() {
	run_test(|| {
		let id = submit(100, 2);
		let chosen = executors(id);
		let (a, b) = (chosen[0], chosen[1]);
		assert_ok!(commit(a, a, id, b"r"));
		assert_ok!(commit(b, b, id, b"r"));
		assert_ok!(reveal(a, a, id, b"r"));
		let stake_before = Agents::stake_of(&b);
		let reveal_deadline = task(id).phase_ends;
		run_to_block(reveal_deadline);
		System::assert_has_event(
			Event::ExecutorMissedDeadline { task: id, executor: b, slashed: MISSED_REVEAL_SLASH }
				.into(),
		);
		assert_eq!(Agents::stake_of(&b), stake_before - MISSED_REVEAL_SLASH);
		assert!(MISSED_REVEAL_SLASH >= WRONG_RESULT_SLASH);
		// The withheld reveal is on b's record, not on a's.
		let missed = |who| pallet_agents::Registry::<Test>::get(who).unwrap().reputation;
		assert_eq!((missed(b).deadlines_missed, missed(a).deadlines_missed), (1, 0));
		// The revealed result stands, and only its executor is paid: half the fee, the other
		// half is refunded.
		assert_eq!(task(id).status, TaskStatus::Revealed);
		let a_before = Balances::free_balance(a);
		run_to_block(reveal_deadline + CHALLENGE_PERIOD);
		System::assert_has_event(
			Event::TaskFinalised {
				task: id,
				output_hash: hash(b"r"),
				paid: 45,
				protocol_cut: 5,
				refunded: 50,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(a), a_before + 45);
	});
}

#[test]
fn partial_commits_continue_with_the_executors_that_committed() {
	run_test(|| {
		let id = submit(100, 2);
		let chosen = executors(id);
		assert_ok!(commit(chosen[0], chosen[0], id, b"r"));
		run_to_block(2 + COMMIT_PERIOD);
		assert_eq!(task(id).status, TaskStatus::Committed);
		assert_eq!(executors(id), vec![chosen[0]]);
		assert!(!AssignedTasks::<Test>::contains_key(chosen[1], id));
		assert_ok!(reveal(chosen[0], chosen[0], id, b"r"));
		compare_results();
		assert_eq!(task(id).status, TaskStatus::Revealed);
	});
}

/// A submission declares the cost of reading a full candidate set and is charged for the records
/// its availability check read: up to the `redundancy`th selectable candidate.
#[test]
fn a_submission_is_charged_for_the_candidate_records_it_read() {
	use crate::weights::WeightInfo;
	use frame_support::traits::UnfilteredDispatchable;
	run_test(|| {
		let prompt = b"What is 2 + 2?".to_vec();
		let len = prompt.len() as u32;
		let submit = |redundancy: u32| {
			let call = Call::<Test>::submit_task {
				model: model(),
				input: TaskInput::Inline(prompt.clone()),
				params: PARAMS,
				fee: 90,
				redundancy,
				commit_period: COMMIT_PERIOD,
			};
			let declared = call.get_dispatch_info().call_weight;
			let post = call.dispatch_bypass_filter(RuntimeOrigin::signed(1)).expect("submitted");
			(declared, post.actual_weight)
		};
		let full = <() as WeightInfo>::submit_task(1, len, Agents::max_candidates(), 1);
		// 11, 12, 13, 14 in the set, all selectable: one record read for one executor, none
		// passed over.
		assert_eq!(submit(1), (full, Some(<() as WeightInfo>::submit_task(1, len, 0, 1))));
		assert_eq!(submit(3).1, Some(<() as WeightInfo>::submit_task(3, len, 0, 1)));
		// 11 and 12 have no free stake: read and passed over.
		for busy in [11, 12] {
			assert_ok!(Agents::note_work_opened(&busy, Agents::free_stake_of(&busy), 0));
		}
		assert_eq!(submit(1).1, Some(<() as WeightInfo>::submit_task(1, len, 2, 1)));
		assert!(<() as WeightInfo>::submit_task(1, len, 2, 1).all_lt(full));
		// Too few: every member read, and charged as passed over.
		let call = Call::<Test>::submit_task {
			model: model(),
			input: TaskInput::Inline(prompt.clone()),
			params: PARAMS,
			fee: 90,
			redundancy: 3,
			commit_period: COMMIT_PERIOD,
		};
		let refused = call.dispatch_bypass_filter(RuntimeOrigin::signed(1)).unwrap_err();
		assert_eq!(refused.error, Error::<Test>::NoExecutors.into());
		assert_eq!(
			refused.post_info.actual_weight,
			Some(<() as WeightInfo>::submit_task(3, len, 4, 0))
		);
	});
}

#[test]
fn the_last_reveal_costs_what_any_reveal_costs_and_the_hook_compares_the_results() {
	use crate::weights::WeightInfo;
	run_test(|| {
		// Declared: the reveal's own weight, whatever the conclusion (a dispute opened, every
		// output paid): the conclusion is the hook's, charged with its transitions.
		let declared = Call::<Test>::reveal {
			task: 0,
			output_hash: hash(b"same"),
			salt: salt(0),
			output: Some(b"same".to_vec()),
			uri: None,
		}
		.get_dispatch_info()
		.call_weight;
		assert_eq!(declared, <() as WeightInfo>::reveal(4));

		// Agreeing executors: the last reveal ends the reveal phase; the results are compared
		// at the next block, whose hook opens the challenge window.
		let id = submit(90, 3);
		let chosen = executors(id);
		for &executor in &chosen {
			assert_ok!(commit(executor, executor, id, b"same"));
		}
		let now = System::block_number();
		for &executor in &chosen {
			assert_ok!(reveal(executor, executor, id, b"same"));
		}
		System::assert_has_event(
			Event::RevealPhaseEnded { task: id, results_compared_at: now + 1 }.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Committed);
		assert_eq!(task(id).phase_ends, now + 1);
		// Nobody can move it on before the hook: its deadline has not passed.
		assert_noop!(Inference::advance(RuntimeOrigin::signed(1), id), Error::<Test>::TooEarly);
		run_to_block(now + 1);
		assert_eq!(task(id).status, TaskStatus::Revealed);
		assert_eq!(task(id).result, Some(hash(b"same")));
		System::assert_has_event(
			Event::TaskRevealed {
				task: id,
				output_hash: hash(b"same"),
				challenge_end: now + 1 + CHALLENGE_PERIOD,
			}
			.into(),
		);
		// Every executor still holds its collateral for the task, nobody slashed.
		assert!(chosen.iter().all(|e| AssignedTasks::<Test>::contains_key(e, id)));

		// Two executors disagree: the dispute is opened by the hook at the next block.
		let disagree = || {
			let id = submit(100, 2);
			let (a, b) = (executors(id)[0], executors(id)[1]);
			assert_ok!(commit(a, a, id, b"sure"));
			assert_ok!(commit(b, b, id, b"nope"));
			assert_ok!(reveal(a, a, id, b"sure"));
			assert_ok!(reveal(b, b, id, b"nope"));
			assert_eq!(task(id).status, TaskStatus::Committed);
			run_to_block(System::block_number() + 1);
			task(id).status
		};
		// A dispute opened.
		assert_eq!(disagree(), TaskStatus::Disputed);
		// No jury to judge it: every delivered output paid.
		NoJury::set(true);
		assert_eq!(disagree(), TaskStatus::Finalised, "paid without a verdict");
	});
}

/// A task of fee 100 whose two executors revealed different outputs ("yes" and "no"), its
/// results compared: disputed. Returns it and its executors.
fn disagreeing_task() -> (TaskId, u64, u64) {
	let id = submit(100, 2);
	let chosen = executors(id);
	let (a, b) = (chosen[0], chosen[1]);
	assert_ok!(commit(a, a, id, b"yes"));
	assert_ok!(commit(b, b, id, b"no"));
	assert_ok!(reveal(a, a, id, b"yes"));
	assert_ok!(reveal(b, b, id, b"no"));
	compare_results();
	(id, a, b)
}

#[test]
fn disagreeing_executors_open_a_dispute_that_times_out_with_a_refund() {
	run_test(|| {
		let (id, a, b) = disagreeing_task();
		System::assert_has_event(
			Event::TaskDisputed { task: id, timeout: 3 + DISPUTE_TIMEOUT }.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Disputed);
		assert_eq!(HandedOver::get(), vec![(id, vec![a, b], vec![hash(b"yes"), hash(b"no")])]);

		let before = (Balances::free_balance(a), Balances::free_balance(b));
		run_to_block(3 + DISPUTE_TIMEOUT);
		System::assert_has_event(Event::TaskExpired { task: id, refunded: 100 }.into());
		assert_eq!(escrow_held(1), 0);
		assert_eq!((Balances::free_balance(a), Balances::free_balance(b)), before);
		assert!(!AssignedTasks::<Test>::contains_key(a, id));
	});
}

/// A dispute whose judging runs late (its handler's queue is backed up) is not cut short by the
/// timeout: a full queue never decides an outcome.
#[test]
fn a_dispute_still_being_judged_does_not_time_out() {
	run_test(|| {
		let (id, a, b) = disagreeing_task();
		Judging::mutate(|j| j.push(id));
		run_to_block(3 + DISPUTE_TIMEOUT);
		assert_eq!(task(id).status, TaskStatus::Disputed);
		assert_eq!(task(id).phase_ends, 3 + 2 * DISPUTE_TIMEOUT);
		assert_eq!(escrow_held(1), 100);

		// The judges could not tell who was right: both outputs were delivered and are
		// public, so both executors are paid; the requester does not get them for free.
		let before = (Balances::free_balance(a), Balances::free_balance(b));
		assert_ok!(<Inference as InferenceTasks<_, _>>::resolve(id, Resolution::Undecided));
		assert_eq!(task(id).status, TaskStatus::Finalised);
		assert_eq!(
			(Balances::free_balance(a), Balances::free_balance(b)),
			(before.0 + 45, before.1 + 45)
		);
		assert_eq!(escrow_held(1), 0);
	});
}

#[test]
fn a_tasks_dispute_cannot_end_unjudged() {
	run_test(|| {
		// Only a batch's item dispute ends unjudged; a task's dispute without a jury is
		// undecided (its outputs paid), and the refusal changes nothing.
		let (id, _, _) = disagreeing_task();
		let before = task(id);
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::resolve(id, Resolution::Unjudged),
			Error::<Test>::WrongPhase
		);
		assert_eq!(task(id), before);
	});
}

#[test]
fn jury_mode_has_one_executor_whose_output_is_the_result() {
	run_test(|| {
		let params = TaskParams { mode: VerificationMode::Jury, ..PARAMS };
		let id = submit_with(1, 100, 1, params);
		let a = executors(id)[0];
		assert_ok!(commit(a, a, id, b"a poem"));
		assert_ok!(reveal(a, a, id, b"a poem"));
		compare_results();
		assert_eq!(task(id).status, TaskStatus::Revealed);
		assert_eq!(task(id).result, Some(hash(b"a poem")));
		let before = Balances::free_balance(a);
		run_to_block(3 + CHALLENGE_PERIOD);
		assert_eq!(Balances::free_balance(a), before + 90);
	});
}

#[test]
fn finalize_moves_on_a_task_the_hook_left_over() {
	run_test(|| {
		let id = submit(100, 1);
		let executor = executors(id)[0];
		assert_ok!(commit(executor, executor, id, b"x"));
		assert_ok!(reveal(executor, executor, id, b"x"));
		compare_results();
		let challenge_end = task(id).phase_ends;
		// Past the window without the hook having run for that block.
		System::set_block_number(challenge_end);
		assert_noop!(Inference::advance(RuntimeOrigin::signed(2), id), Error::<Test>::TooEarly);
		System::set_block_number(challenge_end + 1);
		// Charged the window's end it made, not the costliest transition it declares.
		let before = task(id);
		let post = Inference::advance(RuntimeOrigin::signed(2), id).expect("moved on");
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let made = Inference::transition_cost(&before, Some(TaskStatus::Finalised))
			.saturating_add(db.reads(2))
			.saturating_add(db.reads_writes(2, 1));
		assert_eq!(post.actual_weight, Some(made));
		assert!(made.all_lt(Inference::advance_weight()));
		assert_eq!(task(id).status, TaskStatus::Finalised);
		assert!(Deadlines::<Test>::get(challenge_end, id).is_none());
		// Processed: the hook does not process it again.
		assert_noop!(Inference::advance(RuntimeOrigin::signed(2), id), Error::<Test>::TooEarly);
		assert_noop!(Inference::advance(RuntimeOrigin::signed(2), 42), Error::<Test>::UnknownTask);
	});
}

/// A draw the queue defers runs in the hook of a later block, seeded by that block's parent
/// hash: never by a hash known while the candidates could still change. No call can run a draw
/// (its sender would know the seed and could change the state in the same block).
#[test]
fn a_deferred_draw_is_seeded_by_the_block_it_runs_in_and_never_by_a_call() {
	run_test(|| {
		let id = submit_now(1, 100, COMMIT_PERIOD);
		let due = task(id).phase_ends;
		// The hook of the draw's block did not run (a full queue, say).
		let late = due + 3;
		System::set_block_number(late);
		assert_noop!(
			Inference::advance(RuntimeOrigin::signed(2), id),
			Error::<Test>::DrawnByHookOnly
		);
		let drawn_from = |block: u64| {
			let seed = TestRandomness::random_at(&(b"inference/assign", id, 0u32).encode(), block)
				.unwrap();
			Agents::select(Role::Executor, &model(), 1, seed, &[1], task(id).collateral, None)
				.unwrap()
		};
		let expected = drawn_from(late);
		// The hash of the block before the draw was due: known to all by now.
		assert_ne!(expected, drawn_from(due - 1));
		System::set_block_number(late + 1);
		Inference::on_initialize(late + 1);
		assert_eq!(executors(id), expected);
	});
}

/// Submits a task at the current block without moving on.
fn submit_now(requester: u64, fee: u64, commit_period: u64) -> TaskId {
	let id = NextTaskId::<Test>::get();
	assert_ok!(Inference::submit_task(
		RuntimeOrigin::signed(requester),
		model(),
		TaskInput::Inline(b"What is 2 + 2?".to_vec()),
		PARAMS,
		fee,
		1,
		commit_period,
	));
	id
}

/// More deadlines fall due in a block than it processes: the rest wait, in order, for the next
/// blocks. Nothing is refused and nothing is dropped.
#[test]
fn deadlines_beyond_a_blocks_capacity_are_deferred_in_order_never_dropped() {
	run_test(|| {
		let ids: Vec<TaskId> =
			(0..3 * MAX_DEADLINES).map(|_| submit_now(1, 10, COMMIT_PERIOD)).collect();
		assert!(ids.iter().all(|id| task(*id).phase_ends == 2));
		run_to_block(2);
		let assigned = |ids: &[TaskId]| {
			ids.iter().filter(|id| task(**id).status == TaskStatus::Assigned).count() as u32
		};
		assert_eq!(assigned(&ids), MAX_DEADLINES);
		assert_eq!(DeadlineCursor::<Test>::get(), 2);
		run_to_block(3);
		assert_eq!(assigned(&ids), 2 * MAX_DEADLINES);
		run_to_block(4);
		assert_eq!(assigned(&ids), 3 * MAX_DEADLINES);
		// Block 2's queue is empty now; the next run steps past it and the empty blocks.
		assert_eq!(DeadlineCursor::<Test>::get(), 2);
		run_to_block(5);
		assert_eq!(DeadlineCursor::<Test>::get(), 6);
		// Each got its full commit period from the block it was assigned at.
		assert_eq!(task(ids[ids.len() - 1]).phase_ends, 4 + COMMIT_PERIOD);
	});
}

/// A flood of due deadlines never makes the hook weigh more than its budget, and the budget, not
/// a count, bounds a block's work: more draws fit in it than the two costliest transitions it
/// is sized for. The rest wait, in order, and every one is drawn.
#[test]
fn the_hook_takes_as_many_deadlines_as_its_weight_budget_holds_and_never_more() {
	run_test(|| {
		DeadlinesPerBlock::set(1_000);
		// Two costliest transitions' time (the runtime bounds no proof size: a solo chain).
		let budget = Weight::from_parts(
			Inference::hook_weight(2, crate::MAX_BLOCKS_PER_RUN).ref_time(),
			u64::MAX,
		);
		MaxDeadlineWeight::set(budget);
		// Twelve due at the next block, six at the one after.
		let first: Vec<TaskId> = (0..12).map(|_| submit_now(1, 10, MAX_COMMIT)).collect();
		let mut block = System::block_number() + 1;
		System::set_block_number(block);
		let then: Vec<TaskId> = (0..6).map(|_| submit_now(1, 10, MAX_COMMIT)).collect();
		let ids: Vec<TaskId> = first.iter().chain(then.iter()).copied().collect();
		let drawn = |ids: &[TaskId]| {
			ids.iter().filter(|id| task(**id).status == TaskStatus::Assigned).count()
		};
		let mut per_block = Vec::new();
		loop {
			let before = drawn(&ids);
			let weight = Inference::on_initialize(block);
			assert!(weight.all_lte(budget), "block {block} weighed {weight}");
			per_block.push(drawn(&ids) - before);
			// The earlier deadlines first.
			assert!(drawn(&then) == 0 || drawn(&first) == first.len());
			if drawn(&ids) == ids.len() {
				break;
			}
			assert!(block < 100, "the draws never finished: {per_block:?}");
			block += 1;
			System::set_block_number(block);
		}
		assert!(per_block[0] > 2, "a draw costs less than the costliest transition: {per_block:?}");
		assert!(per_block[0] < first.len(), "the budget held all twelve draws: {per_block:?}");
		// Nothing left behind.
		assert!(Deadlines::<Test>::iter().all(|(at, _, ())| at > block));
	});
}

#[test]
fn the_hooks_work_depends_on_its_due_deadlines_not_on_open_tasks() {
	run_test(|| {
		// Many open tasks with later deadlines, one due at block `due`.
		let ids: Vec<TaskId> = (0..15).map(|_| submit_now(2, 10, MAX_COMMIT)).collect();
		run_to_block(5);
		let id = submit_now(1, 10, MIN_COMMIT);
		let due = task(id).phase_ends;
		System::set_block_number(due);
		let weight = Inference::on_initialize(due);
		// The queue's block looked at, the draw, the task read around it, its queue entry and
		// the full-block record: a draw, less than the costliest transition it is bounded by.
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let draw = <() as crate::weights::WeightInfo>::on_initialize_idle()
			.saturating_add(db.reads(2))
			.saturating_add(<() as crate::weights::WeightInfo>::process_draw(1))
			.saturating_add(db.reads(2))
			.saturating_add(db.reads_writes(2, 1))
			.saturating_add(db.reads_writes(1, 1));
		assert_eq!(weight, draw);
		assert!(weight.all_lt(Inference::hook_weight(1, 1)));
		assert_eq!(task(id).status, TaskStatus::Assigned);
		// Only that task moved; the fifteen others are untouched.
		assert!(ids
			.iter()
			.all(|id| task(*id).status == TaskStatus::Assigned && task(*id).reassignments == 0));
	});
}

/// Every path a deadline's transition can take is charged at most the bound the hook and
/// `advance` are sized by, at every redundancy; a draw, a comparison of agreeing results and a
/// window's end are charged less, which is what makes room in a busy block.
#[test]
fn a_transition_is_charged_its_path_within_the_bound() {
	run_test(|| {
		let id = submit(100, 1);
		let mut before = task(id);
		assert!(!before.assignments.is_empty(), "assigned: withheld reveals can be set");
		let bound = Inference::transition_weight();
		let statuses = [
			TaskStatus::Submitted,
			TaskStatus::Assigned,
			TaskStatus::Committed,
			TaskStatus::Revealed,
			TaskStatus::Disputed,
			TaskStatus::Finalised,
			TaskStatus::Expired,
		];
		let mut afters: Vec<Option<TaskStatus>> = statuses.iter().cloned().map(Some).collect();
		afters.push(None);
		for r in 1..=<<Test as Config>::MaxRedundancy as Get<u32>>::get() {
			before.redundancy = r;
			for withheld in [false, true] {
				before
					.assignments
					.iter_mut()
					.for_each(|a| a.output = if withheld { None } else { Some(hash(b"x")) });
				for status in &statuses {
					before.status = status.clone();
					for after in &afters {
						let cost = Inference::transition_cost(&before, after.clone());
						assert!(
							cost.all_lte(bound),
							"{status:?} -> {after:?} at r = {r}: {cost:?} > {bound:?}"
						);
					}
				}
			}
		}
		before.redundancy = 1;
		before.assignments.iter_mut().for_each(|a| a.output = Some(hash(b"x")));
		before.status = TaskStatus::Submitted;
		let draw = Inference::transition_cost(&before, Some(TaskStatus::Assigned));
		before.status = TaskStatus::Committed;
		let compared = Inference::transition_cost(&before, Some(TaskStatus::Revealed));
		before.status = TaskStatus::Revealed;
		let window_end = Inference::transition_cost(&before, Some(TaskStatus::Finalised));
		assert!(draw.all_lt(bound) && window_end.all_lt(bound));
		assert!(compared.ref_time() < window_end.ref_time());
	});
}

/// A deferred deadline has the outcome it would have had on time: a commitment after the
/// deadline is refused, whenever the hook gets to the task, and the executor is slashed as on
/// time.
#[test]
fn a_backlog_changes_when_a_deadline_is_processed_not_its_outcome() {
	run_test(|| {
		// Twelve tasks whose commit deadlines all fall at block 9: drawn at blocks 2, 3 and 4
		// (four a block), with commit periods of 7, 6 and 5.
		let mut ids = Vec::new();
		for period in [7, 6, 5] {
			for _ in 0..MAX_DEADLINES {
				ids.push(submit_now(1, 10, period));
			}
			run_to_block(System::block_number() + 1);
		}
		run_to_block(4);
		assert!(ids.iter().all(|id| task(*id).phase_ends == 9));
		run_to_block(9);
		// Block 9 processes four; the others are overdue. A commitment now is too late.
		let pending: Vec<TaskId> =
			ids.iter().copied().filter(|id| task(*id).reassignments == 0).collect();
		assert_eq!(pending.len(), 2 * MAX_DEADLINES as usize);
		let late = pending[0];
		let late_executor = executors(late)[0];
		assert_noop!(
			commit(late_executor, late_executor, late, b"x"),
			Error::<Test>::DeadlinePassed
		);
		run_to_block(11);
		// Every missed deadline was processed, in order, and slashed as on time.
		for id in &ids {
			assert_eq!(task(*id).reassignments, 1);
		}
		let slashed = System::events()
			.iter()
			.filter(|record| {
				matches!(
					record.event,
					RuntimeEvent::Inference(Event::ExecutorMissedDeadline { slashed, .. })
						if slashed == MISSED_SLASH
				)
			})
			.count();
		assert_eq!(slashed, ids.len());
	});
}

#[test]
fn a_requester_never_executes_its_own_task() {
	run_test(|| {
		assert_ok!(Agents::pause(RuntimeOrigin::signed(13)));
		assert_ok!(Agents::pause(RuntimeOrigin::signed(14)));
		// 11 and 12 are active. 12 asking never draws itself...
		for _ in 0..5 {
			let id = submit_with(12, 10, 1, PARAMS);
			assert_eq!(executors(id), vec![11]);
		}
		// ...nor does 21 draw 11, the agent whose operator key it is.
		for _ in 0..5 {
			let id = submit_with(21, 10, 1, PARAMS);
			assert_eq!(executors(id), vec![12]);
		}
		assert_noop!(
			Inference::submit_task(
				RuntimeOrigin::signed(12),
				model(),
				TaskInput::Inline(vec![]),
				PARAMS,
				20,
				2,
				COMMIT_PERIOD
			)
			.map_err(|refused| refused.error),
			Error::<Test>::NoExecutors
		);
	});
}

#[test]
fn an_agent_finds_its_tasks_through_its_index() {
	run_test(|| {
		pause_all_but(13);
		let a = submit(10, 1);
		let b = submit(10, 1);
		let mine: Vec<TaskId> = AssignedTasks::<Test>::iter_key_prefix(13).collect();
		assert_eq!(mine.len(), 2);
		assert!(mine.contains(&a) && mine.contains(&b));
		assert_eq!(AssignedTasks::<Test>::iter_key_prefix(12).count(), 0);
	});
}

#[test]
fn integrity_test_passes() {
	new_test_ext().execute_with(|| {
		<Inference as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn clients_see_tasks_and_page_through_an_executors_tasks() {
	use agentchain_primitives::api::TaskInputView;
	run_test(|| {
		pause_all_but(13);
		// Seven tasks' collateral.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(13), 300));
		let ids: Vec<TaskId> = (0..7).map(|_| submit_now(1, 10, COMMIT_PERIOD)).collect();
		run_to_block(3);

		let view = Inference::task_view(ids[0]).expect("a task");
		assert_eq!(view.id, ids[0]);
		assert_eq!(view.requester, 1);
		assert_eq!(view.input, TaskInputView::Inline("What is 2 + 2?".into()));
		assert_eq!(view.status, TaskStatus::Assigned);
		assert_eq!((view.fee, view.escrow), (10, 10));
		assert_eq!(view.assignments.len(), 1);
		assert_eq!(view.assignments[0].executor, 13);
		assert!(!view.assignments[0].committed);
		assert_eq!(Inference::task_view(999), None);

		// Pages of 3: every task once, then no next page.
		let mut seen = Vec::new();
		let mut start_after = None;
		loop {
			let page = Inference::tasks_for(&13, start_after, 3);
			assert!(page.tasks.len() <= 3);
			seen.extend(page.tasks.iter().map(|t| t.id));
			match page.next {
				Some(next) => start_after = Some(next),
				None => break,
			}
		}
		seen.sort();
		assert_eq!(seen, ids);
		assert!(Inference::tasks_for(&12, None, 10).tasks.is_empty());
		let capped = Inference::tasks_for(&13, None, u32::MAX);
		assert_eq!((capped.tasks.len(), capped.next), (7, None));
		// An operator key stands for its agent; a limit of 0 reads one task.
		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(13), 23));
		assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(23), 13));
		assert_eq!(Inference::tasks_for(&23, None, u32::MAX), capped);
		assert_eq!(Inference::tasks_for(&23, None, 0).tasks.len(), 1);

		// Revealed: the output shows, as text, at once; the result once the hook compared.
		assert_ok!(commit(13, 13, ids[0], b"4"));
		assert_ok!(reveal(13, 13, ids[0], b"4"));
		let view = Inference::task_view(ids[0]).unwrap();
		assert_eq!((view.status, view.result), (TaskStatus::Committed, None));
		assert_eq!(view.outputs[0].text.as_deref(), Some("4"));
		compare_results();
		let view = Inference::task_view(ids[0]).unwrap();
		assert_eq!(view.status, TaskStatus::Revealed);
		assert_eq!(view.result, Some(hash(b"4")));
		assert_eq!(view.outputs.len(), 1);
		assert_eq!(view.outputs[0].text.as_deref(), Some("4"));
	});
}

/// Submits a task with one executor and brings it to `Revealed` with output `output`.
fn revealed_task(output: &[u8]) -> (TaskId, u64) {
	let id = submit(100, 1);
	let executor = executors(id)[0];
	assert_ok!(commit(executor, executor, id, output));
	assert_ok!(reveal(executor, executor, id, output));
	compare_results();
	assert_eq!(task(id).status, TaskStatus::Revealed);
	(id, executor)
}

#[test]
fn an_audited_result_waits_for_the_verdict_instead_of_being_finalised() {
	run_test(|| {
		AuditAll::set(true);
		let (id, executor) = revealed_task(b"4");
		let window_end = task(id).phase_ends;
		run_to_block(window_end);
		assert_eq!(Audited::get(), vec![id]);
		let record = task(id);
		assert_eq!(record.status, TaskStatus::Disputed);
		assert_eq!(record.phase_ends, window_end + DISPUTE_TIMEOUT);
		System::assert_has_event(
			Event::TaskDisputed { task: id, timeout: window_end + DISPUTE_TIMEOUT }.into(),
		);
		assert_eq!(escrow_held(1), 100);
		assert!(Finalised::get().is_empty());

		// The audit confirms the result: the executor is paid as on finalisation.
		let before = Balances::free_balance(executor);
		assert_ok!(<Inference as InferenceTasks<_, _>>::resolve(
			id,
			Resolution::Correct(hash(b"4"))
		));
		System::assert_has_event(
			Event::DisputeResolved { task: id, output_hash: Some(hash(b"4")) }.into(),
		);
		assert_eq!(task(id).status, TaskStatus::Finalised);
		assert_eq!(Balances::free_balance(executor), before + 90);
		assert_eq!(escrow_held(1), 0);
		assert_eq!(Finalised::get(), vec![(id, 10)]);
		// Resolved once: the timeout no longer applies, and a second verdict is refused.
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::resolve(id, Resolution::NoneCorrect),
			Error::<Test>::WrongPhase
		);
		run_to_block(window_end + DISPUTE_TIMEOUT);
		assert_eq!(task(id).status, TaskStatus::Finalised);
	});
}

#[test]
fn a_challenge_opens_only_inside_the_window_and_a_wrong_result_is_refunded() {
	run_test(|| {
		let (id, executor) = revealed_task(b"4");
		let window_end = task(id).phase_ends;
		let view = <Inference as InferenceTasks<_, _>>::open_challenge(id).unwrap();
		assert_eq!(view.requester, 1);
		assert_eq!(view.fee, 100);
		assert_eq!(view.revealed, vec![(executor, hash(b"4"))]);
		assert_eq!(view.result, Some(hash(b"4")));
		assert!(<Inference as InferenceTasks<_, _>>::is_disputed(id));
		// The finalisation at the window's end is cancelled: the task waits for the verdict.
		run_to_block(window_end);
		assert_eq!(task(id).status, TaskStatus::Disputed);
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::open_challenge(id),
			Error::<Test>::WrongPhase
		);

		// A verdict for an output nobody revealed refunds the requester and pays nobody.
		let before = (Balances::free_balance(1), Balances::free_balance(executor));
		assert_ok!(<Inference as InferenceTasks<_, _>>::resolve(
			id,
			Resolution::Correct(hash(b"5"))
		));
		System::assert_has_event(Event::TaskExpired { task: id, refunded: 100 }.into());
		assert_eq!(Balances::free_balance(1), before.0 + 100);
		assert_eq!(Balances::free_balance(executor), before.1);
		assert!(!AssignedTasks::<Test>::contains_key(executor, id));
		assert!(Finalised::get().is_empty());
	});
}

#[test]
fn a_challenge_after_the_window_or_of_an_unknown_task_is_refused() {
	run_test(|| {
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::open_challenge(99),
			Error::<Test>::UnknownTask
		);
		let id = submit(100, 1);
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::open_challenge(id),
			Error::<Test>::WrongPhase
		);
		let executor = executors(id)[0];
		assert_ok!(commit(executor, executor, id, b"4"));
		assert_ok!(reveal(executor, executor, id, b"4"));
		// Not before the results are compared, at the next block.
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::open_challenge(id),
			Error::<Test>::WrongPhase
		);
		compare_results();
		let window_end = task(id).phase_ends;
		run_to_block(window_end);
		assert_eq!(task(id).status, TaskStatus::Finalised);
		assert_noop!(
			<Inference as InferenceTasks<_, _>>::open_challenge(id),
			Error::<Test>::WrongPhase
		);
		assert!(!<Inference as InferenceTasks<_, _>>::is_disputed(id));
	});
}

#[test]
fn a_zero_output_hash_and_a_uri_only_jury_output_are_refused() {
	run_test(|| {
		let id = submit(100, 1);
		let executor = executors(id)[0];
		let zero = H256::zero();
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(executor),
			id,
			commitment_of(&zero, &salt(1), &executor),
		));
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(executor),
				id,
				zero,
				salt(1),
				None,
				Some(b"ipfs://x".to_vec()),
			),
			Error::<Test>::InvalidOutputHash
		);

		let params = TaskParams { mode: VerificationMode::Jury, ..PARAMS };
		let jury = submit_with(2, 100, 1, params);
		let executor = executors(jury)[0];
		assert_ok!(commit(executor, executor, jury, b"a poem"));
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(executor),
				jury,
				hash(b"a poem"),
				salt(executor as u8),
				None,
				Some(b"ipfs://poem".to_vec()),
			),
			Error::<Test>::InlineOutputRequired
		);
		assert_ok!(reveal(executor, executor, jury, b"a poem"));
	});
}

/// A task whose referenced input its executors cannot obtain: two executors saying so are paid
/// the price of an attempt by the requester; nobody is slashed.
#[test]
fn corroborated_unavailable_inputs_are_paid_as_attempts_and_nobody_is_slashed() {
	run_test(|| {
		let id = NextTaskId::<Test>::get();
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(1),
			model(),
			TaskInput::Reference { hash: hash(b"gone"), uri: b"https://example.org/gone".to_vec() },
			PARAMS,
			100,
			2,
			COMMIT_PERIOD,
		));
		run_to_block(2);
		let chosen = executors(id);
		let stakes: Vec<u64> = chosen.iter().map(|e| Agents::stake_of(e)).collect();
		for executor in &chosen {
			assert_ok!(Inference::commit(
				RuntimeOrigin::signed(*executor),
				id,
				commitment_of(&INPUT_UNAVAILABLE, &salt(1), executor),
			));
		}
		// "Unavailable" carries no output, and is refused for an inline input.
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(chosen[0]),
				id,
				INPUT_UNAVAILABLE,
				salt(1),
				Some(b"x".to_vec()),
				None
			),
			Error::<Test>::OutputHashMismatch
		);
		for executor in &chosen {
			assert_ok!(Inference::reveal(
				RuntimeOrigin::signed(*executor),
				id,
				INPUT_UNAVAILABLE,
				salt(1),
				None,
				None
			));
		}
		compare_results();
		System::assert_has_event(
			Event::TaskFinalised {
				task: id,
				output_hash: INPUT_UNAVAILABLE,
				paid: 2 * (MIN_FEE - MIN_FEE / 10),
				protocol_cut: 2 * (MIN_FEE / 10),
				refunded: 100 - 2 * MIN_FEE,
			}
			.into(),
		);
		assert_eq!(chosen.iter().map(|e| Agents::stake_of(e)).collect::<Vec<_>>(), stakes);

		// On an inline task the answer is refused.
		let inline = submit(100, 1);
		let executor = executors(inline)[0];
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(executor),
			inline,
			commitment_of(&INPUT_UNAVAILABLE, &salt(2), &executor),
		));
		assert_noop!(
			Inference::reveal(
				RuntimeOrigin::signed(executor),
				inline,
				INPUT_UNAVAILABLE,
				salt(2),
				None,
				None
			),
			Error::<Test>::InputIsInline
		);
	});
}

/// An executor that could not obtain the input, next to one that delivered: the result is the
/// delivered output; the first is neither paid nor slashed.
#[test]
fn an_unavailable_answer_next_to_a_delivered_output_is_set_aside() {
	run_test(|| {
		let id = NextTaskId::<Test>::get();
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(1),
			model(),
			TaskInput::Reference { hash: hash(b"in"), uri: b"https://example.org/in".to_vec() },
			PARAMS,
			100,
			2,
			COMMIT_PERIOD,
		));
		run_to_block(2);
		let chosen = executors(id);
		let (a, b) = (chosen[0], chosen[1]);
		assert_ok!(commit(a, a, id, b"out"));
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(b),
			id,
			commitment_of(&INPUT_UNAVAILABLE, &salt(b as u8), &b),
		));
		assert_ok!(reveal(a, a, id, b"out"));
		assert_ok!(Inference::reveal(
			RuntimeOrigin::signed(b),
			id,
			INPUT_UNAVAILABLE,
			salt(b as u8),
			None,
			None
		));
		compare_results();
		assert_eq!(task(id).status, TaskStatus::Revealed);
		assert_eq!(task(id).result, Some(hash(b"out")));
		let stake_b = Agents::stake_of(&b);
		let free_b = Balances::free_balance(b);
		run_to_block(3 + CHALLENGE_PERIOD);
		assert_eq!(task(id).status, TaskStatus::Finalised);
		assert_eq!((Agents::stake_of(&b), Balances::free_balance(b)), (stake_b, free_b));
	});
}

mod batches;
mod prepaid;
