//! Unit tests of the challenges pallet, with the real agent registry and inference pallet.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect as _};
use pallet_inference::{ProtocolFlows, TaskStatus};

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

fn stake(agent: u64) -> u64 {
	pallet_agents::Registry::<Test>::get(agent).expect("agent exists").stake
}

fn protocol_balance() -> u64 {
	Balances::free_balance(Inference::account_id())
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

/// Moves to the next block, where a newly opened dispute or appeal draws its jury.
fn draw(task: TaskId) {
	assert_eq!(dispute(task).phase, DisputePhase::Drawing);
	run_to_block(System::block_number() + 1);
	assert_eq!(dispute(task).phase, DisputePhase::Committing);
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

/// A task revealed by one executor with `output`, challenged by 2 with [`BOND`], its jury
/// drawn.
fn challenged(output: &[u8]) -> (TaskId, u64) {
	let task = revealed_task(1, model(), &[output]);
	let executor = executors_of(task)[0];
	assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
	draw(task);
	(task, executor)
}

fn bond_held(who: u64) -> u64 {
	use frame_support::traits::fungible::InspectHold as _;
	Balances::balance_on_hold(&HoldReason::DisputeBond.into(), &who)
}

/// What an upheld challenge earns its challenger from a slash once `jurors` jurors are paid.
fn challenger_reward(slash: u64, jurors: u64) -> u64 {
	ChallengerShare::get().mul_floor(slash - jurors * JUROR_REWARD)
}

#[test]
fn a_wrong_result_is_overturned_its_executor_slashed_and_the_challenger_rewarded() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let task = revealed_task(1, model(), &[b"5"]);
		let executor = executors_of(task)[0];
		let challenged_at = System::block_number();
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		System::assert_has_event(
			Event::DisputeOpened {
				task,
				kind: DisputeKind::Challenge { challenger: 2 },
				bond: BOND,
				draw_at: challenged_at + 1,
			}
			.into(),
		);
		// Nobody is on the jury yet: it is drawn at the next block, from the hash of this one.
		assert!(jurors(task).is_empty());
		draw(task);
		let commit_deadline = challenged_at + 1 + COMMIT_PERIOD;
		System::assert_has_event(
			Event::JuryDrawn { task, round: 0, jurors: jurors(task), commit_deadline }.into(),
		);
		assert_eq!(bond_held(2), BOND);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		let jury = jurors(task);
		assert_eq!(jury.len(), 3);
		assert!(jury.iter().all(|j| (31..=42).contains(j)));
		assert!(jury.iter().all(|j| JurorDuties::<Test>::contains_key(j, task)));
		// Each juror's seat is backed by its penalty.
		for juror in &jury {
			assert_eq!(
				pallet_agents::Registry::<Test>::get(juror).unwrap().collateral,
				JUROR_PENALTY
			);
		}

		let before = (Balances::free_balance(1), Balances::free_balance(2), protocol_balance());
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
		// The challenger gets its bond back and its share of what is left of the slash after
		// the jurors; the requester up to its fee times the compensation multiple out of the
		// rest; the protocol account what remains.
		let reward = challenger_reward(WRONG_RESULT_SLASH, 3);
		assert_eq!(bond_held(2), 0);
		assert_eq!(Balances::free_balance(2), before.1 + BOND + reward);
		for (juror, before) in jury.iter().zip(juror_before) {
			assert_eq!(Balances::free_balance(juror), before + JUROR_REWARD);
		}
		let compensation = FEE * u64::from(COMPENSATION_FEE_MULTIPLE);
		System::assert_has_event(
			Event::RequesterCompensated { task, requester: 1, amount: compensation }.into(),
		);
		let surplus = WRONG_RESULT_SLASH - 3 * JUROR_REWARD - reward - compensation;
		assert_eq!(protocol_balance(), before.2 + surplus);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::DisputeSurplus).received, surplus);
		// The requester is refunded (the wrong result is not paid) and compensated.
		assert_eq!(Balances::free_balance(1), before.0 + FEE + compensation);
		assert_eq!(task_status(task), TaskStatus::Expired);
		let agent = pallet_agents::Registry::<Test>::get(executor).unwrap();
		assert_eq!((agent.open_work, agent.collateral), (0, 0));
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

/// A challenger cannot hope that the jurors stay home: without a verdict the result stands,
/// and the challenger pays for the judgment it asked for.
#[test]
fn without_reveals_there_is_no_verdict_and_the_challenger_pays_the_jury() {
	run_test(|| {
		let (task, executor) = challenged(b"4");
		let jury = jurors(task);
		let protocol_before = protocol_balance();
		let reveal_deadline = dispute(task).phase_ends + REVEAL_PERIOD;
		vote_round(task, &[None; 3]);
		System::assert_has_event(
			Event::VotesCounted {
				task,
				round: 0,
				verdict: None,
				revealed: 0,
				jurors: 3,
				appeal_deadline: Some(reveal_deadline + APPEAL_PERIOD),
			}
			.into(),
		);
		for juror in &jury {
			assert_eq!(stake(*juror), 500 - JUROR_PENALTY);
			System::assert_has_event(
				Event::JurorPenalised { task, juror: *juror, slashed: JUROR_PENALTY }.into(),
			);
		}
		assert_eq!(protocol_balance(), protocol_before + 3 * JUROR_PENALTY);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: None, result_overturned: false }.into(),
		);
		assert_eq!(bond_held(2), 0);
		// The price of the jury it asked for: three seats' rewards, here to the protocol
		// account since no juror earned them.
		assert_eq!(Balances::free_balance(2), 10_000 - 3 * JUROR_REWARD);
		// The result stands: the executor is paid, and the protocol takes its cut.
		assert_eq!(
			protocol_balance(),
			protocol_before + 3 * JUROR_PENALTY + 3 * JUROR_REWARD + FEE / 10
		);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(stake(executor), 500);
	});
}

/// One revealed vote out of three used to decide a dispute. A verdict needs the votes of an
/// absolute majority of the jury.
#[test]
fn a_lone_revealed_vote_decides_nothing() {
	run_test(|| {
		let (task, executor) = challenged(b"4");
		let jury = jurors(task);
		let free: Vec<u64> = jury.iter().map(|j| Balances::free_balance(j)).collect();
		vote_round(task, &[Some(hash(b"5")), None, None]);
		assert_eq!(dispute(task).verdict, None);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: None, result_overturned: false }.into(),
		);
		// The result stands; the juror who revealed is paid by the challenger.
		assert_eq!(stake(executor), 500);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::free_balance(jury[0]), free[0] + JUROR_REWARD);
		assert_eq!(Balances::free_balance(2), 10_000 - 3 * JUROR_REWARD);
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
		draw(task);
		let appealed = dispute(task);
		assert_eq!(appealed.round, 1);
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
		// challenger its share. The first jury, overturned, is neither paid nor penalised.
		assert_eq!(
			Balances::free_balance(2),
			before + BOND + appeal_bond + challenger_reward(WRONG_RESULT_SLASH, 7)
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
		draw(task);
		let before = Balances::free_balance(2);
		vote_round(task, &[Some(hash(b"4")); 7]);
		System::assert_has_event(
			Event::BondForfeited { task, who: executor, amount: appeal_bond }.into(),
		);
		assert_eq!(bond_held(executor), 0);
		// Both juries voted for the final verdict: all ten jurors are paid, then the
		// challenger its share of the rest.
		let rest = WRONG_RESULT_SLASH + appeal_bond - 10 * JUROR_REWARD;
		assert_eq!(
			Balances::free_balance(2),
			before + BOND + ChallengerShare::get().mul_floor(rest)
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
		let task = revealed_task(1, model(), &[b"4"]);
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
		let late = revealed_task(1, model(), &[b"4"]);
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
		let task = revealed_task(1, model(), &[b"4"]);
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
		let task = revealed_task(1, model(), &[b"4"]);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(2), task, BOND),
			Error::<Test>::NotEnoughJurors
		);
		assert_eq!(task_status(task), TaskStatus::Revealed);
	});
}

/// Verifiers available when a challenge is made may be gone when its jury is due (paused, or
/// colluding with the executor to stall the dispute). The round is not held and nobody pays
/// for it; the result stands as if unchallenged.
#[test]
fn a_jury_that_cannot_be_drawn_returns_the_bond_and_the_result_stands() {
	run_test(|| {
		for verifier in 34..=42 {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(verifier)));
		}
		let task = revealed_task(1, model(), &[b"4"]);
		let executor = executors_of(task)[0];
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		assert_ok!(Agents::pause(RuntimeOrigin::signed(33)));
		run_to_block(System::block_number() + 1);
		System::assert_has_event(Event::JuryNotDrawn { task, round: 0 }.into());
		assert!(!Disputes::<Test>::contains_key(task));
		assert_eq!((bond_held(2), Balances::free_balance(2)), (0, 10_000));
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(stake(executor), 500);
	});
}

/// A requester has its own executor disagree with an honest one where no jury can be drawn
/// (too few verifiers, or its own verifiers paused). Nobody can tell who was right: both
/// outputs are public, so both are paid, and the requester does not get the honest one free.
#[test]
fn a_disagreement_no_jury_can_judge_pays_every_delivered_output() {
	run_test(|| {
		for verifier in 33..=42 {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(verifier)));
		}
		let requester = Balances::free_balance(1);
		let free: Vec<u64> = (11..=13).map(|e| Balances::free_balance(e)).collect();
		let task = revealed_task(1, model(), &[b"4", b"5"]);
		let executors = executors_of(task);
		assert!(!Disputes::<Test>::contains_key(task));
		assert_eq!(task_status(task), TaskStatus::Finalised);
		// Nothing refunded: each executor is paid its share (the fee is one share each).
		assert_eq!(Balances::free_balance(1), requester - 2 * FEE);
		for executor in &executors {
			assert_eq!(stake(*executor), 500);
			assert_eq!(
				Balances::free_balance(executor),
				free[(*executor - 11) as usize] + FEE - FEE / 10
			);
		}

		// The same when the verifiers leave between the disagreement and its draw.
		for verifier in 33..=42 {
			assert_ok!(Agents::resume(RuntimeOrigin::signed(verifier)));
		}
		let requester = Balances::free_balance(1);
		let task = revealed_task(1, model(), &[b"4", b"5"]);
		assert_eq!(dispute(task).kind, DisputeKind::Disagreement);
		for verifier in 31..=42 {
			let _ = Agents::pause(RuntimeOrigin::signed(verifier));
		}
		run_to_block(System::block_number() + 1);
		System::assert_has_event(Event::JuryNotDrawn { task, round: 0 }.into());
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::free_balance(1), requester - 2 * FEE);
	});
}

/// Disagreeing executors: the wrong one is slashed; the right ones are paid their fee, and
/// nothing more. The slash pays the jurors, then funds the protocol: an executor cannot
/// profit from framing a co-executor.
#[test]
fn disagreeing_executors_are_judged_and_the_wrong_one_pays_the_jurors() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let task = revealed_task(1, model(), &[b"4", b"4", b"5"]);
		let executors = executors_of(task);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		draw(task);
		assert_eq!(dispute(task).kind, DisputeKind::Disagreement);
		assert_eq!(dispute(task).result, None);
		let free: Vec<u64> = executors.iter().map(|e| Balances::free_balance(e)).collect();
		let requester = Balances::free_balance(1);
		let protocol_before = protocol_balance();

		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executors[2]), 500 - WRONG_RESULT_SLASH);
		let fee_paid = FEE - FEE / 10;
		assert_eq!(Balances::free_balance(executors[0]), free[0] + fee_paid);
		assert_eq!(Balances::free_balance(executors[1]), free[1] + fee_paid);
		assert_eq!(Balances::free_balance(executors[2]), free[2]);
		assert_eq!(
			protocol_balance(),
			protocol_before + WRONG_RESULT_SLASH - 3 * JUROR_REWARD + 2 * (FEE / 10)
		);
		// The wrong executor's share of the fee goes back to the requester.
		assert_eq!(Balances::free_balance(1), requester + FEE);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// The drain: one attacker owns both executors of many redundancy-2 tasks and makes them
/// disagree, and owns the verifiers that judge. Juror pay outside audits comes only from the
/// loser's slash, and each assignment's slash is reserved in advance, so the protocol account
/// never pays, and the losing executor cannot take on more work than its stake covers.
#[test]
fn the_protocol_account_cannot_be_drained_through_disagreements() {
	run_test(|| {
		// Only executors 11 and 12 serve the model: every redundancy-2 task goes to both.
		assert_ok!(Agents::pause(RuntimeOrigin::signed(13)));
		let protocol_before = protocol_balance();
		let mut disputes = 0u32;
		loop {
			let id = pallet_inference::NextTaskId::<Test>::get();
			let submitted = Inference::submit_task(
				RuntimeOrigin::signed(1),
				model(),
				pallet_inference::TaskInput::Inline(b"2+2=".to_vec()),
				pallet_inference::TaskParams {
					max_tokens: 8,
					temperature_milli: 0,
					seed: 1,
					mode: VerificationMode::ExactMatch,
				},
				2 * FEE,
				2,
				2,
			);
			if submitted.is_err() {
				// The losing executor's stake no longer covers another assignment.
				assert_noop!(
					submitted.map_err(|refused| refused.error),
					pallet_inference::Error::<Test>::NoExecutors
				);
				break;
			}
			run_to_block(System::block_number() + 1);
			commit_and_reveal(id, &[Some(b"4"), Some(b"5")]);
			draw(id);
			vote_round(id, &[Some(hash(b"4")); 3]);
			run_to_block(dispute(id).phase_ends);
			disputes += 1;
			assert!(disputes < 10, "the attacker's executor keeps being drawn");
		}
		// Every dispute paid its jurors from the slash; the protocol account only gained.
		assert!(disputes >= 1);
		assert!(protocol_balance() >= protocol_before);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::AuditJurors).paid, 0);
	});
}

#[test]
fn an_audit_that_confirms_the_result_pays_its_jurors_from_the_protocol_account() {
	run_test(|| {
		let protocol = Inference::account_id();
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&protocol, 1_000);
		AuditProbability::set(Perbill::one());
		let task = revealed_task(1, model(), &[b"4"]);
		let executor = executors_of(task)[0];
		run_to_block(System::block_number() + CHALLENGE_PERIOD);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		draw(task);
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
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::AuditJurors).paid, 3 * JUROR_REWARD);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(stake(executor), 500);
		assert_eq!(
			pallet_agents::Registry::<Test>::get(executor).unwrap().reputation.audits_passed,
			1
		);
	});
}

#[test]
fn an_audit_that_finds_the_result_wrong_slashes_the_executor_and_refunds_the_requester() {
	run_test(|| {
		AuditProbability::set(Perbill::one());
		let task = revealed_task(1, model(), &[b"5"]);
		let executor = executors_of(task)[0];
		run_to_block(System::block_number() + CHALLENGE_PERIOD);
		draw(task);
		let requester = Balances::free_balance(1);
		let protocol = protocol_balance();
		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		// Refunded, and compensated out of the slash before the jurors are paid from it.
		let compensation = FEE * u64::from(COMPENSATION_FEE_MULTIPLE);
		assert_eq!(Balances::free_balance(1), requester + FEE + compensation);
		assert_eq!(
			protocol_balance(),
			protocol + WRONG_RESULT_SLASH - compensation - 3 * JUROR_REWARD
		);
		assert_eq!(task_status(task), TaskStatus::Expired);
	});
}

#[test]
fn no_audit_is_drawn_at_probability_zero() {
	run_test(|| {
		let task = revealed_task(1, model(), &[b"4"]);
		run_to_block(System::block_number() + CHALLENGE_PERIOD);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert!(!Disputes::<Test>::contains_key(task));
	});
}

/// A window's end processed so late that the hash seeding its audit is no longer kept: the
/// result is audited (fails closed), as no other seed is free of the caller's choice of when.
#[test]
fn a_result_whose_audit_seed_is_gone_is_audited() {
	run_test(|| {
		AuditProbability::set(Perbill::from_percent(5));
		assert!(Challenges::audit_drawn(None));
		let drawn = (0u8..=255).filter(|b| Challenges::audit_drawn(Some([*b; 32]))).count();
		assert!(drawn < 64, "about 5 % of seeds audit, not {drawn} of 256");
		AuditProbability::set(Perbill::zero());
		assert!(!Challenges::audit_drawn(None));
	});
}

#[test]
fn in_jury_mode_jurors_accept_or_reject_the_result() {
	run_test(|| {
		let task = revealed_inline(VerificationMode::Jury, 1, &[b"a poem"]);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		draw(task);
		let jury = jurors(task);
		for juror in &jury {
			assert_ok!(commit_as(*juror, task, REJECT));
		}
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
		// Refunded and compensated: a rejected result is a wrong result.
		let compensation = FEE * u64::from(COMPENSATION_FEE_MULTIPLE);
		assert_eq!(Balances::free_balance(1), requester + FEE + compensation);
	});
}

#[test]
fn in_jury_mode_a_vote_other_than_accept_or_reject_is_invalid() {
	run_test(|| {
		let task = revealed_inline(VerificationMode::Jury, 1, &[b"a poem"]);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		draw(task);
		let juror = jurors(task)[0];
		assert_ok!(commit_as(juror, task, hash(b"other")));
		run_to_block(dispute(task).phase_ends);
		assert_noop!(reveal_as(juror, task, hash(b"other")), Error::<Test>::InvalidVote);
	});
}

/// A requester who serves its referenced input to the executors, then withholds it from the
/// jurors and challenges, cannot have an honest result overturned: jurors who cannot obtain
/// the input say so, and that is never a verdict. The challenger pays for the jury.
#[test]
fn jurors_who_cannot_obtain_a_referenced_input_never_overturn_a_result() {
	run_test(|| {
		let task = revealed_referenced(1, &[Some(b"4")]);
		let executor = executors_of(task)[0];
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		draw(task);
		vote_round(task, &[Some(INPUT_UNAVAILABLE); 3]);
		assert_eq!(dispute(task).verdict, None);
		// Present, not wrong: nobody is penalised.
		for juror in jurors_of_round_zero(task) {
			assert_eq!(stake(juror), 500);
		}
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executor), 500);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::free_balance(2), 10_000 - 3 * JUROR_REWARD);

		// On a task whose input is on chain, "input unavailable" is no vote.
		let inline = revealed_task(1, model(), &[b"4"]);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(3), inline, BOND));
		draw(inline);
		let juror = jurors(inline)[0];
		assert_ok!(commit_as(juror, inline, INPUT_UNAVAILABLE));
		run_to_block(dispute(inline).phase_ends);
		assert_noop!(reveal_as(juror, inline, INPUT_UNAVAILABLE), Error::<Test>::InvalidVote);
	});
}

/// The jurors of round 0, once counted (they are in `past_jurors`).
fn jurors_of_round_zero(task: TaskId) -> Vec<u64> {
	dispute(task).past_jurors.to_vec()
}

/// A guilty executor's accomplice challenges its wrong result first, to recover the slash as
/// the challenger's reward. It recovers only the challenger's share of what the jurors leave.
#[test]
fn a_self_challenge_recovers_only_the_challengers_share_of_the_slash() {
	run_test(|| {
		let task = revealed_task(1, model(), &[b"5"]);
		let executor = executors_of(task)[0];
		// Account 3 is the executor's accomplice.
		let before = Balances::total_balance(&executor) + Balances::total_balance(&3);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(3), task, BOND));
		draw(task);
		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		let after = Balances::total_balance(&executor) + Balances::total_balance(&3);
		let loss = before - after;
		assert_eq!(loss, WRONG_RESULT_SLASH - challenger_reward(WRONG_RESULT_SLASH, 3));
		assert!(loss >= WRONG_RESULT_SLASH * 3 / 4 - 3 * JUROR_REWARD);
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
		assert!(Deadlines::<Test>::get(commit_deadline, task).is_none());
	});
}

/// A jury draw the queue defers runs in the hook of a later block, seeded by that block's
/// parent hash; no call can run it (its sender would know the seed and could change the
/// candidates in the same block, with `bond_extra` or `pause`).
#[test]
fn a_deferred_jury_draw_is_seeded_by_the_block_it_runs_in_and_never_by_a_call() {
	run_test(|| {
		let task = revealed_task(1, model(), &[b"5"]);
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		let due = dispute(task).phase_ends;
		// The hook of the draw's block did not run.
		System::set_block_number(due + 2);
		assert_noop!(
			Challenges::advance(RuntimeOrigin::signed(3), task),
			Error::<Test>::DrawnByHookOnly
		);
		let open = dispute(task);
		let drawn_from = |block: u64| {
			let seed = TestRandomness::random_at(&(b"challenges/jury", task, 0u32).encode(), block)
				.unwrap();
			let mut jury = <Test as Config>::AgentRegistry::select(
				Role::Verifier,
				&model(),
				3,
				seed,
				&Challenges::never_jurors(&open),
				open.juror_collateral,
				None,
			)
			.unwrap();
			jury.sort();
			jury
		};
		let expected = drawn_from(due + 2);
		// The hash of the block before the draw was due: known to all by now.
		assert_ne!(expected, drawn_from(due - 1));
		System::set_block_number(due + 3);
		Challenges::on_initialize(due + 3);
		let mut jury = jurors(task);
		jury.sort();
		assert_eq!(jury, expected);
	});
}

/// The deadline hook takes due disputes only while the costliest transition still fits in its
/// budget: with room for one, three draws due at the same block are made one a block, none
/// dropped, and the hook never weighs more than its budget; with room for the costliest and two
/// draws, cheaper, three draws are made in one block.
#[test]
fn the_deadline_hook_stays_within_its_weight_budget_and_defers_the_rest() {
	run_test(|| {
		let tasks: Vec<TaskId> = (0..3).map(|_| revealed_task(1, model(), &[b"5"])).collect();
		for task in &tasks {
			assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), *task, BOND));
		}
		let due = dispute(tasks[0]).phase_ends;
		assert!(tasks.iter().all(|task| dispute(*task).phase_ends == due));
		// Room for one costliest transition and its queue entry, after the overhead.
		let budget = Challenges::hook_weights().most(1, MAX_BLOCKS_PER_RUN);
		MaxDeadlineWeight::set(budget);
		for (block, drawn) in [(due, 1), (due + 1, 2), (due + 2, 3)] {
			System::set_block_number(block);
			let weight = Challenges::on_initialize(block);
			assert!(weight.all_lte(budget), "{weight} > {budget}");
			let phases: Vec<DisputePhase> = tasks.iter().map(|task| dispute(*task).phase).collect();
			let committing = phases.iter().filter(|p| **p == DisputePhase::Committing).count();
			let drawing = phases.iter().filter(|p| **p == DisputePhase::Drawing).count();
			assert_eq!((committing, drawing), (drawn, tasks.len() - drawn), "after {block}");
		}
		// The budget is of weight, not of a count: with room for the costliest and two draws,
		// cheaper, three draws are made in one block.
		let more: Vec<TaskId> = (0..3).map(|_| revealed_task(1, model(), &[b"5"])).collect();
		for task in &more {
			assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), *task, BOND));
		}
		let due = dispute(more[0]).phase_ends;
		let draw = <() as crate::WeightInfo>::draw_jury()
			.saturating_add(Challenges::hook_weights().entry());
		assert!(draw.all_lt(Challenges::transition_weight()));
		MaxDeadlineWeight::set(budget.saturating_add(draw.saturating_mul(2)));
		System::set_block_number(due);
		Challenges::on_initialize(due);
		assert!(more.iter().all(|task| dispute(*task).phase == DisputePhase::Committing));
	});
}

/// Runs to block `n`, every block on the way full of ordinary traffic.
fn run_full_to_block(n: u64) {
	agentchain_support::mock_helpers::run_full_to_block::<Test, AllPalletsWithSystem>(n)
}

/// Someone fills the blocks before the jurors' commit deadline: it moves on by the grace, once
/// for the phase, and no juror is penalised for it. Once extended, it is not extended again.
#[test]
fn a_vote_deadline_that_fell_in_full_blocks_is_extended_once() {
	run_test(|| {
		let (task, _) = challenged(b"5");
		let deadline = dispute(task).phase_ends;
		run_full_to_block(deadline);
		System::assert_has_event(
			Event::DeadlineExtended { task, phase_ends: deadline + CONGESTION_GRACE }.into(),
		);
		assert_eq!(dispute(task).phase, DisputePhase::Committing);
		let jury = jurors(task);
		assert_ok!(commit_as(jury[0], task, hash(b"4")));
		// Not extended twice: the jurors who still have not committed miss the deadline.
		run_full_to_block(deadline + CONGESTION_GRACE);
		assert_eq!(dispute(task).phase, DisputePhase::Revealing);
		assert!(!dispute(task).extended);
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
		draw(task);
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
		let protocol = Inference::account_id();
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&protocol, 1_000);
		AuditProbability::set(Perbill::one());
		// A fee of 20 cannot pay three jurors 10 each: they share 20.
		let id = pallet_inference::NextTaskId::<Test>::get();
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(1),
			model(),
			pallet_inference::TaskInput::Inline(b"2+2=".to_vec()),
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
		run_to_block(System::block_number() + 1);
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
		// Compared at the next block, then the window.
		run_to_block(System::block_number() + 1 + CHALLENGE_PERIOD);
		draw(id);
		assert_eq!(dispute(id).kind, DisputeKind::Audit);
		vote_round(id, &[Some(hash(b"4")); 3]);
		let before = Balances::free_balance(protocol);
		run_to_block(dispute(id).phase_ends);
		// Paid out: 20 to the jurors; received: the protocol cut of 2.
		assert_eq!(Balances::free_balance(protocol), before - 20 + 2);
	});
}

/// The protocol cut is taken only on the outputs delivered. An audit of a task whose other
/// executor could not obtain the input draws on the protocol account for no more than the
/// delivered share: a requester cannot buy audits worth more than the cut it paid.
#[test]
fn an_audit_costs_the_protocol_account_at_most_what_was_paid_for_delivered_outputs() {
	run_test(|| {
		let protocol = Inference::account_id();
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&protocol, 1_000);
		AuditProbability::set(Perbill::one());
		// A fee of 40 for two executors: one delivers (a share of 20), one cannot fetch.
		let id = pallet_inference::NextTaskId::<Test>::get();
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(1),
			model(),
			pallet_inference::TaskInput::Reference {
				hash: H256::repeat_byte(7),
				uri: b"https://data.example/in".to_vec(),
			},
			pallet_inference::TaskParams {
				max_tokens: 8,
				temperature_milli: 0,
				seed: 1,
				mode: VerificationMode::ExactMatch
			},
			40,
			2,
			2,
		));
		run_to_block(System::block_number() + 1);
		commit_and_reveal(id, &[Some(b"4"), None]);
		run_to_block(System::block_number() + CHALLENGE_PERIOD);
		draw(id);
		assert_eq!(dispute(id).kind, DisputeKind::Audit);
		vote_round(id, &[Some(hash(b"4")); 3]);
		let before = Balances::free_balance(protocol);
		run_to_block(dispute(id).phase_ends);
		// Paid out: 20 to the jurors (not the 30 they are owed, nor the fee of 40); received:
		// the protocol cut of the delivered share, 2.
		assert_eq!(Balances::free_balance(protocol), before - 20 + 2);
	});
}

/// More dispute deadlines fall due in a block than it processes: the rest wait for the next
/// blocks, in order. Nobody is penalised for it and nothing is decided by it.
#[test]
fn a_backlog_of_dispute_deadlines_defers_them_without_changing_their_outcome() {
	run_test(|| {
		// Five challenges in one block, one more than a block processes: their juries are
		// drawn over two blocks.
		let tasks: Vec<TaskId> = (0..5).map(|_| revealed_task(1, model(), &[b"4"])).collect();
		for task in &tasks {
			assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), *task, BOND));
		}
		let opened = System::block_number();
		run_to_block(opened + 1);
		let drawn = |tasks: &[TaskId]| {
			tasks.iter().filter(|t| dispute(**t).phase == DisputePhase::Committing).count()
		};
		assert_eq!(drawn(&tasks), 4);
		run_to_block(opened + 2);
		assert_eq!(drawn(&tasks), 5);
		// Every juror votes the result on time; the reveal deadlines of the last task fall a
		// block later, and its jurors are not penalised for it.
		for task in &tasks {
			let jury = jurors(*task);
			for juror in &jury {
				assert_ok!(commit_as(*juror, *task, hash(b"4")));
			}
		}
		let last = *tasks.iter().max_by_key(|t| dispute(**t).phase_ends).unwrap();
		run_to_block(dispute(last).phase_ends);
		for task in &tasks {
			for juror in jurors(*task) {
				assert_ok!(reveal_as(juror, *task, hash(b"4")));
			}
		}
		run_to_block(System::block_number() + REVEAL_PERIOD + APPEAL_PERIOD + 2);
		for task in &tasks {
			assert!(!Disputes::<Test>::contains_key(task));
			assert_eq!(task_status(*task), TaskStatus::Finalised);
		}
		let penalised = System::events().iter().any(|record| {
			matches!(record.event, RuntimeEvent::Challenges(Event::JurorPenalised { .. }))
		});
		assert!(!penalised);
	});
}

#[test]
fn integrity_test_passes() {
	new_test_ext().execute_with(|| {
		<Challenges as frame_support::traits::Hooks<u64>>::integrity_test();
	});
}

pub(crate) mod bisection;
pub(crate) mod items;
mod refusals;
