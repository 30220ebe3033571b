//! Tests of the juror off-chain worker, with a scripted HTTP endpoint and transaction pool.

use super::*;
use crate::mock::*;
use agentchain_primitives::offchain::EndpointApi;
use agentchain_support::mock_helpers::signed_calls;
use frame_support::assert_ok;
use pallet_inference::{
	offchain::{completion_headers, completion_request},
	TaskParams, VerificationMode,
};
use parking_lot::RwLock;
use sp_core::offchain::{
	testing::{OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::{testing::UintAuthorityId, traits::Dispatchable, DispatchResult};
use std::sync::Arc;

const MODEL_NAME: &str = "ngram-en";
/// The prompt and parameters of the mock's revealed tasks.
const PROMPT: &str = "2+2=";
const PARAMS: TaskParams =
	TaskParams { max_tokens: 8, temperature_milli: 0, seed: 1, mode: VerificationMode::ExactMatch };

fn config() -> EndpointConfig {
	EndpointConfig {
		base_url: b"http://127.0.0.1:8080/v1/".to_vec(),
		api: EndpointApi::Chat,
		api_key: None,
		models: vec![(model(), MODEL_NAME.as_bytes().to_vec())],
		timeout_ms: 5_000,
		max_response_bytes: 1_024,
		block_time_ms: 3_000,
	}
}

struct Node {
	ext: sp_io::TestExternalities,
	http: Arc<RwLock<OffchainState>>,
	pool: Arc<RwLock<PoolState>>,
}

/// The test chain seen from a node configured with an endpoint and no key yet.
fn juror_node() -> Node {
	let mut ext = new_test_ext();
	let (offchain, http) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	ext.execute_with(|| {
		StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).set(&config());
		// The node's salt secret, as a node with an endpoint writes at its start.
		StorageValueRef::persistent(agentchain_primitives::offchain::SALT_SECRET_KEY)
			.set(&[9u8; 32]);
	});
	Node { ext, http, pool }
}

/// Scripts the endpoint's answer `content` to the next call for the mock's prompt.
fn expect_call(http: &Arc<RwLock<OffchainState>>, content: &str) {
	expect_call_for(http, PROMPT, &PARAMS, content);
}

/// Scripts the endpoint's answer `content` to the next call for `prompt` with `params`.
fn expect_call_for(
	http: &Arc<RwLock<OffchainState>>,
	prompt: &str,
	params: &TaskParams,
	content: &str,
) {
	let (uri, body) = completion_request(&config(), MODEL_NAME, prompt, params);
	let response = format!(
		r#"{{"id":"chatcmpl-1","object":"chat.completion","created":0,"model":"{MODEL_NAME}","choices":[{{"index":0,"message":{{"role":"assistant","content":"{content}"}},"finish_reason":"length"}}]}}"#
	);
	http.write().expect_request(PendingRequest {
		method: "POST".into(),
		uri,
		headers: completion_headers(&config(), body.len())
			.into_iter()
			.map(|(name, value)| (name.into(), value))
			.collect(),
		body,
		response: Some(response.into_bytes()),
		sent: true,
		..Default::default()
	});
}

/// The calls the worker submitted, with their signers, emptying the pool.
fn submitted(pool: &Arc<RwLock<PoolState>>) -> Vec<(u64, crate::Call<Test>)> {
	signed_calls::<RuntimeCall>(core::mem::take(&mut pool.write().transactions))
		.into_iter()
		.map(|(signer, call)| {
			let RuntimeCall::Challenges(call) = call else { panic!("not a juror call") };
			(signer, call)
		})
		.collect()
}

/// Includes submitted calls in the chain, as a block author would.
fn include(calls: Vec<(u64, crate::Call<Test>)>) {
	for (signer, call) in calls {
		let result: DispatchResult = RuntimeCall::Challenges(call)
			.dispatch(RuntimeOrigin::signed(signer))
			.map(|_| ())
			.map_err(|e| e.error);
		assert_ok!(result);
	}
}

/// A disagreement between two executors ("4" and "5"), its jury drawn; the node holds the key
/// of the first juror (an agent acting as its own operator), returned with the dispute.
fn disputed() -> (TaskId, u64) {
	let task = revealed_task(1, model(), &[b"4", b"5"]);
	run_to_block(System::block_number() + 1);
	let dispute = Disputes::<Test>::get(task).expect("a disagreement is disputed");
	assert_eq!(dispute.phase, DisputePhase::Committing);
	let juror = dispute.jury[0].juror;
	UintAuthorityId::set_all_keys([juror]);
	(task, juror)
}

fn seat(task: TaskId, juror: u64) -> crate::Seat<u64> {
	Disputes::<Test>::get(task)
		.expect("dispute is open")
		.jury
		.into_iter()
		.find(|seat| seat.juror == juror)
		.expect("a seat")
}

/// A dispute whose juror (the node's key) voted `answer` and committed, its commitment
/// included, then lost its vote record, as a node killed before its database wrote it: the
/// dispute, the juror and the record's key.
fn committed_then_lost(
	http: &Arc<RwLock<OffchainState>>,
	pool: &Arc<RwLock<PoolState>>,
	answer: &str,
) -> (TaskId, u64, Vec<u8>) {
	let (task, juror) = disputed();
	let key = vote_key::<Test>(task, &juror, 0, None);
	expect_call(http, answer);
	Pallet::<Test>::run_jurors(System::block_number());
	let commits = submitted(pool);
	assert!(matches!(commits[..], [(signer, Call::commit_vote { .. })] if signer == juror));
	include(commits);
	StorageValueRef::persistent(&key).clear();
	(task, juror, key)
}

/// Runs the worker, which must reveal `vote` for `juror` in dispute `task`, and includes it.
fn reveals(pool: &Arc<RwLock<PoolState>>, task: TaskId, juror: u64, vote: H256) {
	Pallet::<Test>::run_jurors(System::block_number());
	let reveals = submitted(pool);
	assert!(matches!(reveals[..], [(_, Call::reveal_vote { .. })]));
	include(reveals);
	assert_eq!(seat(task, juror).vote, Some(vote));
}

/// A juror node killed after its commitment went out, whose database lost the vote's record:
/// it votes again and finds the same commitment (the salt is derived, not drawn), and reveals.
#[test]
fn a_juror_that_lost_its_vote_record_after_committing_restores_it_and_reveals() {
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let (task, juror, key) = committed_then_lost(&node.http, &node.pool, "4");
		let committed = seat(task, juror).commitment.expect("committed");
		// The node's random source gives other bytes than before (a salt drawn from it could
		// not open the commitment).
		node.http.write().seed = [0x5E; 32];
		run_to_block(System::block_number() + 1);
		expect_call(&node.http, "4");
		Pallet::<Test>::run_jurors(System::block_number());
		assert!(submitted(&node.pool).is_empty(), "nothing is committed again");
		let Ok(Some(VoteRecord::Voted { vote, salt, .. })) =
			StorageValueRef::persistent(&key).get::<VoteRecord>()
		else {
			panic!("the record is restored")
		};
		assert_eq!(vote, H256(sp_io::hashing::blake2_256(b"4")));
		assert_eq!(vote_commitment(task, 0, &vote, &salt, &juror), committed);

		// The reveal phase: the restored vote is revealed.
		run_to_block(Disputes::<Test>::get(task).unwrap().phase_ends);
		assert_eq!(Disputes::<Test>::get(task).unwrap().phase, DisputePhase::Revealing);
		reveals(&node.pool, task, juror, vote);
	});
}

/// The record lost in the reveal phase: the same, restored and revealed there.
#[test]
fn a_juror_that_lost_its_vote_record_in_the_reveal_phase_still_reveals() {
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let (task, juror, _) = committed_then_lost(&node.http, &node.pool, "5");
		run_to_block(Disputes::<Test>::get(task).unwrap().phase_ends);
		assert_eq!(Disputes::<Test>::get(task).unwrap().phase, DisputePhase::Revealing);
		// The first run restores the record, the next reveals it.
		expect_call(&node.http, "5");
		Pallet::<Test>::run_jurors(System::block_number());
		assert!(submitted(&node.pool).is_empty());
		run_to_block(System::block_number() + 1);
		reveals(&node.pool, task, juror, H256(sp_io::hashing::blake2_256(b"5")));
	});
}

/// A vote formed again that does not open the commitment on chain (the model answered
/// differently the second time) is not revealed: the juror never reveals what it did not commit.
#[test]
fn a_restored_vote_that_does_not_open_the_commitment_is_not_revealed() {
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let (task, _, key) = committed_then_lost(&node.http, &node.pool, "4");
		run_to_block(System::block_number() + 1);
		expect_call(&node.http, "5");
		Pallet::<Test>::run_jurors(System::block_number());
		assert_eq!(
			StorageValueRef::persistent(&key).get::<VoteRecord>(),
			Ok(Some(VoteRecord::Failed))
		);
		run_to_block(Disputes::<Test>::get(task).unwrap().phase_ends);
		Pallet::<Test>::run_jurors(System::block_number());
		assert!(submitted(&node.pool).is_empty());
	});
}

/// The salt of a vote is the node's: derived from its secret and the seat, so two nodes (two
/// secrets) commit differently to the same vote, and one node the same way each time.
#[test]
fn each_item_dispute_of_a_batch_has_its_own_vote_record() {
	// The items of a disagreement are judged one after the other, each in a round 0: a juror
	// drawn for two of them keeps two records, so two salts, and a task's dispute keeps the key
	// it always had.
	let keys = [None, Some(1), Some(2)].map(|item| vote_key::<Test>(7, &31, 0, item));
	assert_ne!(keys[1], keys[2]);
	assert_eq!(keys[0], [VOTE_PREFIX, &(7u64, 31u64, 0u32).encode()].concat());
	for (key, item) in keys.iter().zip([None, Some(1), Some(2)]) {
		assert_eq!(decode_vote_key::<Test>(key), Some((7, 31, 0, item)));
	}
}

#[test]
fn a_vote_salt_is_derived_from_the_node_secret_and_the_seat() {
	let salts = |secret: Option<[u8; 32]>| {
		let mut node = juror_node();
		node.ext.execute_with(|| {
			if let Some(secret) = secret {
				StorageValueRef::persistent(agentchain_primitives::offchain::SALT_SECRET_KEY)
					.set(&secret);
			}
			let (task, juror) = disputed();
			expect_call(&node.http, "4");
			Pallet::<Test>::run_jurors(System::block_number());
			let Ok(Some(VoteRecord::Voted { salt, .. })) =
				StorageValueRef::persistent(&vote_key::<Test>(task, &juror, 0, None))
					.get::<VoteRecord>()
			else {
				panic!("voted")
			};
			salt
		})
	};
	let one = salts(Some([1; 32]));
	assert_eq!(salts(Some([1; 32])), one, "the same secret, the same seat: the same salt");
	assert_ne!(salts(Some([2; 32])), one, "another node's secret: another salt");
}

#[test]
fn the_chain_and_its_clients_commit_to_votes_alike() {
	let (vote, salt, juror) = (H256::repeat_byte(7), [3u8; 32], 42u64);
	sp_io::TestExternalities::default().execute_with(|| {
		assert_eq!(
			crate::vote_commitment(5, 1, &vote, &salt, &juror),
			agentchain_execution::vote_commitment(5, 1, &vote, &salt, &juror)
		);
		assert_eq!(crate::REJECT, agentchain_execution::REJECT);
	});
}

/// A juror's call gets what is left of the commit phase counted from the start of the block's
/// off-chain work, which another pallet's worker may have used: none left, no call and no
/// record, so that a later block's run calls with the time left then. A run that finds duties
/// notes it, so that the executor's worker of the next block, before this one, leaves it part of
/// the block.
#[test]
fn a_juror_calls_only_within_the_time_left_from_the_blocks_start() {
	use agentchain_primitives::offchain::{
		noted_lately, BLOCK_WORK_START_KEY, JURY_DUTIES_SEEN_KEY,
	};
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let (task, juror) = disputed();
		let now = System::block_number();
		assert!(!noted_lately(JURY_DUTIES_SEEN_KEY, now + 1));
		let dispute = Disputes::<Test>::get(task).unwrap();
		let budget = call_budget_ms(dispute.phase_ends, now, config().block_time_ms);
		assert!(budget > 0);
		let started_ago = |elapsed_ms: u64| {
			let clock = 1_000_000;
			node.http.write().timestamp = Timestamp::from_unix_millis(clock);
			StorageValueRef::persistent(BLOCK_WORK_START_KEY).set(&(now, clock - elapsed_ms));
		};
		let key = vote_key::<Test>(task, &juror, 0, None);
		// The block's work started the whole budget ago: the scripted endpoint would fail the
		// test on any request.
		started_ago(budget);
		Pallet::<Test>::run_jurors(now);
		assert!(noted_lately(JURY_DUTIES_SEEN_KEY, now + 1));
		assert!(submitted(&node.pool).is_empty());
		assert!(matches!(StorageValueRef::persistent(&key).get::<VoteRecord>(), Ok(None)));
		// A millisecond of it left: the juror votes and commits.
		started_ago(budget - 1);
		expect_call(&node.http, "4");
		Pallet::<Test>::run_jurors(now);
		let commits = submitted(&node.pool);
		assert!(matches!(commits[..], [(signer, Call::commit_vote { .. })] if signer == juror));
	});
}

/// A juror of a dispute over one item of a batch runs that item's input, shown on chain, with
/// the batch's parameters, and votes its output hash.
#[test]
fn a_juror_of_an_item_dispute_runs_the_item_shown_and_votes_its_output() {
	use crate::tests::items::{outputs, revealed_batch, show};
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let lies = outputs(Some(2));
		let (task, _) = revealed_batch(&lies);
		assert_ok!(Pallet::<Test>::challenge_item(RuntimeOrigin::signed(2), task, 2, MIN_BOND));
		// Before the item is shown and the jury drawn, there is nothing to run.
		show(task, 2, &lies);
		run_to_block(Disputes::<Test>::get(task).unwrap().phase_ends + 1);
		let dispute = Disputes::<Test>::get(task).expect("dispute is open");
		assert_eq!(dispute.phase, DisputePhase::Committing);
		let juror = dispute.jury[0].juror;
		UintAuthorityId::set_all_keys([juror]);

		// One call, for the item's prompt, with the batch's parameters.
		let params = TaskParams { max_tokens: 2, ..PARAMS };
		expect_call_for(&node.http, "prompt 2", &params, "answer 2");
		Pallet::<Test>::run_jurors(System::block_number());
		let commits = submitted(&node.pool);
		assert!(matches!(commits[..], [(signer, Call::commit_vote { .. })] if signer == juror));
		include(commits);
		run_to_block(Disputes::<Test>::get(task).unwrap().phase_ends);
		reveals(&node.pool, task, juror, H256(sp_io::hashing::blake2_256(b"answer 2")));
	});
}

/// An executor's node shows the item its root is challenged on, from the batch work it keeps
/// (as its executor worker stored it), with proofs the chain accepts; once shown, nothing more.
#[test]
fn an_executors_node_shows_the_item_its_root_is_challenged_on() {
	use crate::tests::items::{outputs, prompts, submit_batch, tree, ITEMS};
	use pallet_inference::offchain::{batch_key, batch_outputs_page_key, work_key, BATCH_INPUTS};
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let answers = outputs(None);
		let task = submit_batch(ITEMS, 1);
		run_to_block(System::block_number() + 1);
		let executor = executors_of(task)[0];
		// The batch work its node kept: the inputs, and each item's output.
		let key = work_key::<Test>(task, &executor, 0);
		StorageValueRef::persistent(&batch_key(&key, BATCH_INPUTS)).set(&prompts());
		let page: Vec<Vec<u8>> = answers.iter().map(|answer| answer.clone().into_bytes()).collect();
		StorageValueRef::persistent(&batch_outputs_page_key(&key, 0)).set(&page);
		let root = tree(&answers).root();
		let salt = [3u8; 32];
		assert_ok!(Inference::commit(
			RuntimeOrigin::signed(executor),
			task,
			pallet_inference::commitment_of(&root, &salt, &executor),
		));
		assert_ok!(Inference::reveal(
			RuntimeOrigin::signed(executor),
			task,
			root,
			salt,
			None,
			Some(b"https://out.example/o.json".to_vec()),
		));
		run_to_block(System::block_number() + 1);
		assert_ok!(Pallet::<Test>::challenge_item(RuntimeOrigin::signed(2), task, 3, MIN_BOND));

		UintAuthorityId::set_all_keys([executor]);
		Pallet::<Test>::run_jurors(System::block_number());
		let shows = submitted(&node.pool);
		assert!(matches!(
			shows[..],
			[(a, Call::show_item_input { .. }), (b, Call::show_item_output { .. })]
				if a == executor && b == executor
		));
		include(shows);
		let shown = crate::ItemDisputes::<Test>::get(task).unwrap();
		assert_eq!(shown.input.map(|input| input.to_vec()), Some(b"prompt 3".to_vec()));
		assert_eq!(shown.output, Some(H256(sp_io::hashing::blake2_256(b"answer 3"))));
		run_to_block(System::block_number() + 1);
		Pallet::<Test>::run_jurors(System::block_number());
		assert!(submitted(&node.pool).is_empty(), "nothing left to show");
	});
}

/// The nodes of two executors whose batch roots differ play the bisection by themselves, from
/// the batch work each keeps, every opening accepted, down to the first item the roots differ
/// on; then they show its input; once it is judged, they take the game up again by
/// themselves, down to the next item.
#[test]
fn executors_nodes_bisect_their_roots_to_each_differing_item_and_show_it() {
	use crate::tests::items::{prompts, submit_batch, tree, ITEMS};
	use pallet_inference::offchain::{batch_key, batch_outputs_page_key, work_key, BATCH_INPUTS};
	let mut node = juror_node();
	node.ext.execute_with(|| {
		let honest: Vec<String> = (0..ITEMS).map(|i| format!("answer {i}")).collect();
		let mut lies = honest.clone();
		lies[2] = "a cheap guess".into();
		lies[3] = "another guess".into();
		let task = submit_batch(ITEMS, 2);
		run_to_block(System::block_number() + 1);
		let executors = executors_of(task);
		let salt = [3u8; 32];
		for (executor, outputs) in executors.iter().zip([&honest, &lies]) {
			let key = work_key::<Test>(task, executor, 0);
			StorageValueRef::persistent(&batch_key(&key, BATCH_INPUTS)).set(&prompts());
			let page: Vec<Vec<u8>> =
				outputs.iter().map(|output| output.clone().into_bytes()).collect();
			StorageValueRef::persistent(&batch_outputs_page_key(&key, 0)).set(&page);
			let root = tree(outputs).root();
			assert_ok!(Inference::commit(
				RuntimeOrigin::signed(*executor),
				task,
				pallet_inference::commitment_of(&root, &salt, executor),
			));
		}
		for (executor, outputs) in executors.iter().zip([&honest, &lies]) {
			assert_ok!(Inference::reveal(
				RuntimeOrigin::signed(*executor),
				task,
				tree(outputs).root(),
				salt,
				None,
				Some(b"https://out.example/o.json".to_vec()),
			));
		}
		run_to_block(System::block_number() + 1);
		assert_eq!(Disputes::<Test>::get(task).unwrap().phase, DisputePhase::Bisecting);

		UintAuthorityId::set_all_keys(executors.clone());
		let mut steps = 0;
		while Disputes::<Test>::get(task).unwrap().phase == DisputePhase::Bisecting {
			Pallet::<Test>::run_jurors(System::block_number());
			let opens = submitted(&node.pool);
			assert_eq!(opens.len(), 2, "each side opens its node");
			assert!(opens.iter().all(|(_, call)| matches!(call, Call::open_node { .. })));
			include(opens);
			run_to_block(System::block_number() + 1);
			steps += 1;
			assert!(steps <= 4, "roots, top, one level, leaves");
		}
		let shown = crate::ItemDisputes::<Test>::get(task).unwrap();
		assert_eq!(shown.item, 2, "the first item the roots differ on");
		Pallet::<Test>::run_jurors(System::block_number());
		let shows = submitted(&node.pool);
		assert!(
			shows.iter().all(|(_, call)| matches!(call, Call::show_item_input { .. })),
			"only the input is left to show"
		);
		include(shows.into_iter().take(1).collect());
		let shown = crate::ItemDisputes::<Test>::get(task).unwrap();
		assert_eq!(shown.input.map(|input| input.to_vec()), Some(b"prompt 2".to_vec()));

		// Judged (as a jury would, for the honest root), the game resumes at the fork it passed
		// by, and the nodes play on to item 3 without being told.
		let mut dispute = Disputes::<Test>::get(task).unwrap();
		crate::Queue::<Test>::unschedule(&task, dispute.phase_ends);
		dispute.verdict = Some(H256(sp_io::hashing::blake2_256(b"answer 2")));
		Pallet::<Test>::close(task, dispute, false);
		assert_eq!(Disputes::<Test>::get(task).unwrap().phase, DisputePhase::Bisecting);
		let mut steps = 0;
		while Disputes::<Test>::get(task).unwrap().phase == DisputePhase::Bisecting {
			Pallet::<Test>::run_jurors(System::block_number());
			let opens = submitted(&node.pool);
			assert_eq!(opens.len(), 2, "each side opens its node of the resumed game");
			include(opens);
			run_to_block(System::block_number() + 1);
			steps += 1;
			assert!(steps <= 2, "from the fork at item 3's leaf");
		}
		assert_eq!(crate::ItemDisputes::<Test>::get(task).unwrap().item, 3);
	});
}
