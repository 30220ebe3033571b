//! Disagreements between the two outputs roots of a batch: bisected one level of their trees at
//! a time, each step an opening checked on chain, down to the first item they differ on, which a
//! jury judges (`docs/batches.md`, "Disagreement").

use super::{
	items::{
		close_after_count, cut, end_window, prompts_of, reserved, reveal_roots, submit_batch, tree,
		window_end, SHARE,
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

/// Judges the item the bisection of `task` went down to: its input shown, its jury drawn and
/// voting `verdict` (the output hash of `outputs[item]` for each juror).
fn judge(task: TaskId, item: u32, verdict: Option<H256>) {
	assert_eq!(ItemDisputes::<Test>::get(task).expect("an item judged").item, item);
	show_input(task, item);
	run_to_block(dispute(task).phase_ends);
	draw(task);
	vote_round(task, &[verdict; 3]);
}

/// Runs a disagreement's item dispute past its appeal window, where the bisection goes on to
/// the next item the roots differ on.
fn resumed_after_count(task: TaskId) {
	assert_eq!(dispute(task).phase, DisputePhase::Appealable);
	run_to_block(dispute(task).phase_ends);
	assert_eq!(dispute(task).phase, DisputePhase::Bisecting, "the bisection goes on");
	assert!(!ItemDisputes::<Test>::contains_key(task));
	assert!(!SuspendedBisections::<Test>::contains_key(task));
}

/// The item share of a batch of [`N`].
const ITEM_SHARE: u64 = SHARE / N as u64;

/// Runs `task` to its window's end and asserts it was finalised with `root` its result, each
/// executor paid its share less the items in `unpaid` (one entry an executor paid), less the
/// protocol's cut, and `refunded` back to its requester.
fn finalised_paying(task: TaskId, root: H256, unpaid: &[u64], refunded: u64) {
	end_window(task);
	let (paid, protocol_cut) = unpaid.iter().fold((0, 0), |(paid, protocol), items| {
		let earned = SHARE - items * ITEM_SHARE;
		(paid + earned - cut(earned), protocol + cut(earned))
	});
	System::assert_has_event(
		pallet_inference::Event::TaskFinalised {
			task,
			output_hash: root,
			paid,
			protocol_cut,
			refunded,
		}
		.into(),
	);
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
fn two_roots_are_bisected_to_every_item_they_differ_on_and_the_liar_pays_for_each() {
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
		let collateral = reserved(truthful);

		// Roots, top, two levels (the third passed: item 3's node is not promoted, but the
		// game goes through promoted nodes without a step), leaves: the first lie.
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
		// Passed by on the way: item 4's subtree, where the roots differ too.
		assert_eq!(BisectionGames::<Test>::get(task).unwrap().forks.len(), 1);
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
		judge(task, 3, Some(hash(b"answer 3")));
		resumed_after_count(task);

		// The liar paid an item's slash, out of which the jurors were paid; the item used one
		// of the batch's item disputes, so both reserve one item slash less. The game goes on
		// at the fork, each side accused by its root again.
		assert_eq!(stake(liar), liar_stake - item_slash());
		assert_eq!(reserved(truthful), collateral - item_slash());
		assert_eq!(reserved(liar), collateral - item_slash());
		System::assert_has_event(
			pallet_inference::Event::DifferenceJudged {
				task,
				item: 3,
				wrong: vec![liar],
				item_disputes_left: MAX_ITEMS_FOUND_WRONG - 1,
			}
			.into(),
		);
		assert_eq!(
			dispute(task).revealed.into_inner(),
			vec![(truthful, tree(&honest).root()), (liar, tree(&lies).root())]
		);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		let game = BisectionGames::<Test>::get(task).unwrap();
		assert_eq!((game.judged, game.lost, game.forks.len()), (1, [0, 1], 0));

		// Down from the fork to the second lie, judged as the first.
		bisect(task, [(truthful, &honest), (liar, &lies)]);
		judge(task, 4, Some(hash(b"answer 4")));
		close_after_count(task);
		assert!(!BisectionGames::<Test>::contains_key(task));
		assert_eq!(stake(liar), liar_stake - 2 * item_slash());
		assert_eq!(stake(truthful), truthful_stake);

		// Every difference judged: the truthful root is the result, the liar's reconciled with
		// it, each paid for the items it was not found wrong on.
		System::assert_has_event(
			pallet_inference::Event::BatchResumed {
				task,
				item: 4,
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
		assert_eq!(WrongItems::<Test>::get(task, liar).into_inner(), vec![3, 4]);
		assert_eq!(pallet_inference::DisagreedItems::<Test>::get(task).into_inner(), vec![3, 4]);
		finalised_paying(task, tree(&honest).root(), &[0, 2], 2 * ITEM_SHARE);
		assert_eq!(reserved(truthful), 0);
		assert_eq!(reserved(liar), 0);
		assert_eq!(
			Balances::free_balance(1),
			requester_before + 2 * ITEM_SHARE,
			"the lies refunded"
		);
		assert_eq!(Balances::total_issuance(), issuance, "no funds created or destroyed");
	});
}

/// The attack the bisection stopping at the first difference allowed: a liar whose first
/// difference with an honest root is an item the jury decides its way (a near tie, or a prompt
/// planted for it) won the whole batch, its later lies unjudged and paid. The game goes on past
/// each difference: every lie is found and priced.
#[test]
fn a_decoy_won_first_does_not_hide_the_lies_after_it() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[1, 3, 4]));
		let (task, [truthful, liar]) = disagreeing([tree(&honest).root(), tree(&lies).root()]);
		let (truthful_stake, liar_stake) = (stake(truthful), stake(liar));
		let requester_before = Balances::free_balance(1);
		bisect(task, [(truthful, &honest), (liar, &lies)]);
		// The decoy: the jury sides with the liar on item 1.
		judge(task, 1, Some(hash(b"a cheap guess 1")));
		resumed_after_count(task);
		for (item, truth) in [(3, "answer 3"), (4, "answer 4")] {
			bisect(task, [(truthful, &honest), (liar, &lies)]);
			judge(task, item, Some(hash(truth.as_bytes())));
			if item == 3 {
				resumed_after_count(task);
			} else {
				close_after_count(task);
			}
		}
		assert_eq!(stake(truthful), truthful_stake - item_slash());
		assert_eq!(stake(liar), liar_stake - 2 * item_slash());
		// The honest root, found wrong on fewer items, is the result; each is paid for the items
		// it was not found wrong on.
		assert_eq!(
			pallet_inference::Tasks::<Test>::get(task).unwrap().result,
			Some(tree(&honest).root())
		);
		finalised_paying(task, tree(&honest).root(), &[1, 2], 3 * ITEM_SHARE);
		assert_eq!(Balances::free_balance(1), requester_before + 3 * ITEM_SHARE);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_bisection_begun_before_games_were_kept_ends_at_its_item() {
	run_test(|| {
		// A disagreement opened before a runtime upgrade kept no game: the forks it passed by
		// are not known, so it is never found complete. It ends at its item as it used to: the
		// root found wrong there is out of the batch, the other the result.
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[3, 4]));
		let (task, [truthful, liar]) = disagreeing([tree(&honest).root(), tree(&lies).root()]);
		BisectionGames::<Test>::remove(task);
		bisect(task, [(truthful, &honest), (liar, &lies)]);
		judge(task, 3, Some(hash(b"answer 3")));
		close_after_count(task);
		assert_eq!(reserved(liar), 0, "out of the batch");
		assert!(reserved(truthful) > 0);
		assert_eq!(
			pallet_inference::Tasks::<Test>::get(task).unwrap().result,
			Some(tree(&honest).root())
		);
		finalised_paying(task, tree(&honest).root(), &[0], SHARE);
	});
}

#[test]
fn every_difference_is_found_up_to_the_budget() {
	run_test(|| {
		// A liar on all of 17 items: the game judges 15 of them, the batch's item disputes, and
		// stops with two left. The liar, found wrong on more, is out of the batch, unpaid; its
		// 15 item slashes are what its collateral reserved.
		let issuance = Balances::total_issuance();
		let honest: Vec<String> = (0..SEVENTEEN).map(|i| format!("answer {i}")).collect();
		let lies: Vec<String> = (0..SEVENTEEN).map(|i| format!("a cheap guess {i}")).collect();
		let (id, [truthful, liar], judged) =
			play_seventeen(&honest, &lies, |item| Some(hash(format!("answer {item}").as_bytes())));
		assert_eq!(judged, (0..MAX_ITEMS_FOUND_WRONG).collect::<Vec<_>>(), "every one in order");
		let slash = Challenges::item_slash(SHARE / u64::from(SEVENTEEN));
		// Each staked 500, and 1,000 more for the batch's collateral.
		assert_eq!(stake(liar), 1_500 - u64::from(MAX_ITEMS_FOUND_WRONG) * slash);
		assert_eq!(stake(truthful), 1_500);
		assert_eq!(reserved(liar), 0, "out of the batch");
		assert_eq!(pallet_inference::DisagreedItems::<Test>::get(id).len(), 15);
		// No item dispute is left for a challenge; the audit still judges the result.
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), id, 16, MIN_BOND),
			Error::<Test>::ItemDisputesExhausted
		);
		finalised_paying(id, tree(&honest).root(), &[0], SHARE);
		assert_eq!(Balances::total_issuance(), issuance);
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
		// Its stake, less its slash, no longer covers the batch's collateral less an item slash:
		// it is out of the batch, and nothing is reserved again for it (the registry's
		// invariants, checked after the test, hold).
		let free = stake(lazy) - reserved(lazy);
		if free > 0 {
			assert_ok!(Agents::unbond(RuntimeOrigin::signed(lazy), free));
		}
		assert!(stake(lazy) - silence_slash() < reserved(lazy) - item_slash());
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
		// No jury judged item 0: it is neither recorded as judged nor closed to challenges.
		assert!(pallet_inference::DisagreedItems::<Test>::get(task).is_empty());
		System::assert_has_event(
			pallet_inference::Event::BatchResumed {
				task,
				item: 0,
				wrong: vec![lazy],
				challenge_end: window_end(task),
			}
			.into(),
		);
		end_window(task);
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
fn a_jury_that_finds_both_roots_wrong_on_an_item_pays_neither_for_it() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		// Both lie on item 2, differently: the one item they differ on.
		let a = outputs_lying_on(&[2]);
		let mut b = a.clone();
		b[2] = "another guess".into();
		let (task, executors) = disagreeing([tree(&a).root(), tree(&b).root()]);
		let stakes = executors.map(stake);
		bisect(task, [(executors[0], &a), (executors[1], &b)]);
		judge(task, 2, Some(hash(b"answer 2")));
		close_after_count(task);
		for (executor, before) in executors.iter().zip(stakes) {
			assert_eq!(stake(*executor), before - item_slash());
			assert_eq!(WrongItems::<Test>::get(task, executor).into_inner(), vec![2]);
		}
		// Every difference judged, each root found wrong on as many: the first is the result,
		// both are paid for the other items, and the requester refunded item 2 twice.
		assert_eq!(task_status(task), TaskStatus::Revealed);
		finalised_paying(task, tree(&a).root(), &[1, 1], 2 * ITEM_SHARE);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// Two executors with 1,000 AGC more at stake each, on a batch of [`SEVENTEEN`] items, that
/// reveal the roots of `a` and `b`; each item the game goes down to is judged by a jury voting
/// `verdict(item)`, as long as the game goes on. Returns the task, its executors and the items
/// judged.
fn play_seventeen(
	a: &[String],
	b: &[String],
	verdict: impl Fn(u32) -> Option<H256>,
) -> (TaskId, [u64; 2], Vec<u32>) {
	for executor in 11..=13 {
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(executor), 1_000));
	}
	let id = submit_batch(SEVENTEEN, 2);
	run_to_block(System::block_number() + 1);
	let executors =
		<[u64; 2]>::try_from(reveal_roots(id, &[tree(a).root(), tree(b).root()])).unwrap();
	let prompts = prompts_of(SEVENTEEN);
	let mut judged = Vec::new();
	while dispute(id).phase == DisputePhase::Bisecting {
		bisect(id, [(executors[0], a), (executors[1], b)]);
		let item = ItemDisputes::<Test>::get(id).unwrap().item;
		judged.push(item);
		assert_ok!(Challenges::show_item_input(
			RuntimeOrigin::signed(3),
			id,
			prompts[item as usize].clone().into_bytes(),
			tree(&prompts).proof(item).unwrap(),
		));
		run_to_block(dispute(id).phase_ends);
		draw(id);
		vote_round(id, &[verdict(item); 3]);
		run_to_block(dispute(id).phase_ends);
		if !Disputes::<Test>::contains_key(id) {
			break;
		}
	}
	(id, executors, judged)
}

/// Items of the batches whose roots differ on more items than a batch has item disputes.
const SEVENTEEN: u32 = 17;

#[test]
fn two_lazy_roots_found_wrong_on_as_many_items_are_neither_the_result() {
	run_test(|| {
		// Two executors guessing every item, differently: each item judged finds both wrong.
		// The item disputes run out with two differences left, both as wrong: neither is the
		// result, both are released unpaid, and the requester is refunded.
		let issuance = Balances::total_issuance();
		let a: Vec<String> = (0..SEVENTEEN).map(|i| format!("a guess {i}")).collect();
		let b: Vec<String> = (0..SEVENTEEN).map(|i| format!("another guess {i}")).collect();
		let (task, executors, judged) =
			play_seventeen(&a, &b, |item| Some(hash(format!("answer {item}").as_bytes())));
		assert_eq!(judged, (0..MAX_ITEMS_FOUND_WRONG).collect::<Vec<_>>());
		for executor in executors {
			assert_eq!(reserved(executor), 0);
			assert_eq!(WrongItems::<Test>::get(task, executor).len() as u32, MAX_ITEMS_FOUND_WRONG);
		}
		System::assert_has_event(
			pallet_inference::Event::TaskExpired { task, refunded: 2 * SHARE }.into(),
		);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn differences_no_jury_finds_either_root_wrong_on_end_with_the_fee_to_the_protocol() {
	run_test(|| {
		// The requester's own executor refuses every item, beside an honest one answering them,
		// and the jury's endpoints refuse them too: nobody is found wrong, and the item disputes
		// run out with items left. Neither root is the result; the fee is not refunded, so the
		// requester does not get the honest executor's work for free by it: it goes to the
		// protocol account.
		let issuance = Balances::total_issuance();
		let refusal = String::from_utf8(agentchain_execution::REFUSED.to_vec()).unwrap();
		let refusing: Vec<String> = (0..SEVENTEEN).map(|_| refusal.clone()).collect();
		let answered: Vec<String> = (0..SEVENTEEN).map(|i| format!("answer {i}")).collect();
		let (task, executors, judged) =
			play_seventeen(&refusing, &answered, |_| Some(agentchain_execution::REFUSED_HASH));
		assert_eq!(judged.len() as u32, MAX_ITEMS_FOUND_WRONG);
		for executor in executors {
			assert_eq!(reserved(executor), 0);
			assert!(WrongItems::<Test>::get(task, executor).is_empty());
		}
		System::assert_has_event(
			pallet_inference::Event::TaskUnjudged {
				task,
				forfeited: 2 * SHARE - 15 * (SHARE / 17),
			}
			.into(),
		);
		assert!(!System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Inference(pallet_inference::Event::TaskExpired { task: t, .. }) if t == task
		)));
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_silent_side_ahead_on_the_items_judged_leaves_neither_root_the_result() {
	run_test(|| {
		// The liar was found wrong on item 1; then the honest side misses a step (offline, or
		// its openings censored). The liar's root is not the result for it: it was found wrong
		// on more of the items judged. Neither is; the requester is refunded.
		let (honest, lies) = (outputs_lying_on(&[]), outputs_lying_on(&[1, 3]));
		let (task, [truthful, liar]) = disagreeing([tree(&honest).root(), tree(&lies).root()]);
		let requester_before = Balances::free_balance(1);
		bisect(task, [(truthful, &honest), (liar, &lies)]);
		judge(task, 1, Some(hash(b"answer 1")));
		resumed_after_count(task);
		assert_ok!(open_from(task, liar, &lies));
		run_to_block(dispute(task).phase_ends);
		assert!(!Disputes::<Test>::contains_key(task));
		assert_eq!(reserved(truthful), 0);
		assert_eq!(reserved(liar), 0);
		System::assert_has_event(
			pallet_inference::Event::TaskExpired { task, refunded: 2 * SHARE }.into(),
		);
		assert_eq!(Balances::free_balance(1), requester_before + 2 * SHARE);
	});
}

#[test]
fn an_item_no_jury_decides_costs_neither_root() {
	run_test(|| {
		// No verdict on the one item the roots differ on: it counts against neither, every
		// difference was judged, and both roots stay in the batch, paid in full at its end.
		let (a, b) = (outputs_lying_on(&[]), outputs_lying_on(&[0]));
		let (task, executors) = disagreeing([tree(&a).root(), tree(&b).root()]);
		let stakes = executors.map(stake);
		bisect(task, [(executors[0], &a), (executors[1], &b)]);
		judge(task, 0, None);
		close_after_count(task);
		assert_eq!(executors.map(stake), stakes, "nobody slashed without a verdict");
		assert_eq!(task_status(task), TaskStatus::Revealed);
		finalised_paying(task, tree(&a).root(), &[0, 0], 0);
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
fn a_root_reconciled_with_the_result_answers_for_it() {
	run_test(|| {
		// Both lie alike on item 3; `b` lies on item 1 as well, the one item they differ on.
		// Judged there, both stay, reconciled: `b` answers with the result for every other
		// item, a challenge of item 3 accuses both, and neither may challenge the other.
		let (a, b) = (outputs_lying_on(&[3]), outputs_lying_on(&[1, 3]));
		let (task, [winner, reconciled]) = disagreeing([tree(&a).root(), tree(&b).root()]);
		let stakes = [winner, reconciled].map(stake);
		bisect(task, [(winner, &a), (reconciled, &b)]);
		judge(task, 1, Some(hash(b"answer 1")));
		close_after_count(task);
		assert_eq!(task_status(task), TaskStatus::Revealed);
		assert!(reserved(reconciled) > 0, "still in the batch");

		// Item 1 was judged: no challenge judges it again.
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, 80),
			Error::<Test>::ItemAlreadyJudged
		);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(reconciled), task, 3, 80),
			Error::<Test>::OwnResult
		);
		// The item's bond: max(MIN_BOND, 2 × fee / N) = 80.
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 3, 80));
		assert_eq!(
			dispute(task).revealed.into_inner(),
			vec![(winner, tree(&a).root()), (reconciled, tree(&a).root())],
			"both accused of the result's output"
		);
		show_input(task, 3);
		// The reconciled executor may show the output itself, proved in its own tree (item 3's
		// path passes by item 1, where the trees differ, so no proof in the result's tree):
		// a duty of its, whoever else is silent.
		let proof = tree(&b).proof(3).unwrap();
		assert_ne!(proof, tree(&a).proof(3).unwrap());
		let call = Call::show_item_output { task, output: hash(b[3].as_bytes()), proof };
		assert!(matches!(Challenges::duty_of(&reconciled, &call), Some(Ok(_))));
		assert_ok!(sp_runtime::traits::Dispatchable::dispatch(
			RuntimeCall::from(call),
			RuntimeOrigin::signed(reconciled)
		));
		run_to_block(dispute(task).phase_ends);
		draw(task);
		vote_round(task, &[Some(hash(b"answer 3")); 3]);
		close_after_count(task);
		// Compensation: at most COMPENSATION_FEE_MULTIPLE × the item shares delivered, two.
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
		assert_eq!(compensated, 2 * ITEM_SHARE * u64::from(COMPENSATION_FEE_MULTIPLE));
		assert_eq!(WrongItems::<Test>::get(task, winner).into_inner(), vec![3]);
		assert_eq!(WrongItems::<Test>::get(task, reconciled).into_inner(), vec![1, 3]);
		assert_eq!(stake(winner), stakes[0] - item_slash());
		assert_eq!(stake(reconciled), stakes[1] - 2 * item_slash());
		finalised_paying(task, tree(&a).root(), &[1, 2], 3 * ITEM_SHARE);
	});
}

/// Two roots differ on an item one executor's endpoint refused and the other answered, and the
/// jury's endpoints refuse it too: the refusal counts against neither root. Both stay in the
/// batch, reconciled, the refusing root the result; the answering one loses that item's pay
/// alone, to the protocol account, not back to the requester (who may have planted the prompt
/// beside an executor of its own), and nobody is slashed.
#[test]
fn an_item_the_jury_refuses_costs_the_answering_root_that_items_pay_only() {
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
		judge(task, 3, Some(agentchain_execution::REFUSED_HASH));
		close_after_count(task);
		System::assert_has_event(
			Event::AnswerRefusedByJury { task, executor: executors[1] }.into(),
		);
		assert_eq!(executors.map(stake), stakes, "nobody slashed");
		assert!(reserved(executors[1]) > 0, "still in the batch");
		assert_eq!(task_status(task), TaskStatus::Revealed);
		finalised_paying(task, tree(&refusing).root(), &[0, 1], 0);
		assert_eq!(Balances::free_balance(1), requester);
		assert_eq!(
			pallet_inference::ProtocolFlows::<Test>::get(ProtocolFlow::UnjudgedFees).received,
			ITEM_SHARE
		);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
