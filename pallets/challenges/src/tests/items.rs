//! Disputes over one item of a batch: the item named (by a challenger, or drawn by the audit),
//! its input and the disputed root's output hash shown with their Merkle proofs, one item
//! judged, and the batch settled item by item (`docs/batches.md`).

use super::*;
use agentchain_execution::{batch, merkle::MerkleTree};
use pallet_inference::{TaskInput, TaskParams, VerificationMode, WrongItems};

/// Items of the test batches.
pub(crate) const ITEMS: u32 = 4;
/// Each executor's fee share (the fee of a batch with one executor).
pub(crate) const SHARE: u64 = 100;
/// An item's fee share: `SHARE / ITEMS`.
const ITEM_SHARE: u64 = SHARE / ITEMS as u64;
/// The challenge bond of an item: `max(MIN_BOND, ITEM_SHARE × BOND_FEE_MULTIPLE)`.
pub(crate) const ITEM_BOND: u64 = MIN_BOND;
/// What a root found wrong on a challenged item loses: `max(2 × 3 × JUROR_REWARD,
/// ITEM_SHARE × SLASH_FEE_MULTIPLE)`.
const ITEM_SLASH: u64 = 60;

/// The protocol's cut of a payment of `amount`.
pub(crate) fn cut(amount: u64) -> u64 {
	<<Test as pallet_inference::Config>::ProtocolCut as Get<Perbill>>::get().mul_floor(amount)
}

pub(crate) fn prompts() -> Vec<String> {
	prompts_of(ITEMS)
}

pub(crate) fn prompts_of(items: u32) -> Vec<String> {
	(0..items).map(|i| format!("prompt {i}")).collect()
}

/// The outputs of an executor that runs every item, but lies on `lie`.
pub(crate) fn outputs(lie: Option<u32>) -> Vec<String> {
	(0..ITEMS)
		.map(|i| if Some(i) == lie { "a cheap guess".into() } else { format!("answer {i}") })
		.collect()
}

pub(crate) fn tree(items: &[String]) -> MerkleTree {
	MerkleTree::new(&batch::item_hashes(items)).expect("items")
}

/// Submits a batch of `items` of [`prompts_of`] with `redundancy` executors, each paid
/// [`SHARE`]; returns it.
pub(crate) fn submit_batch(items: u32, redundancy: u32) -> TaskId {
	let id = pallet_inference::NextTaskId::<Test>::get();
	assert_ok!(Inference::submit_task(
		RuntimeOrigin::signed(1),
		model(),
		TaskInput::Batch {
			root: batch::root(&prompts_of(items)).unwrap(),
			uri: b"https://in.example/b.json".to_vec(),
			items,
			audit_commitment: H256(sp_io::hashing::blake2_256(AUDIT_SECRET.as_bytes())),
		},
		TaskParams {
			max_tokens: 2,
			temperature_milli: 0,
			seed: 1,
			mode: VerificationMode::ExactMatch
		},
		SHARE * u64::from(redundancy),
		redundancy,
		// Twice the blocks its items and tokens need (8 items, 8 tokens a block).
		u64::from(2 * (items.div_ceil(8) + (2 * items).div_ceil(8))),
	));
	id
}

/// A batch of [`prompts`] with one executor, revealed with the root of `outputs`; its window
/// open. Returns the task and its executor.
pub(crate) fn revealed_batch(outputs: &[String]) -> (TaskId, u64) {
	let id = submit_batch(outputs.len() as u32, 1);
	run_to_block(System::block_number() + 1);
	let executor = reveal_roots(id, &[tree(outputs).root()])[0];
	assert_eq!(task_status(id), TaskStatus::Revealed);
	(id, executor)
}

/// Has the executors of batch `id` commit to and reveal `roots` (one each, in the order they
/// were drawn), and compares them at the next block; returns the executors in that order.
pub(crate) fn reveal_roots(id: TaskId, roots: &[H256]) -> Vec<u64> {
	let executors = executors_of(id);
	assert_eq!(executors.len(), roots.len());
	let salt = [3u8; 32];
	for (executor, root) in executors.iter().zip(roots) {
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(*executor),
			id,
			pallet_inference::commitment_of(root, &salt, executor),
		));
	}
	for (executor, root) in executors.iter().zip(roots) {
		assert_ok!(Inference::reveal(
			RuntimeOrigin::signed(*executor),
			id,
			*root,
			salt,
			None,
			Some(b"https://out.example/o.json".to_vec()),
		));
	}
	// The results are compared at the next block.
	run_to_block(System::block_number() + 1);
	executors
}

/// The stake `who` reserves for its open work.
pub(crate) fn reserved(who: u64) -> u64 {
	pallet_agents::Registry::<Test>::get(who).expect("agent exists").collateral
}

/// Pauses (or resumes) every verifier of the mock (31 to 42): no jury can be drawn.
fn set_verifiers_paused(paused: bool) {
	for v in 31..=42u64 {
		let origin = RuntimeOrigin::signed(v);
		assert_ok!(if paused { Agents::pause(origin) } else { Agents::resume(origin) });
	}
}

/// Whether batch `task` was finalised (paid).
fn finalised(task: TaskId) -> bool {
	System::events().iter().any(|record| {
		matches!(
			record.event,
			RuntimeEvent::Inference(pallet_inference::Event::TaskFinalised { task: t, .. }) if t == task
		)
	})
}

/// Shows item `item`'s input (from [`prompts`]) and the root's output hash of it (from
/// `outputs`), each with its proof, signed by 3.
pub(crate) fn show(task: TaskId, item: u32, outputs: &[String]) {
	show_of(task, item, &prompts(), outputs);
}

/// Shows item `item` of a batch of `inputs` and the root's output hash of it from `outputs`,
/// each with its proof, signed by 3.
fn show_of(task: TaskId, item: u32, inputs: &[String], outputs: &[String]) {
	let proof = tree(inputs).proof(item).unwrap();
	assert_ok!(Challenges::show_item_input(
		RuntimeOrigin::signed(3),
		task,
		inputs[item as usize].clone().into_bytes(),
		proof,
	));
	let leaf = hash(outputs[item as usize].as_bytes());
	let proof = tree(outputs).proof(item).unwrap();
	assert_ok!(Challenges::show_item_output(RuntimeOrigin::signed(3), task, leaf, proof));
}

/// Runs to the end of the showing and draws the jury.
pub(crate) fn end_showing(task: TaskId) {
	assert_eq!(dispute(task).phase, DisputePhase::Showing);
	run_to_block(dispute(task).phase_ends);
	draw(task);
}

/// Runs a dispute to its close once its votes are counted (its appeal window passes).
pub(crate) fn close_after_count(task: TaskId) {
	assert_eq!(dispute(task).phase, DisputePhase::Appealable);
	run_to_block(dispute(task).phase_ends);
	assert!(!Disputes::<Test>::contains_key(task));
	assert!(!ItemDisputes::<Test>::contains_key(task));
}

/// Asserts that `task`, the batch of `outputs`, was finalised with its executor paid its share
/// less `unpaid` items, and the requester refunded them.
pub(crate) fn assert_finalised(task: TaskId, outputs: &[String], unpaid: u64) {
	let earned = SHARE - unpaid * ITEM_SHARE;
	let cut = cut(earned);
	assert_eq!(task_status(task), TaskStatus::Finalised);
	System::assert_has_event(
		pallet_inference::Event::TaskFinalised {
			task,
			output_hash: tree(outputs).root(),
			paid: earned - cut,
			protocol_cut: cut,
			refunded: SHARE - earned,
		}
		.into(),
	);
}

pub(crate) fn window_end(task: TaskId) -> u64 {
	pallet_inference::Tasks::<Test>::get(task).expect("task exists").phase_ends
}

/// The audit secret [`submit_batch`] commits to.
pub(crate) const AUDIT_SECRET: H256 = H256::repeat_byte(9);

/// Runs `task`, a batch, to its window's end, where its requester's audit secret is awaited,
/// reveals the secret and runs to the next block, where its audit is decided.
pub(crate) fn end_window(task: TaskId) {
	run_to_block(window_end(task));
	assert!(pallet_inference::AwaitedAuditSecrets::<Test>::contains_key(task));
	assert_ok!(Inference::reveal_audit_secret(RuntimeOrigin::signed(1), task, AUDIT_SECRET));
	run_to_block(System::block_number() + 1);
}

#[test]
fn a_lie_on_one_item_is_found_by_its_challenge_priced_as_that_item_and_the_rest_is_paid() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let lies = outputs(Some(2));
		let (task, executor) = revealed_batch(&lies);
		let window_left = window_end(task) - System::block_number();
		let (stake_before, requester_before) = (stake(executor), Balances::free_balance(1));

		let challenged_at = System::block_number();
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 2, ITEM_BOND));
		System::assert_has_event(
			Event::ItemDisputeOpened {
				task,
				item: 2,
				show_deadline: System::block_number() + ITEM_PROOF_PERIOD,
			}
			.into(),
		);
		show(task, 2, &lies);
		end_showing(task);
		// The jury judges the item's output hash: the leaf, not the root.
		let truth = hash(b"answer 2");
		assert_eq!(dispute(task).result, Some(hash(b"a cheap guess")));
		vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
		close_after_count(task);

		// The item's price: the item slash, the challenger's bond back with its share, the
		// requester compensated up to the item's share.
		assert_eq!(stake(executor), stake_before - ITEM_SLASH);
		assert_eq!(bond_held(2), 0);
		System::assert_has_event(
			Event::RewardPaid { task, who: 2, amount: challenger_reward(ITEM_SLASH, 3) }.into(),
		);
		// Compensation comes after the jurors and the challenger, out of what the slash left.
		let compensation = (ITEM_SLASH - 3 * JUROR_REWARD - challenger_reward(ITEM_SLASH, 3))
			.min(ITEM_SHARE * u64::from(COMPENSATION_FEE_MULTIPLE));
		System::assert_has_event(
			Event::RequesterCompensated { task, requester: 1, amount: compensation }.into(),
		);
		// The batch is back in its window, for the blocks it had left: the rest of its items
		// are still open to challenges and its audit.
		assert_eq!(task_status(task), TaskStatus::Revealed);
		assert_eq!(window_end(task), System::block_number() + window_left);
		// Its audit is still drawn from the block before the window's original end: pausing
		// the window does not draw it again from another block.
		let original_end = challenged_at + window_left;
		assert_eq!(pallet_inference::AuditSeedBlocks::<Test>::get(task), Some(original_end - 1));
		assert_eq!(WrongItems::<Test>::get(task, executor).into_inner(), vec![2]);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(3), task, 2, ITEM_BOND),
			Error::<Test>::ItemAlreadyJudged
		);

		// At the window's end the executor is paid its share less the item found wrong; the
		// requester refunded that item.
		end_window(task);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_finalised(task, &lies, 1);
		assert_eq!(
			Balances::free_balance(1),
			requester_before + ITEM_SHARE + compensation,
			"refunded the item and compensated for it"
		);
		assert_eq!(Balances::total_issuance(), issuance, "no funds created or destroyed");
	});
}

#[test]
fn a_challenge_of_a_right_item_loses_its_bond_and_the_batch_is_paid_in_full() {
	run_test(|| {
		let honest = outputs(None);
		let (task, executor) = revealed_batch(&honest);
		let stake_before = stake(executor);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, ITEM_BOND));
		show(task, 1, &honest);
		end_showing(task);
		let truth = hash(b"answer 1");
		vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
		close_after_count(task);
		assert_eq!(stake(executor), stake_before);
		System::assert_has_event(Event::BondForfeited { task, who: 2, amount: ITEM_BOND }.into());
		assert_eq!(task_status(task), TaskStatus::Revealed);
		assert!(WrongItems::<Test>::get(task, executor).is_empty());
		end_window(task);
		assert_finalised(task, &honest, 0);
	});
}

#[test]
fn an_item_not_shown_finds_the_root_wrong_on_it_without_a_jury() {
	run_test(|| {
		// The output hash is shown, the input is not: nobody can judge the item, and the root's
		// executors, who checked the inputs document against its root, could have shown it.
		let honest = outputs(None);
		let (task, executor) = revealed_batch(&honest);
		let stake_before = stake(executor);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 0, ITEM_BOND));
		let proof = tree(&honest).proof(0).unwrap();
		assert_ok!(Challenges::show_item_output(
			RuntimeOrigin::signed(executor),
			task,
			hash(b"answer 0"),
			proof
		));
		run_to_block(dispute(task).phase_ends);
		assert!(!Disputes::<Test>::contains_key(task), "closed without a jury");
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: Some(ITEM_NOT_SHOWN), result_overturned: true }
				.into(),
		);
		assert_eq!(stake(executor), stake_before - ITEM_SLASH);
		assert_eq!(bond_held(2), 0);
		assert_eq!(WrongItems::<Test>::get(task, executor).into_inner(), vec![0]);
		assert_eq!(task_status(task), TaskStatus::Revealed);
	});
}

#[test]
fn showing_an_item_is_a_duty_of_the_disputes_executors_only() {
	use agentchain_primitives::duties::DutyError;
	use frame_support::dispatch::{DispatchClass, GetDispatchInfo, Pays};
	run_test(|| {
		let honest = outputs(None);
		let (task, executor) = revealed_batch(&honest);
		let inputs = prompts();
		let show_input = |item: usize, proved: u32| Call::<Test>::show_item_input {
			task,
			input: inputs[item].clone().into_bytes(),
			proof: tree(&inputs).proof(proved).unwrap(),
		};
		let show_output = |output: &str, proved: u32| Call::<Test>::show_item_output {
			task,
			output: hash(output.as_bytes()),
			proof: tree(&honest).proof(proved).unwrap(),
		};
		// Nothing to show: refused before the pool, whoever sends it.
		for signer in [executor, 3] {
			assert_eq!(
				Challenges::duty_of(&signer, &show_input(1, 1)),
				Some(Err(DutyError::NotAssigned))
			);
		}
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, ITEM_BOND));
		// Both showings fit in the part of the block ordinary transactions cannot fill.
		for call in [show_input(1, 1), show_output("answer 1", 1)] {
			assert_eq!(call.get_dispatch_info().class, DispatchClass::Operational);
		}
		// The requester, the challenger, a watcher and a verifier may show, as ordinary traffic:
		// the lane is the dispute's executors' only. What the call would reject is refused
		// whoever sends it: the operational class is no way past ordinary traffic.
		for outsider in [1, 2, 3, 31] {
			assert_eq!(Challenges::duty_of(&outsider, &show_input(1, 1)), None);
			assert_eq!(Challenges::duty_of(&outsider, &show_output("answer 1", 1)), None);
			assert_eq!(
				Challenges::duty_of(&outsider, &show_input(2, 2)),
				Some(Err(DutyError::Invalid))
			);
		}
		// The executor's showing, by its owner account or its operator key: one duty of each
		// part, until the showing's last block.
		let input_duty = Challenges::duty_of(&executor, &show_input(1, 1)).unwrap().unwrap();
		assert_eq!(input_duty.last_block, dispute(task).phase_ends - 1);
		let output_duty =
			Challenges::duty_of(&executor, &show_output("answer 1", 1)).unwrap().unwrap();
		assert_ne!(input_duty.tag, output_duty.tag);
		let operator = executor + 10;
		if executor != 11 {
			assert_ok!(Agents::set_operator(RuntimeOrigin::signed(executor), operator));
			assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(operator), executor));
		}
		assert_eq!(Challenges::duty_of(&operator, &show_input(1, 1)), Some(Ok(input_duty.clone())));
		// What the call would reject is refused before the pool: another item's input, the
		// item's input under another item's proof, bytes longer than an item may be, another
		// output hash, the hash reserved for an item nobody showed, a proof too long.
		for forged in [
			show_input(2, 2),
			show_input(1, 0),
			Call::<Test>::show_item_input { task, input: vec![b'x'; 65], proof: vec![] },
			show_output("answer 2", 1),
			Call::<Test>::show_item_output {
				task,
				output: ITEM_NOT_SHOWN,
				proof: tree(&honest).proof(1).unwrap(),
			},
			Call::<Test>::show_item_output {
				task,
				output: hash(b"answer 1"),
				proof: vec![H256::zero(); MAX_PROOF_LEN as usize + 1],
			},
		] {
			assert_eq!(Challenges::duty_of(&executor, &forged), Some(Err(DutyError::Invalid)));
		}
		// A valid showing pays no fee, whoever sends it; shown, it is done.
		let post = Challenges::show_item_input(
			RuntimeOrigin::signed(3),
			task,
			inputs[1].clone().into_bytes(),
			tree(&inputs).proof(1).unwrap(),
		)
		.unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		let post = Challenges::show_item_output(
			RuntimeOrigin::signed(executor),
			task,
			hash(b"answer 1"),
			tree(&honest).proof(1).unwrap(),
		)
		.unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(
			Challenges::duty_of(&executor, &show_input(1, 1)),
			Some(Err(DutyError::AlreadyDone))
		);
		assert_eq!(
			Challenges::duty_of(&executor, &show_output("answer 1", 1)),
			Some(Err(DutyError::AlreadyDone))
		);
		assert_eq!(Challenges::duty_of(&3, &show_input(1, 1)), Some(Err(DutyError::AlreadyDone)));
		// Judged: the item is no longer showing.
		end_showing(task);
		assert_eq!(
			Challenges::duty_of(&executor, &show_input(1, 1)),
			Some(Err(DutyError::WrongPhase))
		);
		let (other, other_executor) = revealed_batch(&honest);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), other, 2, ITEM_BOND));
		// At the showing's deadline, before the hook ends it: too late.
		System::set_block_number(dispute(other).phase_ends);
		let late = Call::<Test>::show_item_input {
			task: other,
			input: inputs[2].clone().into_bytes(),
			proof: tree(&inputs).proof(2).unwrap(),
		};
		assert_eq!(
			Challenges::duty_of(&other_executor, &late),
			Some(Err(DutyError::DeadlinePassed))
		);
	});
}

#[test]
fn showings_are_checked_against_the_roots_item_and_proof() {
	run_test(|| {
		let honest = outputs(None);
		let (task, _) = revealed_batch(&honest);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, ITEM_BOND));
		let inputs = prompts();
		let input = |i: usize| inputs[i].clone().into_bytes();
		let input_proof = |i: u32| tree(&inputs).proof(i).unwrap();
		let output_proof = |i: u32| tree(&honest).proof(i).unwrap();
		// Another item's input with its own (valid) proof: the wrong index.
		assert_noop!(
			Challenges::show_item_input(RuntimeOrigin::signed(3), task, input(2), input_proof(2)),
			Error::<Test>::InvalidProof
		);
		// The item's input with another item's proof.
		assert_noop!(
			Challenges::show_item_input(RuntimeOrigin::signed(3), task, input(1), input_proof(0)),
			Error::<Test>::InvalidProof
		);
		// Other bytes under the item's proof.
		assert_noop!(
			Challenges::show_item_input(
				RuntimeOrigin::signed(3),
				task,
				b"another prompt".to_vec(),
				input_proof(1)
			),
			Error::<Test>::InvalidProof
		);
		// An output hash proved against the inputs root: the wrong root.
		assert_noop!(
			Challenges::show_item_output(
				RuntimeOrigin::signed(3),
				task,
				hash(b"prompt 1"),
				input_proof(1)
			),
			Error::<Test>::InvalidProof
		);
		// A proof with one hash too many or too few.
		let mut long = output_proof(1);
		long.push(H256::zero());
		assert_noop!(
			Challenges::show_item_output(RuntimeOrigin::signed(3), task, hash(b"answer 1"), long),
			Error::<Test>::InvalidProof
		);
		let mut short = output_proof(1);
		short.pop();
		assert_noop!(
			Challenges::show_item_output(RuntimeOrigin::signed(3), task, hash(b"answer 1"), short),
			Error::<Test>::InvalidProof
		);
		// Longer than any item may be.
		assert_noop!(
			Challenges::show_item_input(RuntimeOrigin::signed(3), task, vec![b'x'; 65], vec![]),
			Error::<Test>::ItemTooLong
		);
		// The right ones, once each.
		assert_ok!(Challenges::show_item_input(
			RuntimeOrigin::signed(3),
			task,
			input(1),
			input_proof(1)
		));
		assert_noop!(
			Challenges::show_item_input(RuntimeOrigin::signed(3), task, input(1), input_proof(1)),
			Error::<Test>::AlreadyShown
		);
		assert_ok!(Challenges::show_item_output(
			RuntimeOrigin::signed(3),
			task,
			hash(b"answer 1"),
			output_proof(1)
		));
		// Not after the showing.
		run_to_block(dispute(task).phase_ends);
		assert_noop!(
			Challenges::show_item_output(
				RuntimeOrigin::signed(3),
				task,
				hash(b"answer 1"),
				output_proof(1)
			),
			Error::<Test>::WrongPhase
		);
		assert_eq!(dispute(task).phase, DisputePhase::Drawing);
	});
}

#[test]
fn a_batch_is_challenged_by_item_and_only_within_its_bounds() {
	run_test(|| {
		let (task, executor) = revealed_batch(&outputs(None));
		let plain = revealed_task(1, model(), &[b"5"]);
		assert_noop!(
			Challenges::challenge(RuntimeOrigin::signed(2), task, BOND),
			Error::<Test>::BatchNeedsItem
		);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), plain, 0, BOND),
			Error::<Test>::NotABatch
		);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), task, ITEMS, ITEM_BOND),
			Error::<Test>::ItemOutOfRange
		);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), task, 0, ITEM_BOND - 1),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(executor), task, 0, ITEM_BOND),
			Error::<Test>::OwnResult
		);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 0, ITEM_BOND));
		// One item dispute at a time.
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(3), task, 1, ITEM_BOND),
			Error::<Test>::NotChallengeable
		);
	});
}

#[test]
fn a_root_found_wrong_on_as_many_items_as_its_collateral_covers_takes_no_more_challenges() {
	run_test(|| {
		// A batch of 16 items, whose collateral covers 15 item slashes.
		for executor in 11..=13 {
			assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(executor), 1_000));
		}
		let honest: Vec<String> = (0..16).map(|i| format!("answer {i}")).collect();
		let (task, executor) = revealed_batch(&honest);
		let found: Vec<u32> = (0..MAX_ITEMS_FOUND_WRONG).collect();
		WrongItems::<Test>::insert(task, executor, BoundedVec::truncate_from(found));
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), task, 15, MIN_BOND),
			Error::<Test>::ItemDisputesExhausted
		);
	});
}

#[test]
fn an_unjudged_item_dispute_finds_nothing_and_never_finalises_the_batch() {
	run_test(|| {
		// The jury reaches no majority: the batch goes back to its window, nothing found wrong,
		// the challenger pays the jurors who voted from its bond.
		let lies = outputs(Some(3));
		let (task, executor) = revealed_batch(&lies);
		let stake_before = stake(executor);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 3, ITEM_BOND));
		show(task, 3, &lies);
		end_showing(task);
		vote_round(task, &[Some(hash(b"answer 3")), None, None]);
		close_after_count(task);
		// The bond pays every seat of the round held; the rest is returned.
		System::assert_has_event(
			Event::BondReturned { task, who: 2, amount: ITEM_BOND - 3 * JUROR_REWARD }.into(),
		);
		assert_eq!(stake(executor), stake_before);
		assert_eq!(task_status(task), TaskStatus::Revealed);
		assert!(WrongItems::<Test>::get(task, executor).is_empty());
		// The item can be challenged again.
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(3), task, 3, ITEM_BOND));
	});
}

/// Audits every result; runs batch `outputs` to its window's end, shows the drawn item, and
/// has the jury vote the item's true output. Returns the task, its executor and its stake
/// before.
fn audited(outputs: &[String]) -> (TaskId, u64, u64) {
	AuditProbability::set(Perbill::one());
	let (task, executor) = revealed_batch(outputs);
	let stake_before = stake(executor);
	end_window(task);
	let item = ItemDisputes::<Test>::get(task).expect("the batch is audited").item;
	assert_eq!(dispute(task).kind, DisputeKind::Audit);
	show(task, item, outputs);
	end_showing(task);
	let truth = hash(format!("answer {item}").as_bytes());
	vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
	close_after_count(task);
	(task, executor, stake_before)
}

#[test]
fn the_audit_of_a_batch_finding_its_drawn_item_wrong_costs_the_whole_batch() {
	run_test(|| {
		// Wrong on every item: whichever the audit draws, the root is found wrong on it, and
		// the whole batch is at stake (nobody chose the item).
		let guesses: Vec<String> = (0..ITEMS).map(|i| format!("guess {i}")).collect();
		let (task, executor, stake_before) = audited(&guesses);
		assert_eq!(stake(executor), stake_before - Challenges::wrong_result_slash(SHARE));
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_finalised(task, &guesses, u64::from(ITEMS));
	});
}

/// A requester that withholds its audit secret gets an audit whatever the draw (here the
/// probability is zero), on an item nobody knew when it chose to withhold, and pays the jury's
/// deposit to the protocol account; when the audit finds the root wrong, the executor loses the
/// whole batch as in any audit, the requester is refunded, and compensated nothing: withholding
/// buys an audit at the requester's cost, never a payout.
#[test]
fn a_withheld_audit_secret_is_audited_whatever_the_draw_and_compensates_nobody() {
	run_test(|| {
		let guesses: Vec<String> = (0..ITEMS).map(|i| format!("guess {i}")).collect();
		let (task, executor) = revealed_batch(&guesses);
		let stake_before = stake(executor);
		let deposit = pallet_inference::Tasks::<Test>::get(task).unwrap().deposit;
		run_to_block(window_end(task));
		// The requester stays silent; at the wait's end the batch is audited.
		run_to_block(window_end(task));
		let jury_deposit = <Challenges as DisputeHandler<u64, u64>>::batch_terms().jury_deposit;
		System::assert_has_event(
			pallet_inference::Event::AuditSecretWithheld { task, forfeited: jury_deposit }.into(),
		);
		assert_eq!(
			pallet_inference::Tasks::<Test>::get(task).unwrap().deposit,
			deposit - jury_deposit
		);
		assert_eq!(
			ProtocolFlows::<Test>::get(ProtocolFlow::WithheldAuditSecrets).received,
			jury_deposit
		);
		let item = ItemDisputes::<Test>::get(task).expect("the batch is audited").item;
		assert_eq!(dispute(task).kind, DisputeKind::Audit);
		assert!(UncompensatedAudits::<Test>::contains_key(task));
		show(task, item, &guesses);
		end_showing(task);
		let truth = hash(format!("answer {item}").as_bytes());
		vote_round(task, &[Some(truth); 3]);
		close_after_count(task);
		assert!(!UncompensatedAudits::<Test>::contains_key(task));
		assert_eq!(stake(executor), stake_before - Challenges::wrong_result_slash(SHARE));
		assert_finalised(task, &guesses, u64::from(ITEMS));
		assert!(
			!System::events().iter().any(|record| matches!(
				record.event,
				RuntimeEvent::Challenges(Event::RequesterCompensated { .. })
			)),
			"the requester that withheld its secret is not compensated"
		);
	});
}

/// The attack the requester's secret stops: an executor that lied, with the author of the block
/// before the window's end, picks among 16 versions of that block the one whose hash does not
/// draw the audit. Seeded by the block's hash alone (as before runtime spec 132), that escapes
/// the audit every time; mixed with the requester's secret, which nobody else knows until the
/// window has ended, the pick tells them nothing, and the batches are audited at the rate set
/// (5 %, within the bounds 2,000 draws hold 999 times in 1,000).
#[test]
fn a_colluding_author_cannot_steer_a_batchs_audit() {
	run_test(|| {
		AuditProbability::set(Perbill::from_percent(5));
		let mut audited = 0;
		for batch in 0..2_000u32 {
			let secret = H256(sp_io::hashing::blake2_256(&(b"secret", batch).encode()));
			// The versions of the block the author could seal, and the one it picks: the
			// first whose hash alone would not draw the audit.
			let picked = (0..16u32)
				.map(|version| sp_io::hashing::blake2_256(&(batch, version).encode()))
				.find(|block_seed| !Challenges::audit_drawn(Some(*block_seed)))
				.expect("one of 16 versions escapes");
			let seed = pallet_inference::Pallet::<Test>::batch_audit_seed_of(secret, picked);
			if Challenges::audit_drawn(Some(seed)) {
				audited += 1;
			}
		}
		assert!((68..=132).contains(&audited), "{audited} of 2,000 audited");
	});
}

#[test]
fn the_audit_of_a_batch_finding_its_drawn_item_right_pays_the_batch_at_once() {
	run_test(|| {
		let honest = outputs(None);
		let (task, executor, stake_before) = audited(&honest);
		assert_eq!(stake(executor), stake_before);
		// The window was over: the batch is finalised, not sent back to it.
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_finalised(task, &honest, 0);
	});
}

#[test]
fn the_audit_item_is_spread_over_the_batch() {
	let mut seen = [0u32; ITEMS as usize];
	for i in 0..400u32 {
		let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
		seen[Challenges::audit_item(seed, ITEMS, &[]).unwrap() as usize] += 1;
	}
	assert!(seen.iter().all(|&count| count > 60), "{seen:?}");
	assert_eq!(Challenges::audit_item([7; 32], 1, &[]), Some(0));
	// Items a disagreement judged are never drawn; the others as evenly as before.
	let mut seen = [0u32; 5];
	for i in 0..2_000u32 {
		let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
		seen[Challenges::audit_item(seed, 5, &[3, 1]).unwrap() as usize] += 1;
	}
	assert_eq!((seen[1], seen[3]), (0, 0));
	assert!([0, 2, 4].iter().all(|i| seen[*i] > 500), "{seen:?}");
	assert_eq!(Challenges::audit_item([7; 32], 3, &[0, 1, 2]), None, "every item judged");
}

#[test]
fn each_item_found_wrong_takes_its_slash_out_of_the_batchs_collateral() {
	run_test(|| {
		// Lies on items 1 and 2, each found by its own challenge: two item slashes, the
		// collateral the executor reserved for the batch lowered by each (the registry's
		// invariants, checked after the test, hold: no reservation above the stake left).
		let lies: Vec<String> = (0..ITEMS)
			.map(|i| if i == 1 || i == 2 { "a cheap guess".into() } else { format!("answer {i}") })
			.collect();
		let (task, executor) = revealed_batch(&lies);
		let stake_before = stake(executor);
		let reserved_before = reserved(executor);
		for item in [1, 2] {
			assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, item, ITEM_BOND));
			show(task, item, &lies);
			end_showing(task);
			let truth = hash(format!("answer {item}").as_bytes());
			vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
			close_after_count(task);
			Agents::do_try_state().expect("the registry's invariants hold");
		}
		assert_eq!(stake(executor), stake_before - 2 * ITEM_SLASH);
		assert_eq!(reserved(executor), reserved_before - 2 * ITEM_SLASH);
		assert_eq!(WrongItems::<Test>::get(task, executor).into_inner(), vec![1, 2]);
		end_window(task);
		assert_finalised(task, &lies, 2);
		assert_eq!(reserved(executor), 0, "released at the end");
	});
}

/// An item slash lowers what the batch reserves of every executor still in it, the one that
/// answered that the input was unavailable included: each releases the same amount at the end.
/// Before, only the accused executor's reservation was lowered, and the other released the
/// lowered amount at the settlement, keeping an item slash reserved with no open work (its
/// stake held until it deregistered; the registry's invariant broken).
#[test]
fn an_item_slash_lowers_the_reservation_of_an_executor_that_found_the_input_unavailable_too() {
	run_test(|| {
		let lies = outputs(Some(1));
		let task = submit_batch(ITEMS, 2);
		run_to_block(System::block_number() + 1);
		let executors =
			reveal_roots(task, &[tree(&lies).root(), agentchain_execution::INPUT_UNAVAILABLE]);
		let (liar, unavailable) = (executors[0], executors[1]);
		assert_eq!(task_status(task), TaskStatus::Revealed);
		let stake_before = stake(liar);
		assert_eq!(reserved(liar), reserved(unavailable));
		let bond = Challenges::base_bond(2 * SHARE);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, bond));
		show(task, 1, &lies);
		end_showing(task);
		let truth = hash(b"answer 1");
		vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
		close_after_count(task);
		assert_eq!(stake(liar), stake_before - ITEM_SLASH);
		assert_eq!(reserved(liar), reserved(unavailable), "both reserve what the batch holds");
		Agents::do_try_state().expect("the registry's invariants hold");
		end_window(task);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!((reserved(liar), reserved(unavailable)), (0, 0), "both released at the end");
	});
}

#[test]
fn an_item_disputes_jury_that_cannot_be_drawn_is_drawn_again_later() {
	run_test(|| {
		// The verifiers pause once the item is shown (say, the executor's own): the item is
		// not left unjudged, which would pay the batch in full or return the bond.
		let lies = outputs(Some(1));
		let (task, executor) = revealed_batch(&lies);
		let stake_before = stake(executor);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, ITEM_BOND));
		show(task, 1, &lies);
		set_verifiers_paused(true);
		run_to_block(dispute(task).phase_ends);
		run_to_block(System::block_number() + 1);
		System::assert_has_event(Event::JuryNotDrawn { task, round: 0 }.into());
		assert_eq!(dispute(task).phase, DisputePhase::Drawing);
		assert_eq!(dispute(task).phase_ends, System::block_number() + COMMIT_PERIOD);
		assert_eq!(bond_held(2), ITEM_BOND);
		set_verifiers_paused(false);
		run_to_block(dispute(task).phase_ends);
		assert_eq!(dispute(task).phase, DisputePhase::Committing);
		let truth = hash(b"answer 1");
		vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
		close_after_count(task);
		assert_eq!(stake(executor), stake_before - ITEM_SLASH);
	});
}

#[test]
fn an_item_dispute_no_jury_is_drawn_for_ends_the_batch_unjudged_and_nobody_gains() {
	run_test(|| {
		// The executor keeps the verifiers it controls (here every verifier of the model) paused
		// so that its lie is never judged. The dispute does not wait forever with the fee, the
		// executor's collateral and the bond locked: JURY_WAIT_LIMIT blocks after the first draw
		// that failed, the batch ends unjudged. Nobody gains by it: the root is not paid, the
		// fee goes to the protocol account, not back to the requester (who could starve the jury
		// of its own batch), and the challenger's bond too (a challenger starving the jury of an
		// honest batch pays for it). Nobody is slashed: nobody was found wrong.
		let lies = outputs(Some(1));
		let (task, executor) = revealed_batch(&lies);
		let stake_before = stake(executor);
		let requester_before = Balances::balance(&1);
		let challenger_before = Balances::balance(&2);
		let protocol_before = protocol_balance();
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 1, ITEM_BOND));
		show(task, 1, &lies);
		set_verifiers_paused(true);
		run_to_block(dispute(task).phase_ends);
		run_to_block(System::block_number() + 1);
		System::assert_has_event(Event::JuryNotDrawn { task, round: 0 }.into());
		let first_missed = System::block_number();
		assert_eq!(JuryWaitingSince::<Test>::get(task), Some(first_missed));
		// Drawn again every COMMIT_PERIOD blocks, the wait counted from the first miss.
		let mut draws = 1;
		while Disputes::<Test>::contains_key(task) {
			assert_eq!(dispute(task).phase, DisputePhase::Drawing);
			assert_eq!(JuryWaitingSince::<Test>::get(task), Some(first_missed));
			run_to_block(dispute(task).phase_ends);
			draws += 1;
			assert!(draws <= 1 + JURY_WAIT_LIMIT / COMMIT_PERIOD, "drawn again past the limit");
		}
		let ended = System::block_number();
		assert!(ended >= first_missed + JURY_WAIT_LIMIT, "ended before the limit");
		assert!(ended < first_missed + JURY_WAIT_LIMIT + COMMIT_PERIOD, "waited past the limit");
		assert!(!ItemDisputes::<Test>::contains_key(task));
		assert!(!JuryWaitingSince::<Test>::contains_key(task));
		System::assert_has_event(
			Event::DisputeClosed { task, verdict: None, result_overturned: false }.into(),
		);

		// Nobody slashed, the executor released unpaid, the bond forfeited.
		assert_eq!(stake(executor), stake_before);
		assert_eq!(reserved(executor), 0);
		assert_eq!(bond_held(2), 0);
		System::assert_has_event(Event::BondForfeited { task, who: 2, amount: ITEM_BOND }.into());
		assert_eq!(Balances::balance(&2), challenger_before - ITEM_BOND);
		// The fee to the protocol account: the requester is not refunded.
		assert_eq!(task_status(task), TaskStatus::Expired);
		System::assert_has_event(
			pallet_inference::Event::TaskUnjudged { task, forfeited: SHARE }.into(),
		);
		assert_eq!(
			ProtocolFlows::<Test>::get(
				agentchain_primitives::inference::ProtocolFlow::UnjudgedFees
			)
			.received,
			SHARE
		);
		assert_eq!(protocol_balance(), protocol_before + SHARE + ITEM_BOND);
		assert_eq!(Balances::balance(&1), requester_before, "the requester got nothing back");
		assert!(pallet_inference::WrongItems::<Test>::get(task, executor).is_empty());
		assert!(!finalised(task));
	});
}

#[test]
fn verifiers_paused_at_a_batchs_window_end_cannot_skip_its_audit() {
	run_test(|| {
		// The executor lied and keeps the verifiers paused for the block its window ends in,
		// hoping that the audit, finding no jury, is skipped and the batch paid. The audit opens
		// anyway; its jury is waited for, and never coming, the batch ends unjudged: unpaid.
		AuditProbability::set(Perbill::one());
		let guesses: Vec<String> = (0..ITEMS).map(|i| format!("guess {i}")).collect();
		let (task, executor) = revealed_batch(&guesses);
		set_verifiers_paused(true);
		end_window(task);
		assert_eq!(dispute(task).kind, DisputeKind::Audit);
		assert_eq!(task_status(task), TaskStatus::Disputed);
		let item = ItemDisputes::<Test>::get(task).expect("the audit's item").item;
		show(task, item, &guesses);
		run_to_block(dispute(task).phase_ends + 1);
		System::assert_has_event(Event::JuryNotDrawn { task, round: 0 }.into());
		while Disputes::<Test>::contains_key(task) {
			run_to_block(dispute(task).phase_ends);
		}
		assert_eq!(task_status(task), TaskStatus::Expired);
		System::assert_has_event(
			pallet_inference::Event::TaskUnjudged { task, forfeited: SHARE }.into(),
		);
		assert!(!finalised(task));
		assert_eq!(reserved(executor), 0);
	});
}

#[test]
fn an_item_is_challenged_while_no_jury_is_available_and_judged_once_one_is() {
	run_test(|| {
		// With the verifiers paused, the challenge of an item is still taken (a batch's item
		// waits for its jury): an executor cannot make its window unchallengeable so.
		let lies = outputs(Some(2));
		let (task, executor) = revealed_batch(&lies);
		let stake_before = stake(executor);
		set_verifiers_paused(true);
		assert_ok!(Challenges::challenge_item(RuntimeOrigin::signed(2), task, 2, ITEM_BOND));
		show(task, 2, &lies);
		set_verifiers_paused(false);
		end_showing(task);
		let truth = hash(b"answer 2");
		vote_round(task, &[Some(truth), Some(truth), Some(truth)]);
		close_after_count(task);
		assert_eq!(stake(executor), stake_before - ITEM_SLASH);
	});
}

/// Every slash one root can owe is reserved (`docs/batches.md`, problem 1): a root that lies on
/// every item of a batch of 16 loses the 15 item disputes the batch allows, the requester's four
/// and eleven by others, and then its audit. It loses at most the collateral it reserved for the
/// batch, the registry's invariants hold after every slash (no reservation above the stake
/// left), and nothing is reserved once the batch is settled.
#[test]
fn a_root_is_never_slashed_past_its_collateral() {
	run_test(|| {
		for executor in 11..=13 {
			assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(executor), 1_000));
		}
		AuditProbability::set(Perbill::one());
		let inputs = prompts_of(16);
		let lies: Vec<String> = (0..16).map(|i| format!("a cheap guess {i}")).collect();
		let (task, executor) = revealed_batch(&lies);
		let stake_before = stake(executor);
		let collateral = pallet_inference::Tasks::<Test>::get(task).unwrap().collateral;
		assert_eq!(reserved(executor), collateral, "the batch is its only open work");
		let judge = |item: u32| {
			show_of(task, item, &inputs, &lies);
			end_showing(task);
			let truth = hash(format!("answer {item}").as_bytes());
			vote_round(task, &[Some(truth); 3]);
			close_after_count(task);
			Agents::do_try_state().expect("the registry's invariants hold");
			assert!(stake_before - stake(executor) <= collateral, "slashed past its collateral");
		};
		for item in 0..15u32 {
			let challenger = if item < 4 { 1 } else { 2 + u64::from(item % 2) };
			assert_ok!(Challenges::challenge_item(
				RuntimeOrigin::signed(challenger),
				task,
				item,
				ITEM_BOND
			));
			judge(item);
		}
		assert_eq!(stake(executor), stake_before - 15 * ITEM_SLASH);
		assert_noop!(
			Challenges::challenge_item(RuntimeOrigin::signed(2), task, 15, ITEM_BOND),
			Error::<Test>::ItemDisputesExhausted
		);
		// The audit, at the window's end, whichever item it draws.
		end_window(task);
		let item = ItemDisputes::<Test>::get(task).expect("the batch is audited").item;
		judge(item);
		assert_eq!(task_status(task), TaskStatus::Finalised);
		assert_eq!(reserved(executor), 0, "released at the end");
		assert!(stake(executor) < stake_before - 15 * ITEM_SLASH, "the audit slashed it too");
	});
}
