//! Disagreements between the two outputs roots of a batch: bisected one level of their trees at
//! a time, each step an opening checked on chain, down to the first item they differ on, which a
//! jury judges (`docs/batches.md`, "Disagreement").

use super::{
	items::{
		close_after_count, cut, prompts_of, reserved, reveal_roots, submit_batch, tree, window_end,
		SHARE,
	},
	*,
};
use agentchain_execution::{batch::item_hashes, merkle};
use agentchain_primitives::duties::DutyError;
use pallet_inference::{TaskStatus, WrongItems};

/// Items of the batches bisected here: odd level widths, so that the game passes promoted nodes.
const N: u32 = 5;

/// The outputs of an executor that runs every item of [`N`], but lies on `lies`.
fn outputs_lying_on(lies: &[u32]) -> Vec<String> {
	(0..N)
		.map(
			|i| {
				if lies.contains(&i) {
					format!("a cheap guess {i}")
				} else {
					format!("answer {i}")
				}
			},
		)
		.collect()
}

/// What a root found wrong on an item of a batch of [`N`] loses.
fn item_slash() -> u64 {
	Challenges::item_slash(SHARE / u64::from(N))
}

/// What a side that does not open its node loses: a wrong result's slash of its whole share, as
/// much as a withheld reveal.
fn silence_slash() -> u64 {
	Challenges::wrong_result_slash(SHARE / u64::from(N) * u64::from(N))
}

/// A batch of [`N`] items with two executors that reveal `roots[0]` and `roots[1]`; returns the
/// task, its bisection open, and the executors in the order of `roots`.
fn disagreeing(roots: [H256; 2]) -> (TaskId, [u64; 2]) {
	let id = submit_batch(N, 2);
	run_to_block(System::block_number() + 1);
	let executors = reveal_roots(id, &roots);
	assert_eq!(task_status(id), TaskStatus::Disputed);
	assert_eq!(dispute(id).phase, DisputePhase::Bisecting);
	(id, [executors[0], executors[1]])
}

/// Has `executor` open its node of the current step from `outputs`, its batch's outputs.
fn open_from(task: TaskId, executor: u64, outputs: &[String]) -> DispatchResultWithPostInfo {
	let bisection = Bisections::<Test>::get(task).expect("bisecting");
	let hashes = item_hashes(outputs);
	let (left, right) = tree(outputs)
		.opening(&hashes, bisection.level, bisection.position)
		.expect("the tree has the node");
	Challenges::open_node(RuntimeOrigin::signed(executor), task, left, right)
}

/// Plays the bisection with both executors opening from their outputs, to its end; returns the
/// number of steps.
fn bisect(task: TaskId, sides: [(u64, &[String]); 2]) -> u32 {
	let mut steps = 0;
	while dispute(task).phase == DisputePhase::Bisecting {
		for (executor, outputs) in sides {
			assert_ok!(open_from(task, executor, outputs));
		}
		steps += 1;
	}
	steps
}

/// Shows item `item`'s input (of [`prompts_of`] [`N`]) with its proof, signed by 3.
fn show_input(task: TaskId, item: u32) {
	let prompts = prompts_of(N);
	assert_ok!(Challenges::show_item_input(
		RuntimeOrigin::signed(3),
		task,
		prompts[item as usize].clone().into_bytes(),
		tree(&prompts).proof(item).unwrap(),
	));
}

fn opened(task: TaskId) -> usize {
	System::events()
		.iter()
		.filter(|record| {
			matches!(record.event, RuntimeEvent::Challenges(Event::NodeOpened { task: t, .. }) if t == task)
		})
		.count()
}

#[test]
fn two_roots_are_bisected_to_the_first_item_they_differ_on_and_the_liar_pays_for_it() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[3, 4]));
		let (task, [truthful, liar]) = disagreeing([tree(&honest).root(), tree(&lies).root()]);
		System::assert_has_event(
			Event::BisectionStep {
				task,
				level: merkle::root_level(N),
				position: 0,
				step_deadline: System::block_number() + BISECTION_STEP_PERIOD,
			}
			.into(),
		);
		let requester_before = Balances::free_balance(1);
		let (truthful_stake, liar_stake) = (stake(truthful), stake(liar));

		// Roots, top, two levels (the third passed: item 3's node is not promoted, but the
		// game goes through promoted nodes without a step), leaves: whatever the lies further on.
		let steps = bisect(task, [(truthful, &honest), (liar, &lies)]);
		assert_eq!(steps, merkle::root_level(N) + 1);
		assert_eq!(opened(task), 2 * steps as usize);
		System::assert_has_event(
			Event::ItemDisputeOpened {
				task,
				item: 3,
				show_deadline: System::block_number() + ITEM_PROOF_PERIOD,
			}
			.into(),
		);
		assert!(!Bisections::<Test>::contains_key(task));
		// Each side is accused by its output hash of the item, shown by its opening of the leaf.
		assert_eq!(
			dispute(task).revealed.into_inner(),
			vec![(truthful, hash(b"answer 3")), (liar, hash(b"a cheap guess 3"))]
		);
		// Only the input is left to show; the output hashes are known.
		assert_noop!(
			Challenges::show_item_output(RuntimeOrigin::signed(3), task, hash(b"x"), vec![]),
			Error::<Test>::AlreadyShown
		);
		show_input(task, 3);
		run_to_block(dispute(task).phase_ends);
		draw(task);
		let truth = hash(b"answer 3");
		vote_round(task, &[Some(truth); 3]);
		close_after_count(task);

		// The liar pays an item's slash, out of which the jurors are paid, and is out of the
		// batch: unpaid, its collateral released. The truthful root goes to its window.
		assert_eq!(stake(liar), liar_stake - item_slash());
		assert_eq!(stake(truthful), truthful_stake);
		assert_eq!(reserved(liar), 0);
		System::assert_has_event(
			pallet_inference::Event::BatchResumed {
				task,
				item: 3,
				wrong: vec![liar],
				challenge_end: window_end(task),
			}
			.into(),
		);
		assert_eq!(task_status(task), TaskStatus::Revealed);
		assert_eq!(
			pallet_inference::Tasks::<Test>::get(task).unwrap().result,
			Some(tree(&honest).root())
		);
		// Still open to item challenges: the liar may challenge too, with a bond.
		assert!(reserved(truthful) > 0);
		run_to_block(window_end(task));
		System::assert_has_event(
			pallet_inference::Event::TaskFinalised {
				task,
				output_hash: tree(&honest).root(),
				paid: SHARE - cut(SHARE),
				protocol_cut: cut(SHARE),
				refunded: SHARE,
			}
			.into(),
		);
		assert_eq!(reserved(truthful), 0);
		assert_eq!(Balances::free_balance(1), requester_before + SHARE, "the lie refunded");
		assert_eq!(Balances::total_issuance(), issuance, "no funds created or destroyed");
	});
}

#[test]
fn a_lazy_root_that_no_tree_opens_is_found_wrong_when_the_step_ends() {
	run_test(|| {
		// The lazy executor revealed a random hash: nothing it can open passes, and when the
		// first step ends it pays what withholding its reveal would have cost, without a jury
		// (not just an item's price: revealing junk must not be a cheap way out of a batch).
		let honest = outputs_lying_on(&[]);
		let lazy_root = H256::repeat_byte(0x55);
		let (task, [truthful, lazy]) = disagreeing([tree(&honest).root(), lazy_root]);
		let lazy_stake = stake(lazy);
		assert_ok!(open_from(task, truthful, &honest));
		assert_noop!(open_from(task, lazy, &honest), Error::<Test>::InvalidOpening);
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(lazy), task, lazy_root, None),
			Error::<Test>::InvalidOpening
		);
		run_to_block(dispute(task).phase_ends);
		assert!(!Disputes::<Test>::contains_key(task));
		assert!(!Bisections::<Test>::contains_key(task));
		System::assert_has_event(
			Event::DisputeClosed {
				task,
				verdict: Some(tree(&honest).root()),
				result_overturned: false,
			}
			.into(),
		);
		assert_eq!(stake(lazy), lazy_stake - silence_slash());
		assert!(silence_slash() > item_slash());
		assert_eq!(reserved(lazy), 0);
		System::assert_has_event(
			pallet_inference::Event::BatchResumed {
				task,
				item: 0,
				wrong: vec![lazy],
				challenge_end: window_end(task),
			}
			.into(),
		);
		run_to_block(window_end(task));
		assert_eq!(task_status(task), TaskStatus::Finalised);
	});
}

#[test]
fn a_side_silent_deeper_down_is_found_wrong_on_the_first_item_under_its_node() {
	run_test(|| {
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[4]));
		let (task, [truthful, liar]) = disagreeing([tree(&honest).root(), tree(&lies).root()]);
		// Two steps played, then the liar stops: the game stands at a node over item 4.
		for _ in 0..2 {
			assert_ok!(open_from(task, truthful, &honest));
			assert_ok!(open_from(task, liar, &lies));
		}
		let bisection = Bisections::<Test>::get(task).unwrap();
		assert_ok!(open_from(task, truthful, &honest));
		run_to_block(dispute(task).phase_ends);
		let item = merkle::first_item(N, bisection.level, bisection.position);
		assert_eq!(item, 4, "the only node the roots differ on at that level is over item 4");
		System::assert_has_event(
			pallet_inference::Event::BatchResumed {
				task,
				item,
				wrong: vec![liar],
				challenge_end: window_end(task),
			}
			.into(),
		);
	});
}

#[test]
fn both_sides_silent_are_both_found_wrong_and_the_requester_refunded() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (a, b) = (outputs_lying_on(&[]), outputs_lying_on(&[1]));
		let (task, executors) = disagreeing([tree(&a).root(), tree(&b).root()]);
		let stakes = executors.map(stake);
		run_to_block(dispute(task).phase_ends);
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(ITEM_NOT_SHOWN), result_overturned: false }
				.into(),
		);
		for (executor, before) in executors.iter().zip(stakes) {
			assert_eq!(stake(*executor), before - silence_slash());
			assert_eq!(reserved(*executor), 0);
		}
		System::assert_has_event(
			pallet_inference::Event::TaskExpired { task, refunded: 2 * SHARE }.into(),
		);
		assert_eq!(Balances::total_issuance(), issuance, "slashes go to the protocol account");
	});
}

#[test]
fn a_jury_that_finds_both_roots_wrong_on_the_item_refunds_the_batch() {
	run_test(|| {
		let (a, b) = (outputs_lying_on(&[2]), outputs_lying_on(&[2, 3]));
		// Both lie on item 2, differently.
		let b: Vec<String> = b
			.into_iter()
			.enumerate()
			.map(|(i, o)| if i == 2 { "another guess".into() } else { o })
			.collect();
		let (task, executors) = disagreeing([tree(&a).root(), tree(&b).root()]);
		let stakes = executors.map(stake);
		bisect(task, [(executors[0], &a), (executors[1], &b)]);
		assert_eq!(ItemDisputes::<Test>::get(task).unwrap().item, 2);
		show_input(task, 2);
		run_to_block(dispute(task).phase_ends);
		draw(task);
		vote_round(task, &[Some(hash(b"answer 2")); 3]);
		close_after_count(task);
		for (executor, before) in executors.iter().zip(stakes) {
			assert_eq!(stake(*executor), before - item_slash());
		}
		System::assert_has_event(
			pallet_inference::Event::TaskExpired { task, refunded: 2 * SHARE }.into(),
		);
	});
}

#[test]
fn an_item_no_jury_decides_pays_both_roots_as_an_undecided_disagreement() {
	run_test(|| {
		let (a, b) = (outputs_lying_on(&[]), outputs_lying_on(&[0]));
		let (task, executors) = disagreeing([tree(&a).root(), tree(&b).root()]);
		let stakes = executors.map(stake);
		bisect(task, [(executors[0], &a), (executors[1], &b)]);
		show_input(task, 0);
		run_to_block(dispute(task).phase_ends);
		draw(task);
		vote_round(task, &[None, None, None]);
		close_after_count(task);
		assert_eq!(executors.map(stake), stakes, "nobody slashed without a verdict");
		assert_eq!(task_status(task), TaskStatus::Finalised);
		System::assert_has_event(
			pallet_inference::Event::DisputeResolved { task, output_hash: None }.into(),
		);
	});
}

#[test]
fn only_the_two_executors_open_nodes_once_a_step_each_and_validly() {
	run_test(|| {
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[3]));
		let (task, [first, second]) = disagreeing([tree(&honest).root(), tree(&lies).root()]);
		// Neither the requester, a challenger, nor a verifier is a side.
		for outsider in [1, 3, 31] {
			assert_noop!(
				Challenges::open_node(RuntimeOrigin::signed(outsider), task, H256::zero(), None),
				Error::<Test>::NotASide
			);
			assert_eq!(
				Challenges::duty_of(
					&outsider,
					&Call::open_node { task, left: H256::zero(), right: None }
				),
				Some(Err(DutyError::NotAssigned))
			);
		}
		let top = tree(&honest).top();
		let call = Call::open_node { task, left: top, right: None };
		assert!(matches!(Challenges::duty_of(&first, &call), Some(Ok(_))));
		let forged = Call::open_node { task, left: H256::zero(), right: None };
		assert_eq!(Challenges::duty_of(&first, &forged), Some(Err(DutyError::Invalid)));
		// A forged top, a right child at the roots' level, another side's top.
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(first), task, H256::zero(), None),
			Error::<Test>::InvalidOpening
		);
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(first), task, top, Some(top)),
			Error::<Test>::InvalidOpening
		);
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(second), task, top, None),
			Error::<Test>::InvalidOpening
		);
		// A valid opening is a duty, free of fees, once a step.
		let post = open_from(task, first, &honest).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_noop!(open_from(task, first, &honest), Error::<Test>::AlreadyOpened);
		assert_eq!(Challenges::duty_of(&first, &call), Some(Err(DutyError::AlreadyDone)));
		// The operator key of the executor opens for it (21 acts for 11).
		let operator = if second == 11 { 21 } else { second };
		assert_ok!(open_from(task, operator, &lies));
		assert!(Bisections::<Test>::get(task).unwrap().level < merkle::root_level(N));
		// A task that is no bisection.
		let (other, _) = super::items::revealed_batch(&super::items::outputs(None));
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), other, 0, MIN_BOND));
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(first), other, H256::zero(), None),
			Error::<Test>::NotBisecting
		);
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(first), 999, H256::zero(), None),
			Error::<Test>::UnknownDispute
		);
	});
}

#[test]
fn a_root_or_leaf_claiming_the_not_shown_verdict_wins_nothing() {
	run_test(|| {
		// A side that revealed the very hash the chain gives as the verdict on an item nobody
		// showed, then stays silent while the other side is silent too: both are found wrong.
		let honest = outputs_lying_on(&[]);
		let (task, [truthful, cunning]) = disagreeing([tree(&honest).root(), ITEM_NOT_SHOWN]);
		let stakes = [truthful, cunning].map(stake);
		run_to_block(dispute(task).phase_ends);
		for (executor, before) in [truthful, cunning].iter().zip(stakes) {
			assert_eq!(stake(*executor), before - silence_slash(), "{executor} found wrong");
		}
		System::assert_has_event(
			pallet_inference::Event::TaskExpired { task, refunded: 2 * SHARE }.into(),
		);
	});
}

#[test]
fn a_leaf_opened_into_the_not_shown_verdict_is_refused() {
	run_test(|| {
		// Refused by dispatch and by the priority lane.
		let honest = outputs_lying_on(&[]);
		let (task, [_, b]) = disagreeing([tree(&honest).root(), H256::repeat_byte(0x77)]);
		let mut bisection = Bisections::<Test>::get(task).unwrap();
		// A leaf whose output hash is the reserved one, planted at the leaves' level.
		let leaf = merkle::leaf_hash(0, &ITEM_NOT_SHOWN);
		bisection.level = 0;
		bisection.sides[1].node = leaf;
		Bisections::<Test>::insert(task, bisection);
		assert_noop!(
			Challenges::open_node(RuntimeOrigin::signed(b), task, ITEM_NOT_SHOWN, None),
			Error::<Test>::InvalidOpening
		);
		assert_eq!(
			Challenges::duty_of(&b, &Call::open_node { task, left: ITEM_NOT_SHOWN, right: None }),
			Some(Err(DutyError::Invalid))
		);
		// Restore the bisection's state for the invariants.
		let mut bisection = Bisections::<Test>::get(task).unwrap();
		bisection.level = merkle::root_level(N);
		bisection.sides[1].node = H256::repeat_byte(0x77);
		Bisections::<Test>::insert(task, bisection);
	});
}

#[test]
fn an_items_output_shown_as_the_not_shown_verdict_is_refused() {
	run_test(|| {
		let (task, _) = super::items::revealed_batch(&super::items::outputs(None));
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 0, MIN_BOND));
		assert_noop!(
			Challenges::show_item_output(RuntimeOrigin::signed(3), task, ITEM_NOT_SHOWN, vec![]),
			Error::<Test>::ReservedOutput
		);
	});
}

#[test]
fn without_verifiers_to_judge_the_item_the_disagreement_refunds_the_batch() {
	run_test(|| {
		// The verifiers pause once the batch is drawn (say, the liar's own): nothing is bisected
		// that could not be judged, neither root is paid, and the requester is refunded.
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[1]));
		let id = submit_batch(N, 2);
		run_to_block(System::block_number() + 1);
		for verifier in 31..=42 {
			assert_ok!(Agents::pause(RuntimeOrigin::signed(verifier)));
		}
		reveal_roots(id, &[tree(&honest).root(), tree(&lies).root()]);
		assert!(!Disputes::<Test>::contains_key(id));
		System::assert_has_event(
			pallet_inference::Event::TaskExpired { task: id, refunded: 2 * SHARE }.into(),
		);
	});
}

#[test]
fn the_winning_root_is_challenged_as_the_one_root_delivered() {
	run_test(|| {
		// The first difference is item 1, where the second root lies; the first root lies on
		// item 3. The first wins the bisection, and is found wrong on item 3 by a challenge:
		// the requester is compensated for what it pays for, one root, not two.
		let (a, b) = (outputs_lying_on(&[3]), outputs_lying_on(&[1]));
		let (task, [winner, loser]) = disagreeing([tree(&a).root(), tree(&b).root()]);
		bisect(task, [(winner, &a), (loser, &b)]);
		assert_eq!(ItemDisputes::<Test>::get(task).unwrap().item, 1);
		show_input(task, 1);
		run_to_block(dispute(task).phase_ends);
		draw(task);
		vote_round(task, &[Some(hash(b"answer 1")); 3]);
		close_after_count(task);
		assert_eq!(task_status(task), TaskStatus::Revealed);

		// The loser, who knows where else the trees differ, challenges item 3.
		// The item's bond: max(MIN_BOND, 2 × fee / N) = 80.
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(loser), task, 3, 80));
		assert_eq!(dispute(task).revealed.len(), 1, "only the standing root is accused");
		show_input(task, 3);
		assert_ok!(Challenges::show_item_output(
			RuntimeOrigin::signed(3),
			task,
			hash(a[3].as_bytes()),
			tree(&a).proof(3).unwrap(),
		));
		run_to_block(dispute(task).phase_ends);
		draw(task);
		vote_round(task, &[Some(hash(b"answer 3")); 3]);
		close_after_count(task);
		// Compensation: at most COMPENSATION_FEE_MULTIPLE × one item share.
		let item_share = SHARE / u64::from(N);
		let compensated = System::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::Challenges(Event::RequesterCompensated {
					task: t, amount, ..
				}) if t == task => Some(amount),
				_ => None,
			})
			.last()
			.expect("compensated");
		assert_eq!(compensated, item_share * u64::from(COMPENSATION_FEE_MULTIPLE));
		assert_eq!(WrongItems::<Test>::get(task, winner).into_inner(), vec![3]);
	});
}

/// Two roots differ on an item one executor's endpoint refused and the other answered, and the
/// jury's endpoints refuse it too: the refusing root is the batch's result, the answering one is
/// out of the batch, not slashed, its share going to the protocol account, not back to the
/// requester.
#[test]
fn a_root_that_answered_an_item_the_jury_refuses_is_out_of_the_batch_unslashed() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let refused = String::from_utf8(agentchain_execution::REFUSED.to_vec()).unwrap();
		let answered = outputs_lying_on(&[]);
		let mut refusing = answered.clone();
		refusing[3] = refused;
		let (task, executors) = disagreeing([tree(&refusing).root(), tree(&answered).root()]);
		let stakes = executors.map(stake);
		let requester = Balances::free_balance(1);
		bisect(task, [(executors[0], &refusing), (executors[1], &answered)]);
		assert_eq!(ItemDisputes::<Test>::get(task).unwrap().item, 3);
		show_input(task, 3);
		run_to_block(dispute(task).phase_ends);
		draw(task);
		vote_round(task, &[Some(agentchain_execution::REFUSED_HASH); 3]);
		close_after_count(task);
		System::assert_has_event(
			Event::AnswerRefusedByJury { task, executor: executors[1] }.into(),
		);
		assert_eq!(executors.map(stake), stakes, "nobody slashed");
		assert_eq!(reserved(executors[1]), 0, "out of the batch");
		assert_eq!(task_status(task), TaskStatus::Revealed);
		run_to_block(window_end(task));
		System::assert_has_event(
			pallet_inference::Event::TaskFinalised {
				task,
				output_hash: tree(&refusing).root(),
				paid: SHARE - cut(SHARE),
				protocol_cut: cut(SHARE),
				refunded: 0,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(1), requester);
		assert_eq!(
			pallet_inference::ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received,
			SHARE
		);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
