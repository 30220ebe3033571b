//! Prompts an endpoint refuses on its content policy (`agentchain:refused`, docs/batches.md,
//! problem 7): a refusal is an output like any other, so a jury that answers the prompt finds it
//! wrong and slashes it; an answer outvoted by jurors whose endpoints refused is not paid, and
//! not slashed.

use super::{items::*, *};
use agentchain_execution::{REFUSED, REFUSED_HASH};
use pallet_inference::{RefusedItems, WrongItems};

/// The reputation record of `agent`.
fn reputation(agent: u64) -> agentchain_primitives::agents::Reputation {
	pallet_agents::Registry::<Test>::get(agent).expect("agent exists").reputation
}

/// A lazy executor drawn alone answers refused, running nothing. It is paid whenever no audit
/// or challenge comes, but the audit's jury answers the prompt: the refusal is a wrong result,
/// slashed as one, and the requester refunded and compensated. Never a free pass.
#[test]
fn a_refusal_the_jury_answers_is_slashed_as_a_wrong_result() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		AuditProbability::set(Perbill::one());
		let task = revealed_task(1, model(), &[REFUSED]);
		let executor = executors_of(task)[0];
		run_to_block(System::block_number() + CHALLENGE_PERIOD);
		draw(task);
		assert_eq!(dispute(task).kind, DisputeKind::Audit);
		let requester = Balances::free_balance(1);
		vote_round(task, &[Some(hash(b"4")); 3]);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		System::assert_has_event(
			Event::ExecutorSlashed { task, executor, slashed: WRONG_RESULT_SLASH }.into(),
		);
		let compensation = FEE * u64::from(COMPENSATION_FEE_MULTIPLE);
		assert_eq!(Balances::free_balance(1), requester + FEE + compensation);
		assert_eq!(task_status(task), TaskStatus::Expired);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// The same lazy executor on a batch: every item answered refused; the audit's item, whichever
/// it is, is answered by the jury, and the whole batch is lost with the audit's slash.
#[test]
fn a_batch_answered_refused_loses_its_audit() {
	run_test(|| {
		let refusals: Vec<String> =
			(0..ITEMS).map(|_| String::from_utf8(REFUSED.to_vec()).unwrap()).collect();
		AuditProbability::set(Perbill::one());
		let (task, executor) = revealed_batch(&refusals);
		let stake_before = stake(executor);
		end_window(task);
		let item = ItemDisputes::<Test>::get(task).expect("the batch is audited").item;
		show(task, item, &refusals);
		end_showing(task);
		let truth = hash(format!("answer {item}").as_bytes());
		vote_round(task, &[Some(truth); 3]);
		close_after_count(task);
		assert_eq!(stake(executor), stake_before - Challenges::wrong_result_slash(SHARE));
		// Nothing paid, the whole share back to the requester.
		assert_finalised(task, &refusals, u64::from(ITEMS));
	});
}

/// An honest executor serving the model answers a prompt the jurors' endpoints refuse: it
/// cannot be slashed for it, only go unpaid for the answer nobody could judge. The challenger
/// pays for the judgment it asked for (as without a verdict), and gains nothing; nor does the
/// requester, whose fee for the answer goes to the protocol account.
#[test]
fn an_answer_the_jury_refuses_loses_its_pay_not_its_stake() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (task, executor) = challenged(b"4");
		let jury = jurors(task);
		let free: Vec<u64> = jury.iter().map(|j| Balances::free_balance(j)).collect();
		let (requester, challenger, protocol) =
			(Balances::free_balance(1), Balances::free_balance(2), protocol_balance());
		let (executor_free, lost_before) =
			(Balances::free_balance(executor), reputation(executor).challenges_lost);
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		assert_eq!(dispute(task).verdict, Some(REFUSED_HASH));
		// The executor may appeal the verdict, as any side it goes against.
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(Event::AnswerRefusedByJury { task, executor }.into());
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(REFUSED_HASH), result_overturned: false }
				.into(),
		);
		// Not slashed, not counted as a lost challenge, not paid.
		assert_eq!(stake(executor), 500);
		assert_eq!(reputation(executor).challenges_lost, lost_before);
		assert_eq!(Balances::free_balance(executor), executor_free);
		let agent = pallet_agents::Registry::<Test>::get(executor).unwrap();
		assert_eq!((agent.open_work, agent.collateral), (0, 0));
		// The answer's pay goes to the protocol account: the requester is neither refunded
		// nor compensated (it gains nothing by having an answer judged that its jury's
		// endpoints refuse); the challenger's bond pays the jurors and the rest comes back.
		assert_eq!(Balances::free_balance(1), requester);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received, FEE);
		assert_eq!(bond_held(2), 0);
		assert_eq!(Balances::free_balance(2), challenger + BOND - 3 * JUROR_REWARD);
		for (juror, free) in jury.iter().zip(free) {
			assert_eq!(Balances::free_balance(juror), free + JUROR_REWARD);
		}
		assert_eq!(protocol_balance(), protocol + FEE);
		assert_eq!(task_status(task), TaskStatus::Expired);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// A refused result the jury's endpoints refuse too is a result found right: a challenge of it
/// loses its bond, as any challenge of a right result does.
#[test]
fn a_refusal_the_jury_refuses_too_stands_and_its_challenger_pays() {
	run_test(|| {
		let (task, executor) = challenged(REFUSED);
		let challenger = Balances::free_balance(2);
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(Event::BondForfeited { task, who: 2, amount: BOND }.into());
		assert_eq!(Balances::free_balance(2), challenger);
		assert_eq!(stake(executor), 500);
		assert_eq!(task_status(task), TaskStatus::Finalised);
	});
}

/// In jury mode, a juror whose endpoint refuses the prompt votes refused, not reject: an
/// answer that a majority of such jurors cannot judge is unpaid, never slashed.
#[test]
fn in_jury_mode_a_refusing_jury_cannot_slash_an_answer() {
	run_test(|| {
		let task = revealed_inline(VerificationMode::Jury, 1, &[b"a poem"]);
		let executor = executors_of(task)[0];
		assert_ok!(Challenges::challenge(RuntimeOrigin::signed(2), task, BOND));
		draw(task);
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		assert_eq!(dispute(task).verdict, Some(REFUSED_HASH));
		let requester = Balances::free_balance(1);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(stake(executor), 500);
		assert_eq!(Balances::free_balance(1), requester);
		assert_eq!(task_status(task), TaskStatus::Expired);
	});
}

/// A batch's item the jury's endpoints refuse, which the executor answered: the item is not
/// paid, the root is not slashed, and the collateral it reserved for its other items' disputes
/// is untouched. The batch goes back to its window and is paid its other items.
#[test]
fn an_item_answer_the_jury_refuses_loses_the_items_pay_not_the_collateral() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let honest = outputs(None);
		let (task, executor) = revealed_batch(&honest);
		let (stake_before, reserved_before) = (stake(executor), reserved(executor));
		let (requester, challenger) = (Balances::free_balance(1), Balances::free_balance(2));
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, ITEM_BOND));
		show(task, 1, &honest);
		end_showing(task);
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		close_after_count(task);
		System::assert_has_event(Event::AnswerRefusedByJury { task, executor }.into());
		assert_eq!((stake(executor), reserved(executor)), (stake_before, reserved_before));
		// Judged once, and not counted against the item slashes the collateral covers.
		assert!(WrongItems::<Test>::get(task, executor).is_empty());
		assert_eq!(RefusedItems::<Test>::get(task, executor).into_inner(), vec![1]);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(3), task, 1, ITEM_BOND),
			Error::<Test>::ItemAlreadyJudged
		);
		assert_eq!(Balances::free_balance(2), challenger - 3 * JUROR_REWARD);
		assert_eq!(bond_held(2), 0);
		assert_eq!(task_status(task), TaskStatus::Revealed);
		end_window(task);
		let earned = SHARE - SHARE / u64::from(ITEMS);
		System::assert_has_event(
			pallet_inference::Event::TaskFinalised {
				task,
				output_hash: tree(&honest).root(),
				paid: earned - cut(earned),
				protocol_cut: cut(earned),
				refunded: 0,
			}
			.into(),
		);
		// The item's pay went to the protocol account, not back to the requester.
		assert_eq!(Balances::free_balance(1), requester);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received, SHARE - earned);
		assert_eq!(stake(executor), stake_before);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// The drain of `the_protocol_account_cannot_be_drained_through_disagreements`, with refusals:
/// one party owns both executors of a task and its jury; one executor answers refused, the
/// other answers, and the jury refuses. Nobody is slashed and a disagreement has no bonds: the
/// jurors are paid out of the answer's pay, which goes to the protocol account, never more. The
/// party gets back less than the fee it paid.
#[test]
fn a_disagreement_the_jury_refuses_pays_its_jurors_out_of_the_answers_pay_only() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let task = revealed_task(1, model(), &[REFUSED, b"4"]);
		let executors = executors_of(task);
		draw(task);
		assert_eq!(dispute(task).kind, DisputeKind::Disagreement);
		let free: Vec<u64> = executors.iter().map(|e| Balances::free_balance(e)).collect();
		let jury = jurors(task);
		let jury_free: Vec<u64> = jury.iter().map(|j| Balances::free_balance(j)).collect();
		let (requester, protocol) = (Balances::free_balance(1), protocol_balance());
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::AnswerRefusedByJury { task, executor: executors[1] }.into(),
		);
		// The refusal is the result and is paid; the answer is neither paid nor slashed.
		let fee_paid = FEE - FEE / 10;
		assert_eq!(Balances::free_balance(executors[0]), free[0] + fee_paid);
		assert_eq!(Balances::free_balance(executors[1]), free[1]);
		assert_eq!((stake(executors[0]), stake(executors[1])), (500, 500));
		for (juror, free) in jury.iter().zip(jury_free) {
			assert_eq!(Balances::free_balance(juror), free + JUROR_REWARD);
		}
		assert_eq!(protocol_balance(), protocol + FEE / 10 + FEE - 3 * JUROR_REWARD);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::AuditJurors).paid, 0);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::RefusalJurors).paid, 3 * JUROR_REWARD);
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received, FEE);
		// What the party paid (both shares) against what it got back (the refusal's pay and
		// its jurors'): the protocol gains, whatever the split.
		assert_eq!(Balances::free_balance(1), requester);
		assert!(fee_paid + 3 * JUROR_REWARD < 2 * FEE);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// Either side may appeal a verdict of refusal: the executor whose answer goes unpaid, and the
/// challenger, as nothing was found wrong. Each bond pays for the round it opened: an appellant
/// cannot bill its appeal to the other side.
#[test]
fn an_appeal_of_a_refusal_is_paid_for_by_its_appellant() {
	run_test(|| {
		let (task, executor) = challenged(b"4");
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		let appeal_bond = 2 * BOND;
		assert_ok!(Challenges::appeal(RuntimeOrigin::signed(executor), task, appeal_bond));
		draw(task);
		let seats = jurors(task).len() as u64;
		let challenger = Balances::free_balance(2);
		let executor_free = Balances::free_balance(executor);
		vote_round(task, &vec![Some(REFUSED_HASH); seats as usize]);
		close_after_count_of(task);
		// Round 0 out of the challenge bond, round 1 out of the executor's appeal bond.
		assert_eq!(Balances::free_balance(2), challenger + BOND - 3 * JUROR_REWARD);
		assert_eq!(
			Balances::free_balance(executor),
			executor_free + appeal_bond - seats * JUROR_REWARD
		);
		assert_eq!(stake(executor), 500);
	});
}

/// A first jury that refuses a wrong answer (by its endpoints, or captured: two of three seats)
/// cannot shield it: the challenger appeals, a larger jury answers the prompt, and the executor
/// is slashed as for any wrong result.
#[test]
fn the_challenger_appeals_a_refusal_and_a_larger_jury_finds_the_answer_wrong() {
	run_test(|| {
		let (task, executor) = challenged(b"5");
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		assert_ok!(Challenges::appeal(RuntimeOrigin::signed(2), task, 2 * BOND));
		draw(task);
		let seats = jurors(task).len();
		vote_round(task, &vec![Some(hash(b"4")); seats]);
		close_after_count_of(task);
		assert_eq!(stake(executor), 500 - WRONG_RESULT_SLASH);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(hash(b"4")), result_overturned: true }
				.into(),
		);
		assert_eq!(bond_held(2), 0);
		assert_eq!(task_status(task), TaskStatus::Expired);
	});
}

/// The audit of a batch whose every item was found wrong draws one of them again, and its
/// jury's endpoints refuse it: the item is not charged twice. Its pay was already withheld for
/// the wrong answer, so nothing more goes to the protocol account, no refusal is recorded
/// beside the finding, and the root, found wrong already, is not slashed again by a verdict of
/// refusal.
#[test]
fn an_audit_refused_on_an_item_already_found_wrong_charges_it_nothing_more() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		AuditProbability::set(Perbill::one());
		let lies: Vec<String> = (0..ITEMS).map(|i| format!("a cheap guess {i}")).collect();
		let (task, executor) = revealed_batch(&lies);
		for item in 0..ITEMS {
			assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, item, ITEM_BOND));
			show(task, item, &lies);
			end_showing(task);
			vote_round(task, &[Some(hash(format!("answer {item}").as_bytes())); 3]);
			close_after_count(task);
		}
		assert_eq!(WrongItems::<Test>::get(task, executor).len(), ITEMS as usize);
		let stake_before = stake(executor);
		let unjudged = ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received;
		end_window(task);
		let item = ItemDisputes::<Test>::get(task).expect("the batch is audited").item;
		show(task, item, &lies);
		end_showing(task);
		vote_round(task, &[Some(REFUSED_HASH); 3]);
		close_after_count(task);
		assert!(RefusedItems::<Test>::get(task, executor).is_empty());
		assert_eq!(ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received, unjudged);
		assert_eq!(stake(executor), stake_before);
		// Every item found wrong: nothing paid, the whole share back to the requester.
		assert_finalised(task, &lies, u64::from(ITEMS));
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// Runs a dispute to its close once its votes are counted.
fn close_after_count_of(task: TaskId) {
	if Disputes::<Test>::get(task).is_some_and(|d| d.phase == DisputePhase::Appealable) {
		run_to_block(dispute(task).phase_ends);
	}
	assert!(!Disputes::<Test>::contains_key(task));
}
