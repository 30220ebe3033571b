//! Benchmarks of the challenges pallet, each at its worst case.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate as _;
use frame_system::RawOrigin;

const SEED: u32 = 0;

fn model() -> ModelId {
	ModelId::repeat_byte(0x43)
}

/// The output the benchmark executors reveal.
fn output() -> Vec<u8> {
	b"the result".to_vec()
}

fn result() -> H256 {
	H256(sp_io::hashing::blake2_256(&output()))
}

fn salt() -> [u8; 32] {
	[7u8; 32]
}

/// Fills the model's verifier candidate set: enough active verifiers for every jury of a dispute,
/// registered after ones staked 1,000 times more, slashed a unit and with all their stake held
/// for open work, in the other seats: a jury draw lands on these, is rejected, ends with a scan
/// of every record and writes the set with their seats corrected, its most expensive path, and
/// a check of the set reads every record; returns the active verifiers.
fn verifiers<T: Config>() -> Vec<T::AccountId> {
	let live = MaxJurorsPerDispute::<T>::get();
	for i in live..T::AgentRegistry::max_candidates() {
		let who: T::AccountId = account("verifier", i, SEED);
		T::AgentRegistry::register_locked_heavyweight_for_benchmark(&who, model(), Role::Verifier);
	}
	(0..live)
		.map(|i| {
			let who: T::AccountId = account("verifier", i, SEED);
			T::AgentRegistry::register_for_benchmark(&who, model(), Role::Verifier);
			who
		})
		.collect()
}

/// Registers `n` executors.
fn executors<T: Config>(n: u32) {
	for i in 0..n {
		let who: T::AccountId = account("executor", i, SEED);
		T::AgentRegistry::register_for_benchmark(&who, model(), Role::Executor);
	}
}

/// A bond above any the benchmarks need (a tenth of a funded account's balance).
fn bond<T: Config>() -> BalanceOf<T> {
	T::MinChallengeBond::get().saturating_mul(100_000u32.into())
}

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, SEED);
	T::Currency::set_balance(&who, T::MinChallengeBond::get().saturating_mul(1_000_000u32.into()));
	who
}

/// A task revealed by `executors` executors, all with [`result`].
fn revealed<T: Config>(executors: u32) -> TaskId {
	self::executors::<T>(executors);
	let requester = funded::<T>("requester");
	let outputs = vec![output(); executors as usize];
	T::Tasks::revealed_task_for_benchmark(&requester, model(), &outputs)
}

/// Processes the current phase's deadline of `task` now, as the hook would at its block.
fn process<T: Config>(task: TaskId) {
	let dispute = Disputes::<T>::get(task).expect("dispute is open");
	let block = dispute.phase_ends;
	Queue::<T>::unschedule(&task, block);
	frame_system::Pallet::<T>::set_block_number(block);
	Pallet::<T>::process_deadline(task, block);
}

/// A challenged task with its first jury drawn, and its challenger.
fn challenged<T: Config>(executors: u32) -> (TaskId, T::AccountId) {
	let task = revealed::<T>(executors);
	let challenger = funded::<T>("challenger");
	Pallet::<T>::challenge(RawOrigin::Signed(challenger.clone()).into(), task, bond::<T>())
		.expect("the task can be challenged");
	process::<T>(task);
	(task, challenger)
}

/// Replaces the jury of the current round of `task` with `jurors`, voting `votes[i]`.
fn seat<T: Config>(task: TaskId, jurors: &[T::AccountId], votes: &[Option<H256>]) {
	let mut dispute = Disputes::<T>::get(task).expect("dispute is open");
	for seat in dispute.jury.iter() {
		JurorDuties::<T>::remove(&seat.juror, task);
	}
	let mut jury = BoundedVec::new();
	for (juror, vote) in jurors.iter().zip(votes) {
		JurorDuties::<T>::insert(juror, task, ());
		let commitment = vote.map(|v| vote_commitment(task, dispute.round, &v, &salt(), juror));
		let _ = jury.try_push(Seat { juror: juror.clone(), commitment, vote: *vote });
	}
	dispute.jury = jury;
	Disputes::<T>::insert(task, dispute);
}

/// Slashes each heavy verifier of [`verifiers`] by the smallest unit, as between two draws: its
/// seats weigh more than its stake again, so the next draw that reads it writes the set.
fn slash_heavy_verifiers<T: Config>() {
	for i in MaxJurorsPerDispute::<T>::get()..T::AgentRegistry::max_candidates() {
		let who: T::AccountId = account("verifier", i, SEED);
		T::AgentRegistry::slash(&who, 1u32.into(), None);
	}
}

/// A challenged task whose dispute is appealable in the round before the last: the next appeal
/// is the last allowed, with the largest jury, past earlier jurors (the first accounts of a full
/// candidate set). Returns the task and its challenger.
fn before_last_appeal<T: Config>() -> (TaskId, T::AccountId) {
	let all = verifiers::<T>();
	let (task, challenger) = challenged::<T>(1);
	let mut dispute = Disputes::<T>::get(task).expect("dispute is open");
	dispute.round = T::MaxAppeals::get().saturating_sub(1);
	dispute.verdict = Some(result());
	dispute.phase = DisputePhase::Appealable;
	for seat in dispute.jury.iter() {
		JurorDuties::<T>::remove(&seat.juror, task);
		T::AgentRegistry::note_work_closed(&seat.juror, dispute.juror_collateral, 0);
	}
	dispute.jury = Default::default();
	let earlier = (Pallet::<T>::jury_size(dispute.round) as usize).min(all.len() / 2);
	dispute.past_jurors = BoundedVec::truncate_from(all[..earlier].to_vec());
	Disputes::<T>::insert(task, dispute);
	(task, challenger)
}

/// A Merkle proof of item 0 of a batch of `u32::MAX` items, the longest a proof can be
/// (`MAX_PROOF_LEN` hashes), and the root it proves `leaf` under.
fn longest_proof(leaf: &H256) -> (H256, Vec<H256>) {
	use agentchain_execution::merkle;
	let proof: Vec<H256> = (0..MAX_PROOF_LEN).map(|i| H256::repeat_byte(i as u8)).collect();
	let mut node = merkle::leaf_hash(0, leaf);
	for sibling in &proof {
		node = merkle::node_hash(&node, sibling);
	}
	(merkle::root_hash(u32::MAX, &node), proof)
}

/// The longest item input.
fn longest_input<T: Config>() -> Vec<u8> {
	vec![b'p'; T::MaxItemLen::get() as usize]
}

/// A batch of `u32::MAX` items under `inputs_root`, revealed by every executor it can have
/// with `outputs_root`.
fn revealed_batch<T: Config>(inputs_root: H256, outputs_root: H256) -> TaskId {
	let task = revealed::<T>(T::MaxExecutors::get());
	T::Tasks::make_batch_for_benchmark(task, u32::MAX, inputs_root, outputs_root);
	task
}

/// A batch whose item 0 is challenged: the input root proves [`longest_input`] by
/// [`longest_proof`], the outputs root the leaf [`result`]. Returns the task and both proofs.
fn item_challenged<T: Config>() -> (TaskId, Vec<H256>, Vec<H256>) {
	let input = H256(sp_io::hashing::blake2_256(&longest_input::<T>()));
	let (inputs_root, input_proof) = longest_proof(&input);
	let (outputs_root, output_proof) = longest_proof(&result());
	let task = revealed_batch::<T>(inputs_root, outputs_root);
	let challenger = funded::<T>("challenger");
	Pallet::<T>::challenge_item(RawOrigin::Signed(challenger).into(), task, 0, bond::<T>())
		.expect("the batch's item can be challenged");
	(task, input_proof, output_proof)
}

/// Two executors' batch of `u32::MAX` items whose roots differ, bisected down to the leaves at
/// item 0: each side's node the leaf of its own output hash, the first side's opening made.
/// Returns the task, the second side, and its opening.
fn bisecting<T: Config>() -> (TaskId, T::AccountId, (H256, Option<H256>)) {
	bisecting_at::<T>(0)
}

/// As [`bisecting`], at `level` 0 or 1 (position 0): at level 1, both children of the two
/// sides' nodes differ, so the step passes a fork by, and the game already keeps as many forks
/// as it may, less one.
fn bisecting_at<T: Config>(level: u32) -> (TaskId, T::AccountId, (H256, Option<H256>)) {
	use agentchain_execution::merkle;
	verifiers::<T>();
	executors::<T>(2);
	let requester = funded::<T>("requester");
	let task =
		T::Tasks::revealed_task_for_benchmark(&requester, model(), &[output(), b"other".to_vec()]);
	let outputs_root = H256::repeat_byte(10);
	T::Tasks::make_batch_for_benchmark(task, u32::MAX, H256::zero(), outputs_root);
	let mut dispute = Disputes::<T>::get(task).expect("the executors disagree");
	let openings = if level == 0 {
		[(H256::repeat_byte(1), None), (H256::repeat_byte(2), None)]
	} else {
		[
			(H256::repeat_byte(1), Some(H256::repeat_byte(3))),
			(H256::repeat_byte(2), Some(H256::repeat_byte(4))),
		]
	};
	let mut sides = Vec::new();
	for ((executor, root), (output, right)) in dispute.revealed.iter_mut().zip(openings) {
		let node = match right {
			None => merkle::leaf_hash(0, &output),
			Some(right) => merkle::node_hash(&output, &right),
		};
		// The roots the inference pallet now holds.
		*root = if sides.is_empty() {
			outputs_root
		} else {
			H256(sp_io::hashing::blake2_256(&(outputs_root, *root).encode()))
		};
		sides.push(BisectionSide { executor: executor.clone(), root: *root, node, opening: None });
	}
	let mut sides: [BisectionSide<T::AccountId>; 2] =
		sides.try_into().unwrap_or_else(|_| panic!("two sides"));
	sides[0].opening = Some(openings[0]);
	let second = sides[1].executor.clone();
	dispute.phase = DisputePhase::Bisecting;
	Disputes::<T>::insert(task, dispute);
	Bisections::<T>::insert(
		task,
		Bisection { items: u32::MAX, inputs_root: H256::zero(), level, position: 0, sides },
	);
	if level > 0 {
		let fork = (level + 1, 1, H256::repeat_byte(5), H256::repeat_byte(6));
		BisectionGames::<T>::insert(
			task,
			BisectionGame {
				forks: BoundedVec::truncate_from(vec![fork; MAX_FORKS as usize - 1]),
				judged: 0,
				lost: [0, 0],
			},
		);
	}
	(task, second, openings[1])
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A challenge checking a full candidate set for a first jury (drawn at the next block).
	#[benchmark]
	fn challenge() {
		verifiers::<T>();
		// Every executor revealed the result: each is recorded as challenged.
		let task = revealed::<T>(T::MaxExecutors::get());
		let challenger = funded::<T>("challenger");
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), task, bond::<T>());

		assert!(Disputes::<T>::contains_key(task));
	}

	/// A challenge of one item of a batch with every executor it can have, checking a full
	/// candidate set for a first jury.
	#[benchmark]
	fn challenge_item() {
		verifiers::<T>();
		let task = revealed_batch::<T>(H256::repeat_byte(1), H256::repeat_byte(2));
		let challenger = funded::<T>("challenger");
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), task, u32::MAX - 1, bond::<T>());

		assert!(ItemDisputes::<T>::contains_key(task));
	}

	/// The longest input, with the longest proof.
	#[benchmark]
	fn show_item_input() {
		verifiers::<T>();
		let (task, proof, _) = item_challenged::<T>();
		let shower = funded::<T>("shower");
		#[extrinsic_call]
		_(RawOrigin::Signed(shower), task, longest_input::<T>(), proof);

		assert!(ItemDisputes::<T>::get(task).is_some_and(|shown| shown.input.is_some()));
	}

	/// An output hash with the longest proof, not under the disputed root but under the root
	/// reconciled with it: both checked.
	#[benchmark]
	fn show_item_output() {
		verifiers::<T>();
		let (task, _, proof) = item_challenged::<T>();
		let mut shown = ItemDisputes::<T>::get(task).expect("the item is disputed");
		T::Tasks::reconcile_for_benchmark(task, shown.outputs_root);
		shown.outputs_root = H256::repeat_byte(0x0e);
		ItemDisputes::<T>::insert(task, shown);
		let shower = funded::<T>("shower");
		#[extrinsic_call]
		_(RawOrigin::Signed(shower), task, result(), proof);

		assert!(ItemDisputes::<T>::get(task).is_some_and(|shown| shown.output.is_some()));
	}

	/// The end of an item's showing, both parts shown: the dispute moves to its jury's draw.
	/// (Without them, it closes: charged as a close besides.)
	#[benchmark]
	fn end_showing() {
		verifiers::<T>();
		let (task, input_proof, output_proof) = item_challenged::<T>();
		let shower: T::AccountId = funded::<T>("shower");
		Pallet::<T>::show_item_input(
			RawOrigin::Signed(shower.clone()).into(),
			task,
			longest_input::<T>(),
			input_proof,
		)
		.expect("the input is shown");
		Pallet::<T>::show_item_output(
			RawOrigin::Signed(shower).into(),
			task,
			result(),
			output_proof,
		)
		.expect("the output is shown");

		#[block]
		{
			process::<T>(task);
		}

		assert!(Disputes::<T>::get(task).is_some_and(|d| d.phase == DisputePhase::Drawing));
	}

	/// The opening that completes the last step: the dispute moves to its item (a step between
	/// writes the bisection instead of the item dispute, and rewrites no output).
	#[benchmark]
	fn open_node() {
		let (task, second, (left, right)) = bisecting::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(second), task, left, right);

		assert!(!Bisections::<T>::contains_key(task));
		assert!(ItemDisputes::<T>::contains_key(task));
	}

	/// An opening that completes a step above the leaves, passing a fork by: kept in the game,
	/// which holds as many as it may, less one.
	#[benchmark]
	fn open_node_at_a_fork() {
		let (task, second, (left, right)) = bisecting_at::<T>(1);
		#[extrinsic_call]
		open_node(RawOrigin::Signed(second), task, left, right);

		assert_eq!(Bisections::<T>::get(task).map(|b| b.level), Some(0));
		assert_eq!(
			BisectionGames::<T>::get(task).map(|game| game.forks.len() as u32),
			Some(MAX_FORKS)
		);
	}

	/// The end of a step one side did not complete: the dispute closes, the silent side found
	/// wrong on an item, the other's root back in its window.
	#[benchmark]
	fn end_bisection_step() {
		let (task, _, _) = bisecting::<T>();
		// A game kept since the bisection began, with items judged (the answering side found
		// wrong on none, so its root is the result).
		let fork = (1, 1, H256::repeat_byte(5), H256::repeat_byte(6));
		BisectionGames::<T>::insert(
			task,
			BisectionGame {
				forks: BoundedVec::truncate_from(vec![fork; MAX_FORKS as usize]),
				judged: MAX_ITEMS_FOUND_WRONG - 1,
				lost: [0, MAX_ITEMS_FOUND_WRONG - 1],
			},
		);

		#[block]
		{
			process::<T>(task);
		}

		assert!(!Disputes::<T>::contains_key(task));
		assert!(!T::Tasks::is_disputed(task));
	}

	#[benchmark]
	fn commit_vote() {
		verifiers::<T>();
		let (task, _) = challenged::<T>(1);
		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		let juror = dispute.jury.last().expect("a jury is drawn").juror.clone();
		let commitment = vote_commitment(task, 0, &result(), &salt(), &juror);

		#[extrinsic_call]
		_(RawOrigin::Signed(juror), task, commitment);

		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		assert!(dispute.jury.last().is_some_and(|s| s.commitment.is_some()));
	}

	#[benchmark]
	fn reveal_vote() {
		verifiers::<T>();
		let (task, _) = challenged::<T>(1);
		let mut dispute = Disputes::<T>::get(task).expect("dispute is open");
		let juror = dispute.jury.last().expect("a jury is drawn").juror.clone();
		Pallet::<T>::commit_vote(
			RawOrigin::Signed(juror.clone()).into(),
			task,
			vote_commitment(task, 0, &result(), &salt(), &juror),
		)
		.expect("juror commits");
		dispute = Disputes::<T>::get(task).expect("dispute is open");
		dispute.phase = DisputePhase::Revealing;
		Disputes::<T>::insert(task, dispute);

		#[extrinsic_call]
		_(RawOrigin::Signed(juror), task, result(), salt());

		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		assert_eq!(dispute.jury.last().and_then(|s| s.vote), Some(result()));
	}

	/// The last appeal allowed: the largest jury, drawn past every earlier juror.
	#[benchmark]
	fn appeal() {
		let (task, challenger) = before_last_appeal::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), task, bond::<T>());

		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		assert_eq!(dispute.round, T::MaxAppeals::get());
		assert_eq!(dispute.phase, DisputePhase::Drawing);
	}

	/// Drawing the jury of the last round allowed: the largest jury, from a full candidate set
	/// past every earlier juror, the heavy verifiers' seats to correct.
	#[benchmark]
	fn draw_jury() {
		let (task, challenger) = before_last_appeal::<T>();
		Pallet::<T>::appeal(RawOrigin::Signed(challenger).into(), task, bond::<T>())
			.expect("the challenger appeals");
		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		let block = dispute.phase_ends;
		Queue::<T>::unschedule(&task, block);
		frame_system::Pallet::<T>::set_block_number(block);
		// The first jury's draw corrected the heavy verifiers' seats: make this one write too.
		slash_heavy_verifiers::<T>();

		#[block]
		{
			Pallet::<T>::process_deadline(task, block);
		}

		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		assert_eq!(dispute.phase, DisputePhase::Committing);
		assert_eq!(dispute.jury.len() as u32, Pallet::<T>::jury_size(T::MaxAppeals::get()));
	}

	/// The commit phase ends: the reveal phase starts.
	#[benchmark]
	fn start_reveal() {
		verifiers::<T>();
		let (task, _) = challenged::<T>(1);
		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		let block = dispute.phase_ends;
		Queue::<T>::unschedule(&task, block);
		frame_system::Pallet::<T>::set_block_number(block);

		#[block]
		{
			Pallet::<T>::process_deadline(task, block);
		}

		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		assert_eq!(dispute.phase, DisputePhase::Revealing);
	}

	/// Counting a round of `j` jurors, none of whom revealed: each is slashed.
	#[benchmark]
	fn count_votes(j: Linear<1, { T::MaxJurySize::get() }>) {
		let all = verifiers::<T>();
		let (task, _) = challenged::<T>(1);
		let collateral = Disputes::<T>::get(task).expect("dispute is open").juror_collateral;
		let jurors = &all[..j as usize];
		for juror in jurors {
			T::AgentRegistry::note_work_opened(juror, collateral, 0).expect("juror can take work");
		}
		seat::<T>(task, jurors, &vec![None; j as usize]);
		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		let block = dispute.phase_ends;
		Queue::<T>::unschedule(&task, block);
		frame_system::Pallet::<T>::set_block_number(block);

		#[block]
		{
			Pallet::<T>::count_votes(task, dispute, block);
		}

		let dispute = Disputes::<T>::get(task).expect("dispute is open");
		assert_eq!(dispute.phase, DisputePhase::Appealable);
	}

	/// Closing a disagreement of `e` executors (≥ 2): the verdict is the first one's output, so
	/// the others are slashed and the first is paid, through the inference pallet's
	/// finalisation; `o` jurors are paid.
	#[benchmark]
	fn close(
		o: Linear<0, { MaxJurorsPerDispute::<T>::get() }>,
		e: Linear<2, { T::MaxExecutors::get() }>,
	) {
		let all = verifiers::<T>();
		executors::<T>(e);
		let requester = funded::<T>("requester");
		let mut outputs = vec![b"another result".to_vec(); e as usize];
		outputs[0] = output();
		let task = T::Tasks::revealed_task_for_benchmark(&requester, model(), &outputs);
		process::<T>(task);
		let mut dispute = Disputes::<T>::get(task).expect("the disagreement is disputed");
		for seat in dispute.jury.iter() {
			JurorDuties::<T>::remove(&seat.juror, task);
			T::AgentRegistry::note_work_closed(&seat.juror, dispute.juror_collateral, 0);
		}
		dispute.jury = Default::default();
		dispute.verdict = Some(result());
		dispute.phase = DisputePhase::Appealable;
		dispute.owed = BoundedVec::truncate_from(
			all.iter().take(o as usize).map(|juror| (juror.clone(), result())).collect(),
		);
		Queue::<T>::unschedule(&task, dispute.phase_ends);

		#[block]
		{
			Pallet::<T>::close(task, dispute, false);
		}

		assert!(!Disputes::<T>::contains_key(task));
	}

	/// Closing the dispute over an item two roots of a batch differ on, found by their
	/// bisection, with `o` jurors paid: the second root found wrong on it and slashed, the item
	/// recorded, both executors' collateral reduced, and the bisection taken up again at the
	/// nearest of the most forks a game keeps.
	#[benchmark]
	fn close_resuming(o: Linear<0, { MaxJurorsPerDispute::<T>::get() }>) {
		let (task, second, (left, right)) = bisecting::<T>();
		let all: Vec<T::AccountId> = (0..MaxJurorsPerDispute::<T>::get())
			.map(|i| account("verifier", i, SEED))
			.collect();
		Pallet::<T>::open_node(RawOrigin::Signed(second).into(), task, left, right)
			.expect("the second side opens its leaf");
		let fork = (1, 1, H256::repeat_byte(5), H256::repeat_byte(6));
		BisectionGames::<T>::insert(
			task,
			BisectionGame {
				forks: BoundedVec::truncate_from(vec![fork; MAX_FORKS as usize]),
				judged: 0,
				lost: [0, 0],
			},
		);
		let mut dispute = Disputes::<T>::get(task).expect("the item is disputed");
		Queue::<T>::unschedule(&task, dispute.phase_ends);
		let verdict = dispute.revealed[0].1;
		dispute.verdict = Some(verdict);
		dispute.phase = DisputePhase::Appealable;
		dispute.owed = BoundedVec::truncate_from(
			all.iter().take(o as usize).map(|juror| (juror.clone(), verdict)).collect(),
		);

		#[block]
		{
			Pallet::<T>::close(task, dispute, false);
		}

		assert_eq!(Disputes::<T>::get(task).map(|d| d.phase), Some(DisputePhase::Bisecting));
		assert_eq!(BisectionGames::<T>::get(task).map(|game| game.judged), Some(1));
		assert_eq!(T::Tasks::disagreed_items_for_benchmark(task), 1, "the item is recorded");
	}

	/// Closing an upheld challenge of a result `e` executors agreed on: all `e` are slashed, the
	/// challenger's bond is returned and it is paid, the requester is compensated and refunded;
	/// `o` jurors are paid.
	#[benchmark]
	fn close_overturned(
		o: Linear<0, { MaxJurorsPerDispute::<T>::get() }>,
		e: Linear<1, { T::MaxExecutors::get() }>,
	) {
		let all = verifiers::<T>();
		let (task, _) = challenged::<T>(e);
		let mut dispute = Disputes::<T>::get(task).expect("the challenge is open");
		for seat in dispute.jury.iter() {
			JurorDuties::<T>::remove(&seat.juror, task);
			T::AgentRegistry::note_work_closed(&seat.juror, dispute.juror_collateral, 0);
		}
		let verdict = H256::repeat_byte(7);
		dispute.jury = Default::default();
		dispute.verdict = Some(verdict);
		dispute.phase = DisputePhase::Appealable;
		dispute.owed = BoundedVec::truncate_from(
			all.iter().take(o as usize).map(|juror| (juror.clone(), verdict)).collect(),
		);
		Queue::<T>::unschedule(&task, dispute.phase_ends);

		#[block]
		{
			Pallet::<T>::close(task, dispute, false);
		}

		assert!(!Disputes::<T>::contains_key(task));
	}

	/// Opening an audit (or a disagreement): checking a full candidate set for a first jury.
	#[benchmark]
	fn open_dispute() {
		verifiers::<T>();
		let task = revealed::<T>(1);
		let view = T::Tasks::open_challenge(task).expect("the task is challengeable");

		#[block]
		{
			Pallet::<T>::open_unbonded(task, &view, DisputeKind::Audit).expect("audit opens");
		}

		assert!(Disputes::<T>::contains_key(task));
	}

	#[benchmark]
	fn on_initialize_idle() {
		let block = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
