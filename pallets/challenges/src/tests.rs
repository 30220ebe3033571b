//! Unit tests of the challenges pallet, with the real agent registry and inference pallet.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect as _};
use pallet_inference::TaskStatus;

fn hash(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

const SALT: [u8; 32] = [5u8; 32];
/// The challenge bond of a task with fee [`FEE`]: `max(MIN_BOND, FEE × BOND_FEE_MULTIPLE)`.
const BOND: u64 = 200;

fn dispute(task: TaskId) -> Dispute<Test> {
	Disputes::<Test>::get(task).expect("dispute is open")
}

fn jurors(task: TaskId) -> Vec<u64> {
	dispute(task).jury.iter().map(|seat| seat.juror).collect()
}

fn task_status(task: TaskId) -> TaskStatus {
	pallet_inference::Tasks::<Test>::get(task).expect("task exists").status
}

fn executors_of(task: TaskId) -> Vec<u64> {
	pallet_inference::Tasks::<Test>::get(task)
		.expect("task exists")
		.assignments
		.iter()
		.map(|a| a.executor)
		.collect()
}

fn stake(agent: u64) -> u64 {
	pallet_agents::Agents::<Test>::get(agent).expect("agent exists").stake
}

fn commit_as(juror: u64, task: TaskId, vote: H256) -> DispatchResult {
	let round = dispute(task).round;
	Challenges::commit_vote(
		RuntimeOrigin::signed(juror),
		task,
		vote_commitment(task, round, &vote, &SALT, &juror),
	)
}

fn reveal_as(juror: u64, task: TaskId, vote: H256) -> DispatchResult {
	Challenges::reveal_vote(RuntimeOrigin::signed(juror), task, vote, SALT)
}

/// Has each juror of the current round vote `votes[i]` (`None`: no vote), then counts.
fn vote_round(task: TaskId, votes: &[Option<H256>]) {
	let jury = jurors(task);
	assert_eq!(jury.len(), votes.len());
	for (juror, vote) in jury.iter().zip(votes) {
		if let Some(vote) = vote {
			assert_ok!(commit_as(*juror, task, *vote));
		}
	}
	run_to_block(dispute(task).phase_ends);
	assert_eq!(dispute(task).phase, DisputePhase::Revealing);
	for (juror, vote) in jury.iter().zip(votes) {
		if let Some(vote) = vote {
			assert_ok!(reveal_as(*juror, task, *vote));
		}
	}
	run_to_block(dispute(task).phase_ends);
}

/// A task revealed by one executor with `output`, challenged by 2 with [`BOND`].
fn challenged(output: &[u8]) -> (TaskId, u64) {
	let task = revealed_task(1, model(), &[hash(output)]);
	let executor = executors_of(task)[0];
	assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
	(task, executor)
}

fn bond_held(who: u64) -> u64 {
	use frame_support::traits::fungible::InspectHold as _;
	Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &who)
}

#[test]
fn a_wrong_result_is_overturned_its_executor_slashed_and_the_challenger_rewarded() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (task, executor) = challenged(b"5");
		let commit_deadline = 1 + COMMIT_PERIOD;
		System::assert_has_event(
			Event::DisputeOpened {
				task,
				kind: DisputeKind::Challenge { challenger: 2 },
				bond: BOND,
				jurors: jurors(task),
				commit_deadline,
			}
			.into(),
		);
		assert_eq!(bond_held(2), BOND);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		let jury = jurors(task);
		assert_eq!(jury.len(), 3);
		assert!(jury.iter().all(|j| (31..=42).contains(j)));
		assert!(jury.iter().all(|j| JurorDuties::<Test>::contains_key(j, task)));

		let before = (Balances::free_balance(1), Balances::free_balance(2));
		let juror_before: Vec<u64> = jury.iter().map(|j| Balances::free_balance(j)).collect();
		vote_round(task, &[Some(hash(b"4")); 3]);
		let counted = dispute(task);
		assert_eq!(counted.phase, DisputePhase::Appealable);
		assert_eq!(counted.verdict, Some(hash(b"4")));
		assert!(jury.iter().all(|j| !JurorDuties::<Test>::contains_key(j, task)));

		run_to_block(counted.phase_ends);
		assert!(!Disputes::<Test>::contains_key(task));
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(hash(b"4")), result_overturned: true }
				.into(),
		);
		System::assert_has_event(
			Event::ExecutorSlashed { task, executor, slashed: WRONG_RESULT_SLASH }.into(),
		);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		// The challenger gets its bond back and what is left of the slash after the jurors.
		assert_eq!(bond_held(2), 0);
		assert_eq!(
			Balances::free_balance(2),
			before.1 + BOND + WRONG_RESULT_SLASH - 3 * JUROR_REWARD
		);
		for (juror, before) in jury.iter().zip(juror_before) {
			assert_eq!(Balances::free_balance(juror), before + JUROR_REWARD);
		}
		// The requester is refunded: the wrong result is not paid.
		assert_eq!(Balances::free_balance(1), before.0 + FEE);
		assert_eq!(task_status(task), TaskStatus::Expired);
		assert_eq!(pallet_agents::Agents::<Test>::get(executor).unwrap().open_work, 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_right_result_stands_and_a_frivolous_challenger_pays_the_jurors_and_the_executor() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (task, executor) = challenged(b"4");
		let before = (Balances::free_balance(2), Balances::free_balance(executor));
		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(hash(b"4")), result_overturned: false }
				.into(),
		);
		System::assert_has_event(Event::BondForfeited { task, who: 2, amount: BOND }.into());
		assert_eq!(bond_held(2), 0);
		assert_eq!(Balances::free_balance(2), before.0);
		assert_eq!(Balances::total_balance(&2), 10_000 - BOND);
		// The executor: its fee share (minus the protocol cut) and the rest of the bond.
		let fee_paid = FEE - FEE / 10;
		assert_eq!(Balances::free_balance(executor), before.1 + fee_paid + BOND - 3 * JUROR_REWARD);
		assert_eq!(stake(executor), 500);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn without_reveals_there_is_no_verdict_bonds_return_and_absent_jurors_pay_a_penalty() {
	run_test(|| {
		let protocol = Inference::protocol_account();
		let (task, executor) = challenged(b"4");
		let jury = jurors(task);
		let protocol_before = Balances::free_balance(protocol);
		vote_round(task, &[None; 3]);
		System::assert_has_event(
			Event::VotesCounted {
				task,
				round: 0,
				verdict: None,
				revealed: 0,
				jurors: 3,
				appeal_deadline: Some(1 + COMMIT_PERIOD + REVEAL_PERIOD + APPEAL_PERIOD),
			}
			.into(),
		);
		for juror in &jury {
			assert_eq!(stake(*juror), 500 - JUROR_PENALTY);
			System::assert_has_event(
				Event::JurorPenalised { task, juror: *juror, slashed: JUROR_PENALTY }.into(),
			);
		}
		assert_eq!(Balances::free_balance(protocol), protocol_before + 3 * JUROR_PENALTY);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: None, result_overturned: false }.into(),
		);
		assert_eq!(bond_held(2), 0);
		assert_eq!(Balances::free_balance(2), 10_000);
		// The result stands: the executor is paid, not slashed.
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(stake(executor), 500);
	});
}

#[test]
fn a_tie_gives_no_verdict_and_does_not_penalise_the_jurors_who_revealed() {
	run_test(|| {
		let (task, _) = challenged(b"4");
		let jury = jurors(task);
		vote_round(task, &[Some(hash(b"4")), Some(hash(b"5")), None]);
		assert_eq!(dispute(task).verdict, None);
		assert_eq!(stake(jury[0]), 500);
		assert_eq!(stake(jury[1]), 500);
		assert_eq!(stake(jury[2]), 500 - JUROR_PENALTY);
	});
}

#[test]
fn a_minority_juror_is_penalised_and_unpaid() {
	run_test(|| {
		let (task, _) = challenged(b"5");
		let jury = jurors(task);
		let free: Vec<u64> = jury.iter().map(|j| Balances::free_balance(j)).collect();
		vote_round(task, &[Some(hash(b"4")), Some(hash(b"4")), Some(hash(b"5"))]);
		assert_eq!(dispute(task).verdict, Some(hash(b"4")));
		assert_eq!(stake(jury[2]), 500 - JUROR_PENALTY);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(Balances::free_balance(jury[0]), free[0] + JUROR_REWARD);
		assert_eq!(Balances::free_balance(jury[1]), free[1] + JUROR_REWARD);
		assert_eq!(Balances::free_balance(jury[2]), free[2]);
	});
}

#[test]
fn an_appeal_with_a_larger_jury_flips_the_verdict() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (task, executor) = challenged(b"5");
		let first = jurors(task);
		// The first jury sides with the wrong result.
		vote_round(task, &[Some(hash(b"5")); 3]);
		assert_eq!(dispute(task).verdict, Some(hash(b"5")));
		let appeal_bond = Challenges::appeal_bond(FEE, 1);
		assert_eq!(appeal_bond, 2 * BOND);
		// Only the losing side may appeal, with at least the doubled bond.
		assert_noop!(
			Challenges::appeal(RuntimeOrigin::signed(executor), task, appeal_bond),
			Error::<Test>::NotLosingSide
		);
		assert_noop!(
			Challenges::appeal(RuntimeOrigin::signed(3), task, appeal_bond),
			Error::<Test>::NotLosingSide
		);
		assert_noop!(
			Challenges::appeal(RuntimeOrigin::signed(2), task, appeal_bond - 1),
			Error::<Test>::BondTooLow
		);
		assert_ok!(Challenges::appeal(RuntimeOrigin::signed(2), task, appeal_bond));
		let appealed = dispute(task);
		assert_eq!(appealed.round, 1);
		assert_eq!(appealed.phase, DisputePhase::Committing);
		let second = jurors(task);
		assert_eq!(second.len(), 7);
		assert!(second.iter().all(|j| !first.contains(j)));
		assert_eq!(bond_held(2), BOND + appeal_bond);

		let free_first: Vec<u64> = first.iter().map(|j| Balances::free_balance(j)).collect();
		let before = Balances::free_balance(2);
		vote_round(task, &[Some(hash(b"4")); 7]);
		// The last round allowed: closed at once, with the second verdict.
		assert!(!Disputes::<Test>::contains_key(task));
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(hash(b"4")), result_overturned: true }
				.into(),
		);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		assert_eq!(bond_held(2), 0);
		// Both bonds return; the slash pays the 7 jurors of the final round, then the
		// challenger. The first jury, overturned, is neither paid nor penalised.
		assert_eq!(
			Balances::free_balance(2),
			before + BOND + appeal_bond + WRONG_RESULT_SLASH - 7 * JUROR_REWARD
		);
		for (juror, free) in first.iter().zip(free_first) {
			assert_eq!(Balances::free_balance(juror), free);
			assert_eq!(stake(*juror), 500);
		}
		assert_eq!(task_status(task), TaskStatus::Expired);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn an_executor_found_wrong_may_appeal_and_forfeits_its_bond_when_it_loses_again() {
	run_test(|| {
		let (task, executor) = challenged(b"5");
		vote_round(task, &[Some(hash(b"4")); 3]);
		let appeal_bond = Challenges::appeal_bond(FEE, 1);
		// The challenger won: it cannot appeal.
		assert_noop!(
			Challenges::appeal(RuntimeOrigin::signed(2), task, appeal_bond),
			Error::<Test>::NotLosingSide
		);
		assert_ok!(Challenges::appeal(RuntimeOrigin::signed(executor), task, appeal_bond));
		let before = Balances::free_balance(2);
		vote_round(task, &[Some(hash(b"4")); 7]);
		System::assert_has_event(
			Event::BondForfeited { task, who: executor, amount: appeal_bond }.into(),
		);
		assert_eq!(bond_held(executor), 0);
		// Both juries voted for the final verdict: all ten jurors are paid.
		assert_eq!(
			Balances::free_balance(2),
			before + BOND + WRONG_RESULT_SLASH + appeal_bond - 10 * JUROR_REWARD
		);
	});
}

#[test]
fn challenges_outside_the_window_or_twice_or_underfunded_are_refused() {
	run_test(|| {
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(2), 99, BOND),
			Error::<Test>::NotChallengeable
		);
		let task = revealed_task(1, model(), &[hash(b"4")]);
		let executor = executors_of(task)[0];
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(2), task, BOND - 1),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(4), task, BOND),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(executor), task, BOND),
			Error::<Test>::OwnResult
		);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(3), task, BOND),
			Error::<Test>::NotChallengeable
		);
		assert_eq!(bond_held(3), 0);

		// After the window, the result is final.
		let late = revealed_task(1, model(), &[hash(b"4")]);
		run_to_block(System::block_number() + CHALLENGE_PERIOD);
		assert_eq!(task_status(late), TaskStatus::Finalised);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(3), late, BOND),
			Error::<Test>::NotChallengeable
		);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::none(), late, BOND),
			sp_runtime::traits::BadOrigin
		);
	});
}

#[test]
fn an_executor_operator_key_cannot_challenge_its_own_result() {
	run_test(|| {
		// Make 11 the only executor: 12 and 13 pause.
		assert_ok!(Agents::pause(RuntimeOrigin::signed(12)));
		assert_ok!(Agents::pause(RuntimeOrigin::signed(13)));
		let task = revealed_task(1, model(), &[hash(b"4")]);
		assert_eq!(executors_of(task), vec![11]);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(21), task, BOND),
			Error::<Test>::OwnResult
		);
	});
}

#[test]
fn votes_are_refused_from_outsiders_out_of_phase_or_not_matching_the_commitment() {
	run_test(|| {
		let (task, _) = challenged(b"5");
		let jury = jurors(task);
		let outsider = (31..=42).find(|v| !jury.contains(v)).unwrap();
		assert_noop!(commit_as(outsider, task, hash(b"4")), Error::<Test>::NotJuror);
		assert_noop!(commit_as(2, task, hash(b"4")), Error::<Test>::NotJuror);
		assert_noop!(
			Challenges::commit_vote(RuntimeOrigin::signed(jury[0]), 99, H256::zero()),
			Error::<Test>::UnknownDispute
		);
		assert_ok!(commit_as(jury[0], task, hash(b"4")));
		assert_noop!(commit_as(jury[0], task, hash(b"4")), Error::<Test>::AlreadyCommitted);
		assert_noop!(reveal_as(jury[0], task, hash(b"4")), Error::<Test>::WrongPhase);

		run_to_block(dispute(task).phase_ends);
		assert_noop!(commit_as(jury[1], task, hash(b"4")), Error::<Test>::WrongPhase);
		assert_noop!(reveal_as(jury[1], task, hash(b"4")), Error::<Test>::NotCommitted);
		assert_noop!(reveal_as(jury[0], task, hash(b"5")), Error::<Test>::CommitmentMismatch);
		assert_noop!(reveal_as(outsider, task, hash(b"4")), Error::<Test>::NotJuror);
		assert_ok!(reveal_as(jury[0], task, hash(b"4")));
		assert_noop!(reveal_as(jury[0], task, hash(b"4")), Error::<Test>::AlreadyRevealed);

		run_to_block(dispute(task).phase_ends - 1);
		let deadline = dispute(task).phase_ends;
		System::set_block_number(deadline);
		assert_noop!(reveal_as(jury[1], task, hash(b"4")), Error::<Test>::DeadlinePassed);
	});
}

#[test]
fn a_juror_votes_with_its_operator_key() {
	run_test(|| {
		// Pause every verifier but 31..=33, so that 31 (operator key 51) sits.
		for verifier in 34..=42 {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(verifier)));
		}
		let (task, _) = challenged(b"5");
		assert!(jurors(task).contains(&31));
		let round = dispute(task).round;
		assert_ok!(Challenges::commit_vote(
			RuntimeOrigin::signed(51),
			task,
			vote_commitment(task, round, &hash(b"4"), &SALT, &31),
		));
		System::assert_has_event(Event::VoteCommitted { task, juror: 31 }.into());
	});
}

#[test]
fn a_challenge_needs_enough_verifiers_and_leaves_nothing_behind_without_them() {
	run_test(|| {
		for verifier in 33..=42 {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(verifier)));
		}
		let task = revealed_task(1, model(), &[hash(b"4")]);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(2), task, BOND),
			Error::<Test>::NotEnoughJurors
		);
		assert_eq!(task_status(task), TaskStatus::Revealed);
	});
}

#[test]
fn disagreeing_executors_are_judged_and_the_wrong_one_pays_the_right_ones() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let outputs = [hash(b"4"), hash(b"4"), hash(b"5")];
		let task = revealed_task(1, model(), &outputs);
		let executors = executors_of(task);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		assert_eq!(dispute(task).kind, DisputeKind::Disagreement);
		assert_eq!(dispute(task).result, None);
		let free: Vec<u64> = executors.iter().map(|e| Balances::free_balance(e)).collect();
		let requester = Balances::free_balance(1);

		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executors[2]), 500 - WRONG_RESULT_SLASH);
		let reward = (WRONG_RESULT_SLASH - 3 * JUROR_REWARD) / 2;
		let fee_paid = FEE - FEE / 10;
		assert_eq!(Balances::free_balance(executors[0]), free[0] + fee_paid + reward);
		assert_eq!(Balances::free_balance(executors[1]), free[1] + fee_paid + reward);
		assert_eq!(Balances::free_balance(executors[2]), free[2]);
		// The wrong executor's share of the fee goes back to the requester.
		assert_eq!(Balances::free_balance(1), requester + FEE);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn an_audit_that_confirms_the_result_pays_its_jurors_from_the_protocol_account() {
	run_test(|| {
		let protocol = Inference::protocol_account();
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&protocol, 1_000);
		AuditProbability::set(Perbill::one());
		let task = revealed_task(1, model(), &[hash(b"4")]);
		let executor = executors_of(task)[0];
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		assert_eq!(dispute(task).kind, DisputeKind::Audit);
		// Nobody loses an audit that confirms the result, so nobody may appeal it.
		let jury = jurors(task);
		let free: Vec<u64> = jury.iter().map(|j| Balances::free_balance(j)).collect();
		vote_round(task, &[Some(hash(b"4")); 3]);
		assert_noop!(
			Challenges::appeal(RuntimeOrigin::signed(executor), task, 10_000),
			Error::<Test>::NotLosingSide
		);
		let protocol_before = Balances::free_balance(protocol);
		run_to_block(dispute(task).phase_ends);
		for (juror, free) in jury.iter().zip(free) {
			assert_eq!(Balances::free_balance(juror), free + JUROR_REWARD);
		}
		// The protocol account paid the jurors and received the fee's protocol cut.
		assert_eq!(Balances::free_balance(protocol), protocol_before - 3 * JUROR_REWARD + FEE / 10);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(stake(executor), 500);
		assert_eq!(
			pallet_agents::Agents::<Test>::get(executor).unwrap().reputation.audits_passed,
			1
		);
	});
}

#[test]
fn an_audit_that_finds_the_result_wrong_slashes_the_executor_and_refunds_the_requester() {
	run_test(|| {
		AuditProbability::set(Perbill::one());
		let task = revealed_task(1, model(), &[hash(b"5")]);
		let executor = executors_of(task)[0];
		run_to_block(1 + CHALLENGE_PERIOD);
		let requester = Balances::free_balance(1);
		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		assert_eq!(Balances::free_balance(1), requester + FEE);
		assert_eq!(task_status(task), TaskStatus::Expired);
	});
}

#[test]
fn no_audit_is_drawn_at_probability_zero() {
	run_test(|| {
		let task = revealed_task(1, model(), &[hash(b"4")]);
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert!(!Disputes::<Test>::contains_key(task));
	});
}

#[test]
fn in_jury_mode_jurors_accept_or_reject_the_result() {
	run_test(|| {
		let task = revealed_inline(VerificationMode::Jury, 1, &[b"a poem"]);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		let jury = jurors(task);
		for juror in &jury {
			assert_ok!(commit_as(*juror, task, REJECT));
		}
		assert_ok!(Challenges::commit_vote(
			RuntimeOrigin::signed(jury[0]),
			task,
			vote_commitment(task, 0, &hash(b"other"), &SALT, &jury[0]),
		)
		.or_else(|_| Ok::<_, DispatchError>(())));
		run_to_block(dispute(task).phase_ends);
		for juror in &jury {
			assert_noop!(
				reveal_as(*juror, task, hash(b"other")),
				Error::<Test>::CommitmentMismatch
			);
			assert_ok!(reveal_as(*juror, task, REJECT));
		}
		run_to_block(dispute(task).phase_ends);
		assert_eq!(dispute(task).verdict, Some(REJECT));
		let requester = Balances::free_balance(1);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(REJECT), result_overturned: true }.into(),
		);
		assert_eq!(Balances::free_balance(1), requester + FEE);
	});
}

#[test]
fn in_jury_mode_a_vote_other_than_accept_or_reject_is_invalid() {
	run_test(|| {
		let task = revealed_inline(VerificationMode::Jury, 1, &[b"a poem"]);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		let juror = jurors(task)[0];
		assert_ok!(commit_as(juror, task, hash(b"other")));
		run_to_block(dispute(task).phase_ends);
		assert_noop!(reveal_as(juror, task, hash(b"other")), Error::<Test>::InvalidVote);
	});
}

#[test]
fn advance_moves_on_a_phase_the_hook_left_over() {
	run_test(|| {
		let (task, _) = challenged(b"5");
		assert_noop!(Challenges::advance(RuntimeOrigin::signed(3), task), Error::<Test>::TooEarly);
		assert_noop!(
			Challenges::advance(RuntimeOrigin::signed(3), 99),
			Error::<Test>::UnknownDispute
		);
		let commit_deadline = dispute(task).phase_ends;
		// The hook does not run for the deadline's block.
		System::set_block_number(commit_deadline + 1);
		assert_ok!(Challenges::advance(RuntimeOrigin::signed(3), task));
		assert_eq!(dispute(task).phase, DisputePhase::Revealing);
		assert!(Deadlines::<Test>::get(commit_deadline).is_empty());
	});
}

#[test]
fn bonds_and_periods_follow_the_configuration() {
	run_test(|| {
		assert_eq!(Challenges::base_bond(10), MIN_BOND);
		assert_eq!(Challenges::base_bond(FEE), BOND);
		assert_eq!(Challenges::appeal_bond(FEE, 2), 4 * BOND);
		assert_eq!(Challenges::jury_size(0), 3);
		assert_eq!(Challenges::jury_size(1), 7);
		assert_eq!(Challenges::jury_size(2), 7);
	});
}

#[test]
fn an_appeal_round_without_a_majority_leaves_the_appealed_verdict_standing() {
	run_test(|| {
		let (task, executor) = challenged(b"5");
		vote_round(task, &[Some(hash(b"4")); 3]);
		assert_ok!(Challenges::appeal(
			RuntimeOrigin::signed(executor),
			task,
			Challenges::appeal_bond(FEE, 1)
		));
		// Nobody on the appeal jury reveals: the first verdict stands, the appeal is lost.
		vote_round(task, &[None; 7]);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(hash(b"4")), result_overturned: true }
				.into(),
		);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		assert_eq!(bond_held(executor), 0);
		assert_eq!(task_status(task), TaskStatus::Expired);
	});
}

#[test]
fn an_executor_whose_result_stands_without_a_verdict_cannot_appeal() {
	run_test(|| {
		let (task, executor) = challenged(b"4");
		vote_round(task, &[None; 3]);
		assert_eq!(dispute(task).verdict, None);
		assert_noop!(
			Challenges::appeal(RuntimeOrigin::signed(executor), task, 10_000),
			Error::<Test>::NotLosingSide
		);
		// The challenger, whose claim found no majority, may.
		assert_ok!(Challenges::appeal(
			RuntimeOrigin::signed(2),
			task,
			Challenges::appeal_bond(FEE, 1)
		));
	});
}

#[test]
fn an_audit_costs_the_protocol_account_at_most_the_task_fee() {
	run_test(|| {
		let protocol = Inference::protocol_account();
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&protocol, 1_000);
		AuditProbability::set(Perbill::one());
		// A fee of 20 cannot pay three jurors 10 each: they share 20.
		let id = pallet_inference::NextTaskId::<Test>::get();
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(1),
			model(),
			pallet_inference::TaskInputOf::Inline(b"2+2=".to_vec()),
			pallet_inference::TaskParams {
				max_tokens: 8,
				temperature_milli: 0,
				seed: 1,
				mode: VerificationMode::ExactMatch
			},
			20,
			1,
			2,
		));
		let executor = executors_of(id)[0];
		let salt = [3u8; 32];
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(executor),
			id,
			pallet_inference::commitment_of(&hash(b"4"), &salt, &executor),
		));
		assert_ok!(Inference::reveal(
			RuntimeOrigin::signed(executor),
			id,
			hash(b"4"),
			salt,
			Some(b"4".to_vec()),
			None
		));
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(dispute(id).kind, DisputeKind::Audit);
		vote_round(id, &[Some(hash(b"4")); 3]);
		let before = Balances::free_balance(protocol);
		run_to_block(dispute(id).phase_ends);
		// Paid out: 20 to the jurors; received: the protocol cut of 2.
		assert_eq!(Balances::free_balance(protocol), before - 20 + 2);
	});
}

#[test]
fn jurors_who_committed_are_not_penalised_when_no_reveal_phase_could_be_scheduled() {
	run_test(|| {
		let (task, executor) = challenged(b"4");
		let jury = jurors(task);
		assert_ok!(commit_as(jury[0], task, hash(b"4")));
		assert_ok!(commit_as(jury[1], task, hash(b"4")));
		// Every queue the reveal phase (and then the appeal window) could go to is full.
		let commit_deadline = dispute(task).phase_ends;
		let first = commit_deadline + REVEAL_PERIOD.min(APPEAL_PERIOD);
		let mut placeholder = TaskId::MAX;
		for block in first..first + u64::from(SCHEDULE_SEARCH) + REVEAL_PERIOD {
			Deadlines::<Test>::mutate(block, |queue| {
				while queue.try_push(placeholder).is_ok() {
					placeholder -= 1;
				}
			});
		}
		run_to_block(commit_deadline);
		// Counted at once: no verdict, and only the juror who never committed pays.
		assert_eq!(stake(jury[0]), 500);
		assert_eq!(stake(jury[1]), 500);
		assert_eq!(stake(jury[2]), 500 - JUROR_PENALTY);
		// No appeal window could be scheduled either: closed, the result stands.
		assert!(!Disputes::<Test>::contains_key(task));
		assert_eq!(bond_held(2), 0);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(stake(executor), 500);
		let _ = Deadlines::<Test>::clear(u32::MAX, None);
	});
}
