//! The executor off-chain worker and batches: inputs fetched and checked once, items run in
//! order across blocks, outputs published, and the outputs root committed and revealed.

use super::*;
use crate::{OutputUris, TaskInput};
use agentchain_execution::batch;
use sp_core::H256;

const OUTPUTS_URL: &[u8] = b"http://h/";
const INPUTS_URI: &str = "http://127.0.0.1:8080/d/in.json";
const ITEM_PARAMS: TaskParams = TaskParams { max_tokens: 2, ..PARAMS };
/// More items than two runs make calls for a batch (`BatchCallsPerRun`, 8 in the mock unless a
/// test sets more, the inputs' fetch included): the batch takes three runs.
const ITEMS: u32 = 20;
const ITEMS_PER_RUN: u32 = 8;

/// An agent node that publishes batch outputs under `OUTPUTS_URL`.
fn batch_node(config: &EndpointConfig) -> Node {
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		StorageValueRef::persistent(OUTPUTS_URL_KEY).set(&OUTPUTS_URL.to_vec());
	});
	node
}

fn prompts() -> Vec<String> {
	(0..ITEMS).map(|i| format!("prompt {i}")).collect()
}

fn answer(i: u32) -> String {
	format!("answer {i}")
}

/// Registers the verifiers a batch needs, and submits a batch of `prompts()` with one executor,
/// drawn at the next block; returns it and its executor.
fn submit_batch(root: H256) -> (TaskId, u64) {
	register_verifiers(&[41, 42, 43, 44], 500);
	let id = submit_batch_undrawn(root, INPUTS_URI, 16);
	next_block();
	(id, executor_of(id))
}

/// Submits a batch of `prompts()` published at `uri`, with one executor and `commit_period`.
fn submit_batch_undrawn(root: H256, uri: &str, commit_period: u64) -> TaskId {
	let id = NextTaskId::<Test>::get();
	assert_ok!(Inference::submit_task(
		RuntimeOrigin::signed(1),
		model(),
		TaskInput::Batch {
			root,
			uri: uri.as_bytes().to_vec(),
			items: ITEMS,
			audit_commitment: H256(sp_io::hashing::blake2_256(&[7; 32])),
		},
		ITEM_PARAMS,
		u64::from(ITEMS),
		1,
		commit_period,
	));
	id
}

fn executor_of(id: TaskId) -> u64 {
	Tasks::<Test>::get(id).unwrap().assignments[0].executor
}

/// The inputs document the node keeps for batch `id`, if it fetched it.
fn inputs_of(id: TaskId) -> Option<Vec<String>> {
	StorageValueRef::persistent(&batch_key(&key_of(id, executor_of(id)), BATCH_INPUTS))
		.get::<Vec<String>>()
		.unwrap()
}

fn expect(http: &Arc<RwLock<OffchainState>>, request: PendingRequest) {
	http.write().expect_request(PendingRequest { sent: true, ..request });
}

fn expect_inputs(http: &Arc<RwLock<OffchainState>>, document: Vec<u8>) {
	expect_inputs_at(http, INPUTS_URI, document)
}

fn expect_inputs_at(http: &Arc<RwLock<OffchainState>>, uri: &str, document: Vec<u8>) {
	expect(
		http,
		PendingRequest {
			method: "GET".into(),
			uri: uri.into(),
			response: Some(document),
			..Default::default()
		},
	);
}

fn expect_items(
	http: &Arc<RwLock<OffchainState>>,
	config: &EndpointConfig,
	items: core::ops::Range<u32>,
) {
	let prompts = prompts();
	for i in items {
		let (uri, body) =
			completion_request(config, MODEL_NAME, &prompts[i as usize], &ITEM_PARAMS);
		let headers = expected_headers(config, body.len());
		expect(
			http,
			PendingRequest {
				method: "POST".into(),
				uri,
				headers,
				body,
				response: Some(chat_response(MODEL_NAME, &answer(i))),
				..Default::default()
			},
		);
	}
}

fn key_of(id: TaskId, agent: u64) -> Vec<u8> {
	work_key::<Test>(id, &agent, 0)
}

fn outputs_uri(id: TaskId, agent: u64) -> Vec<u8> {
	[OUTPUTS_URL, &batch_document_name(&key_of(id, agent))[..]].concat()
}

/// The root of every item's answer: what a node that ran the whole batch commits to.
fn answers_root() -> H256 {
	batch::root(&(0..ITEMS).map(answer).collect::<Vec<_>>()).unwrap()
}

/// The outputs root the node recorded committing to for batch `id`, as `agent`'s executor.
fn committed_root(id: TaskId, agent: u64) -> H256 {
	let Some(WorkRecord::BatchWorking { root, .. }) = work_record(id, agent) else {
		panic!("no batch record")
	};
	root
}

#[test]
fn an_agent_node_runs_a_batch_across_blocks_publishes_its_outputs_and_commits_their_root() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		let outputs: Vec<String> = (0..ITEMS).map(answer).collect();
		let outputs_root = batch::root(&outputs).unwrap();

		// The first run fetches the inputs and runs as many items as its calls allow, the fetch
		// counted; each next run goes on from the first item not done (the inputs are not
		// fetched again, no item is run twice: an unexpected request fails the test).
		expect_inputs(&node.http, batch::document(&inputs));
		let runs = [0..ITEMS_PER_RUN - 1, ITEMS_PER_RUN - 1..2 * ITEMS_PER_RUN - 1];
		for items in runs {
			expect_items(&node.http, &config, items);
			Inference::offchain_worker(System::block_number());
			assert!(submitted(&node.pool).is_empty(), "nothing to commit before the last item");
			assert_eq!(work_record(id, executor), None);
			next_block();
		}
		// The last items, and the commitment to the outputs root. Nothing is published yet: a
		// co-executor could commit to the outputs without running anything.
		expect_items(&node.http, &config, 2 * ITEMS_PER_RUN - 1..ITEMS);
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		assert_eq!(commits.len(), 1);
		let uri = outputs_uri(id, executor);
		let Some(WorkRecord::BatchWorking { root, uri: recorded, salt, .. }) =
			work_record(id, executor)
		else {
			panic!("no batch record")
		};
		assert_eq!((root, &recorded), (outputs_root, &uri));
		let crate::Call::commit { commitment, .. } = &commits[0].1 else { panic!("not a commit") };
		assert_eq!(*commitment, commitment_of(&outputs_root, &salt, &executor));
		include(commits);

		// The reveal phase: the outputs published, then the root revealed with their URI and no
		// inline output.
		next_block();
		expect(
			&node.http,
			PendingRequest {
				method: "PUT".into(),
				uri: String::from_utf8(uri.clone()).unwrap(),
				headers: vec![
					("Content-Type".into(), "application/json".into()),
					("Content-Length".into(), batch::document(&outputs).len().to_string()),
				],
				body: batch::document(&outputs),
				response: Some(b"{}".to_vec()),
				..Default::default()
			},
		);
		Inference::offchain_worker(System::block_number());
		let reveals = submitted(&node.pool);
		let crate::Call::reveal { output_hash, output, uri: revealed, .. } = &reveals[0].1 else {
			panic!("not a reveal")
		};
		assert_eq!((output_hash, output, revealed), (&outputs_root, &None, &Some(uri.clone())));
		include(reveals);
		assert_eq!(OutputUris::<Test>::get(id, executor).map(|u| u.to_vec()), Some(uri));

		// What the node shows of an item in a dispute: its input and output hash, with proofs
		// the chain checks against the batch's inputs root and the revealed outputs root.
		use agentchain_execution::merkle;
		let shown =
			<Inference as agentchain_primitives::inference::OffchainExecution>::item_showing(
				id, &executor, 5,
			)
			.unwrap();
		assert_eq!(shown.input, b"prompt 5".to_vec());
		assert_eq!(shown.output, agentchain_execution::hash_of(b"answer 5"));
		let inputs_root = batch::root(&inputs).unwrap();
		assert!(merkle::verify(
			&inputs_root,
			ITEMS,
			5,
			&H256(sp_io::hashing::blake2_256(&shown.input)),
			&shown.input_proof
		));
		assert!(merkle::verify(&outputs_root, ITEMS, 5, &shown.output, &shown.output_proof));
		assert_eq!(
			<Inference as agentchain_primitives::inference::OffchainExecution>::item_showing(
				id, &executor, ITEMS
			),
			None
		);
		assert_eq!(
			<Inference as agentchain_primitives::inference::OffchainExecution>::item_showing(
				id,
				&(executor + 1),
				5
			),
			None
		);

		// Once the task is no longer assigned, the batch's inputs and outputs go with its record.
		let key = key_of(id, executor);
		assert!(StorageValueRef::persistent(&batch_key(&key, BATCH_INPUTS))
			.get::<Vec<String>>()
			.unwrap()
			.is_some());
		next_block();
		let task = Tasks::<Test>::get(id).unwrap();
		run_to_block(task.phase_ends);
		// The window has ended: the requester reveals its audit secret, and the batch is paid.
		assert_ok!(Inference::reveal_audit_secret(
			RuntimeOrigin::signed(1),
			id,
			H256::repeat_byte(7)
		));
		next_block();
		assert_eq!(Tasks::<Test>::get(id).unwrap().status, TaskStatus::Finalised);
		Inference::offchain_worker(System::block_number());
		assert_eq!(work_record(id, executor), None);
		for part in [
			batch_key(&key, BATCH_INPUTS),
			batch_key(&key, BATCH_PROGRESS),
			batch_outputs_page_key(&key, 0),
		] {
			assert_eq!(StorageValueRef::persistent(&part).get::<Vec<u8>>().unwrap(), None);
		}
	});
}

/// Outputs are written a page at a time, the progress after them: a page lost in a crash (the
/// progress counting items it lacks) has its items run again, never a root committed without
/// them.
#[test]
fn a_page_of_outputs_lost_in_a_crash_has_its_items_run_again() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		let key = key_of(id, executor);
		// The first run: the fetch and items 0 to 6, in a full page and a page of two.
		expect_inputs(&node.http, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
		Inference::offchain_worker(System::block_number());
		let page = |index| {
			StorageValueRef::persistent(&batch_outputs_page_key(&key, index))
				.get::<Vec<Vec<u8>>>()
				.unwrap()
		};
		let answers = |items: core::ops::Range<u32>| -> Vec<Vec<u8>> {
			items.map(|i| answer(i).into_bytes()).collect()
		};
		assert_eq!(OUTPUTS_PAGE, 5);
		assert_eq!(page(0), Some(answers(0..5)));
		assert_eq!(page(1), Some(answers(5..7)));

		// The node stopped after writing the progress but lost the page being filled.
		StorageValueRef::persistent(&batch_outputs_page_key(&key, 1)).clear();
		next_block();
		expect_items(&node.http, &config, 5..13);
		Inference::offchain_worker(System::block_number());
		assert_eq!(page(1), Some(answers(5..10)));
		assert_eq!(page(2), Some(answers(10..13)));
		next_block();
		expect_items(&node.http, &config, 13..ITEMS);
		Inference::offchain_worker(System::block_number());
		// Every page complete, and the root of every output committed.
		assert_eq!(page(3), Some(answers(15..20)));
		assert_eq!(committed_root(id, executor), answers_root());
	});
}

/// A batch a node of runtime spec 122 was running when its runtime was upgraded (each output
/// stored under its index) is continued from where it stopped and committed with every output,
/// and its old keys go with its work.
#[test]
fn a_batch_begun_with_each_output_under_its_index_is_continued_after_the_upgrade() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		let key = key_of(id, executor);
		let task = Tasks::<Test>::get(id).unwrap();
		// What spec 122 stored after 7 items: the inputs, each output, the progress.
		StorageValueRef::persistent(&batch_key(&key, BATCH_INPUTS)).set(&inputs);
		for i in 0..7 {
			StorageValueRef::persistent(&legacy_output_key(&key, i)).set(&answer(i).into_bytes());
		}
		let mut progress = BatchProgress::new(batch_binding::<Test>(&key, &task, &config), ITEMS);
		progress.done = 7;
		StorageValueRef::persistent(&batch_key(&key, BATCH_PROGRESS)).set(&progress);

		expect_items(&node.http, &config, 7..15);
		Inference::offchain_worker(System::block_number());
		next_block();
		expect_items(&node.http, &config, 15..ITEMS);
		Inference::offchain_worker(System::block_number());
		assert_eq!(committed_root(id, executor), answers_root());

		// Its work cleared (as when the task ends), the old keys go with it.
		clear_batch_work(&key);
		for i in 0..7 {
			let old = legacy_output_key(&key, i);
			assert_eq!(StorageValueRef::persistent(&old).get::<Vec<u8>>().unwrap(), None);
		}
	});
}

#[test]
fn a_batch_whose_inputs_are_not_the_chains_is_answered_unavailable_without_a_call() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		// The document served has one item changed: its root is not the chain's.
		let mut served = inputs.clone();
		served[5] = "another prompt".into();
		expect_inputs(&node.http, batch::document(&served));
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		let Some(WorkRecord::Working { output: None, salt, .. }) = work_record(id, executor) else {
			panic!("not answered unavailable")
		};
		let crate::Call::commit { commitment, .. } = &commits[0].1 else { panic!("not a commit") };
		assert_eq!(*commitment, commitment_of(&INPUT_UNAVAILABLE, &salt, &executor));
		include(commits);
		next_block();
		Inference::offchain_worker(System::block_number());
		let reveals = submitted(&node.pool);
		let crate::Call::reveal { output_hash, uri, .. } = &reveals[0].1 else {
			panic!("{reveals:?}")
		};
		assert_eq!((output_hash, uri), (&INPUT_UNAVAILABLE, &None));
		include(reveals);
	});
}

#[test]
fn a_node_that_publishes_no_outputs_leaves_batches_alone() {
	let config = config();
	let mut node = agent_node(Some(config));
	node.ext.execute_with(|| {
		let (id, executor) = submit_batch(batch::root(&prompts()).unwrap());
		// No request is expected: any would fail the test.
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
		assert_eq!(work_record(id, executor), Some(WorkRecord::Failed));
	});
}

#[test]
fn single_tasks_are_served_before_batches_in_a_run() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		// A task drawn a block after the batch: it still comes first, whichever key holds it.
		let task = submit(1, 5);
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
		expect_inputs(&node.http, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		assert_eq!(commits.len(), 1);
		assert!(matches!(commits[0].1, crate::Call::commit { task: t, .. } if t == task));
		assert_eq!(work_record(id, executor), None);
	});
}

#[test]
fn a_batch_record_dropped_as_the_oldest_takes_its_inputs_and_outputs_with_it() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		expect_inputs(&node.http, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
		Inference::offchain_worker(System::block_number());
		let key = key_of(id, executor);
		let parts = [
			batch_key(&key, BATCH_INPUTS),
			batch_key(&key, BATCH_PROGRESS),
			batch_outputs_page_key(&key, 0),
		];
		for part in &parts {
			// Whatever it decodes as: only its presence is checked.
			assert!(sp_io::offchain::local_storage_get(
				sp_core::offchain::StorageKind::PERSISTENT,
				part
			)
			.is_some());
		}

		// The batch's work is still assigned, but newer records push its record out of the
		// index: what it stored goes with it, not only the record.
		for other in 0..MAX_WORK_RECORDS as u64 {
			Inference::remember_work(&work_key::<Test>(1_000 + other, &executor, 0));
		}
		for part in &parts {
			assert_eq!(
				StorageValueRef::persistent(part).get::<Vec<u8>>().unwrap(),
				None,
				"{part:?}"
			);
		}
	});
}

/// The chain sizes a batch's commit period for `ItemsPerBlock` items a block; a node that can
/// run more runs as many as its run's calls and time allow, and commits at once.
#[test]
fn a_node_faster_than_the_chain_assumes_runs_a_whole_batch_in_one_run_and_commits() {
	let config = config();
	let mut node = batch_node(&config);
	BatchCallsPerRun::set(ITEMS + 1);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		expect_inputs(&node.http, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS);
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		assert!(matches!(commits[..], [(_, crate::Call::commit { task, .. })] if task == id));
		assert_eq!(committed_root(id, executor), answers_root());
	});
}

/// A run past a block time from its block's start (another pallet's worker, or the node's single
/// tasks, took it), or past five sixths of it while the node sits on juries (the rest is the
/// juror's worker's, which runs after this one), starts no call for a batch, not even the inputs'
/// fetch. Nor does a run of a block older than the newest one whose work started.
#[test]
fn a_batch_is_called_for_only_within_the_runs_share_of_the_block_and_by_the_newest_run() {
	let config = config();
	BatchCallsPerRun::set(ITEMS + 1);
	for jury_duties in [false, true] {
		let mut node = batch_node(&config);
		node.ext.execute_with(|| {
			let inputs = prompts();
			let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
			let now = System::block_number();
			let cutoff_ms = if jury_duties {
				note_block(JURY_DUTIES_SEEN_KEY, now - 1);
				config.block_time_ms - config.block_time_ms / 6
			} else {
				config.block_time_ms
			};
			let key = key_of(id, executor);
			let no_inputs = || {
				assert!(submitted(&node.pool).is_empty());
				assert_eq!(
					StorageValueRef::persistent(&batch_key(&key, BATCH_INPUTS))
						.get::<Vec<u8>>()
						.unwrap(),
					None
				);
			};
			// The scripted endpoint fails the test on any request.
			block_work_started_ago(&node.http, now, cutoff_ms);
			Inference::offchain_worker(now);
			no_inputs();
			// In time, but the next block's work has started: this run leaves the batch to it.
			block_work_started_ago(&node.http, now + 1, 0);
			Inference::offchain_worker(now);
			no_inputs();
			// A millisecond before the cutoff, the run of the newest block fetches the inputs
			// and runs every item.
			block_work_started_ago(&node.http, now, cutoff_ms - 1);
			expect_inputs(&node.http, batch::document(&inputs));
			expect_items(&node.http, &config, 0..ITEMS);
			Inference::offchain_worker(now);
			assert_eq!(submitted(&node.pool).len(), 1);
		});
	}
}

/// Batches share a run's calls the earliest commit deadline first, whatever order they were
/// submitted or drawn in: a long batch does not take the calls a shorter one needs to meet its
/// deadline.
#[test]
fn batches_are_run_the_earliest_deadline_first() {
	let config = config();
	for longer_first in [true, false] {
		let mut node = batch_node(&config);
		node.ext.execute_with(|| {
			let inputs = prompts();
			let root = batch::root(&inputs).unwrap();
			register_verifiers(&[41, 42, 43, 44], 500);
			let (later, sooner) = if longer_first {
				let later = submit_batch_undrawn(root, LATER_URI, 16);
				(later, submit_batch_undrawn(root, INPUTS_URI, 10))
			} else {
				let sooner = submit_batch_undrawn(root, INPUTS_URI, 10);
				(submit_batch_undrawn(root, LATER_URI, 16), sooner)
			};
			next_block();
			let deadline = |id| Tasks::<Test>::get(id).unwrap().phase_ends;
			assert!(deadline(sooner) < deadline(later));

			// The run's 8 calls all go to the batch due sooner: its fetch and 7 items.
			expect_inputs(&node.http, batch::document(&inputs));
			expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
			Inference::offchain_worker(System::block_number());
			assert_eq!(inputs_of(sooner), Some(inputs.clone()));
			assert_eq!(inputs_of(later), None);

			// The next runs finish it and commit, then give the later batch the calls left.
			next_block();
			expect_items(&node.http, &config, ITEMS_PER_RUN - 1..2 * ITEMS_PER_RUN - 1);
			Inference::offchain_worker(System::block_number());
			next_block();
			expect_items(&node.http, &config, 2 * ITEMS_PER_RUN - 1..ITEMS);
			// 5 items, then the later batch's fetch and 2 items.
			expect_inputs_at(&node.http, LATER_URI, batch::document(&inputs));
			expect_items(&node.http, &config, 0..2);
			Inference::offchain_worker(System::block_number());
			let commits = submitted(&node.pool);
			assert!(
				matches!(commits[..], [(_, crate::Call::commit { task, .. })] if task == sooner)
			);
			assert_eq!(inputs_of(later), Some(inputs.clone()));
		});
	}
}

/// Where the batch due later of [`sooner_and_later`] publishes its inputs.
const LATER_URI: &str = "http://127.0.0.1:8080/d/l.json";

/// Two batches of `prompts()` drawn at the next block, one due sooner (a commit period of 10
/// blocks) and one due later (16, its inputs at [`LATER_URI`]): the inputs and the two ids.
fn sooner_and_later() -> (Vec<String>, TaskId, TaskId) {
	let inputs = prompts();
	let root = batch::root(&inputs).unwrap();
	register_verifiers(&[41, 42, 43, 44], 500);
	let sooner = submit_batch_undrawn(root, INPUTS_URI, 10);
	let later = submit_batch_undrawn(root, LATER_URI, 16);
	next_block();
	(inputs, sooner, later)
}

/// A node too slow for all its batches runs first those it can still finish in time: a batch
/// due sooner that its items can no longer meet goes after a later one that it can, rather than
/// taking the time both need and missing both deadlines (earliest deadline first would).
#[test]
fn a_batch_that_cannot_finish_in_time_goes_after_one_that_can() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let (inputs, sooner, later) = sooner_and_later();
		// The node measured an item at 0.6 of a block: the 20 items take 12 blocks, more than
		// the batch due sooner has left and less than the later one has.
		let per_item_us = config.block_time_ms * 600;
		StorageValueRef::persistent(&model_call_time_key(&model(), &ITEM_PARAMS)).set(&per_item_us);
		let now = System::block_number();
		let left = |id| {
			let phase_ends = Tasks::<Test>::get(id).unwrap().phase_ends;
			call_budget_ms(phase_ends, now, config.block_time_ms)
		};
		let needed = u64::from(ITEMS) * per_item_us / 1000;
		assert!(left(sooner) < needed && needed <= left(later));

		expect_inputs_at(&node.http, LATER_URI, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
		Inference::offchain_worker(now);
		assert_eq!(inputs_of(later), Some(inputs.clone()));
		assert_eq!(inputs_of(sooner), None);
		// The run's items took no time on this node's clock: the model's measure moves a quarter
		// of the way towards it, and the batch has its own.
		assert_eq!(
			call_time_us(&model_call_time_key(&model(), &ITEM_PARAMS)),
			Some(per_item_us * 3 / 4)
		);
		let of_later = batch_key(&key_of(later, executor_of(later)), BATCH_CALL_TIME);
		assert_eq!(call_time_us(&of_later), Some(0));
		// The batch due sooner has none of its own yet: it goes by the model's.
		let of_sooner = batch_key(&key_of(sooner, executor_of(sooner)), BATCH_CALL_TIME);
		assert_eq!(call_time_us(&of_sooner), None);
	});
}

/// A batch this node no longer works on (answered unavailable, committed, or given up) counts
/// no time in the order: a requester's batches with a document that fails cannot push the
/// node's real work past its deadlines.
#[test]
fn a_batch_the_node_is_done_with_counts_no_work() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let inputs = prompts();
		let (id, executor) = submit_batch(batch::root(&inputs).unwrap());
		let key = key_of(id, executor);
		let task = Tasks::<Test>::get(id).unwrap();
		StorageValueRef::persistent(&model_call_time_key(&model(), &ITEM_PARAMS)).set(&2_000u64);
		assert_eq!(Inference::batch_work_left_ms(&key, &task), u64::from(ITEMS) * 2);
		StorageValueRef::persistent(&key).set(&WorkRecord::Failed);
		assert_eq!(Inference::batch_work_left_ms(&key, &task), 0);
	});
}

/// A batch whose call faulted in the last run (an item that timed out, say) goes after the
/// others, whatever its deadline: an item that keeps timing out takes only the time they leave.
#[test]
fn a_batch_whose_call_faulted_in_the_last_run_goes_after_the_others() {
	let config = config();
	let mut node = batch_node(&config);
	node.ext.execute_with(|| {
		let (inputs, sooner, later) = sooner_and_later();
		let now = System::block_number();
		// The batch due sooner had a call fault in the last block's run.
		note_block(&batch_key(&key_of(sooner, executor_of(sooner)), BATCH_FAULTED), now - 1);
		expect_inputs_at(&node.http, LATER_URI, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
		Inference::offchain_worker(now);
		assert_eq!(inputs_of(later), Some(inputs.clone()));
		assert_eq!(inputs_of(sooner), None);

		// A fault two runs back no longer counts: the batch due sooner is first again.
		next_block();
		expect_inputs(&node.http, batch::document(&inputs));
		expect_items(&node.http, &config, 0..ITEMS_PER_RUN - 1);
		Inference::offchain_worker(System::block_number());
		assert_eq!(inputs_of(sooner), Some(inputs));
	});
}
