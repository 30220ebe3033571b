//! Tests of the executor off-chain worker, with a scripted HTTP endpoint and transaction pool.

use super::*;
use crate::{
	hash_of, mock::*, Event, NextTaskId, Outputs, Tasks, VerificationMode, INPUT_UNAVAILABLE,
};
use agentchain_primitives::offchain::model_id_of_name;
use agentchain_primitives::offchain::EndpointApi;
use agentchain_support::mock_helpers::signed_calls;
use frame_support::{assert_ok, traits::Hooks};
use parking_lot::RwLock;
use sp_core::offchain::{
	testing::{OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::{testing::UintAuthorityId, traits::Dispatchable, DispatchResult};
use std::sync::Arc;

const MODEL_NAME: &str = "ngram-en";
const PROMPT: &[u8] = b"What is 2 + 2?";
const PARAMS: TaskParams = TaskParams {
	max_tokens: 8,
	temperature_milli: 0,
	seed: 42,
	mode: VerificationMode::ExactMatch,
};
/// Executors 11..=14 have operator keys 21..=24; the node holds all four.
const OPERATORS: [(u64, u64); 4] = [(11, 21), (12, 22), (13, 23), (14, 24)];

fn config() -> EndpointConfig {
	EndpointConfig {
		base_url: b"http://127.0.0.1:8080/v1/".to_vec(),
		api: EndpointApi::Chat,
		api_key: Some(b"sk-test".to_vec()),
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

/// The test chain seen from an agent node holding the operator keys 21..=24, configured with
/// `config`.
fn agent_node(config: Option<EndpointConfig>) -> Node {
	let mut ext = new_test_ext();
	let (offchain, http) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	ext.execute_with(|| {
		for (agent, operator) in OPERATORS.into_iter().skip(1) {
			assert_ok!(Agents::set_operator(RuntimeOrigin::signed(agent), operator));
			assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(operator), agent));
		}
		UintAuthorityId::set_all_keys(OPERATORS.iter().map(|(_, operator)| *operator));
		if let Some(config) = config {
			StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).set(&config);
		}
	});
	Node { ext, http, pool }
}

fn operator_of(agent: u64) -> u64 {
	OPERATORS.iter().find(|(a, _)| *a == agent).expect("an executor").1
}

/// Submits a task of `PROMPT` from account 1; its executors are drawn at the next block.
fn submit_undrawn(redundancy: u32, commit_period: u64) -> TaskId {
	let id = NextTaskId::<Test>::get();
	assert_ok!(Inference::submit_task(
		RuntimeOrigin::signed(1),
		model(),
		TaskInput::Inline(PROMPT.to_vec()),
		PARAMS,
		100,
		redundancy,
		commit_period,
	));
	id
}

/// Submits a task of `PROMPT` from account 1 and moves to the next block, which draws it.
fn submit(redundancy: u32, commit_period: u64) -> TaskId {
	let id = submit_undrawn(redundancy, commit_period);
	run_to_block(System::block_number() + 1);
	id
}

fn chat_response(model: &str, content: &str) -> Vec<u8> {
	format!(
		r#"{{"id":"chatcmpl-1","object":"chat.completion","created":0,"model":"{model}","choices":[{{"index":0,"message":{{"role":"assistant","content":"{content}"}},"finish_reason":"length"}}],"usage":{{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}}}"#
	)
	.into_bytes()
}

/// The headers of an endpoint call with a body of `length` bytes.
fn expected_headers(config: &EndpointConfig, length: usize) -> Vec<(String, String)> {
	completion_headers(config, length)
		.into_iter()
		.map(|(name, value)| (name.into(), value))
		.collect()
}

/// Scripts the endpoint's answer to the next chat call for the test prompt.
fn expect_chat_call(http: &Arc<RwLock<OffchainState>>, config: &EndpointConfig, response: Vec<u8>) {
	let (uri, body) =
		completion_request(config, MODEL_NAME, core::str::from_utf8(PROMPT).unwrap(), &PARAMS);
	let headers = expected_headers(config, body.len());
	http.write().expect_request(PendingRequest {
		method: "POST".into(),
		uri,
		headers,
		body,
		response: Some(response),
		sent: true,
		..Default::default()
	});
}

/// The calls the worker submitted, with their signers, emptying the pool.
fn submitted(pool: &Arc<RwLock<PoolState>>) -> Vec<(u64, crate::Call<Test>)> {
	signed_calls::<RuntimeCall>(core::mem::take(&mut pool.write().transactions))
		.into_iter()
		.map(|(signer, call)| {
			let RuntimeCall::Inference(call) = call else { panic!("not an inference call") };
			(signer, call)
		})
		.collect()
}

/// Includes submitted calls in the chain, as a block author would.
fn include(calls: Vec<(u64, crate::Call<Test>)>) {
	for (signer, call) in calls {
		let result: DispatchResult = RuntimeCall::Inference(call)
			.dispatch(RuntimeOrigin::signed(signer))
			.map(|_| ())
			.map_err(|e| e.error);
		assert_ok!(result);
	}
}

fn work_record(id: TaskId, agent: u64) -> Option<WorkRecord> {
	let round = Tasks::<Test>::get(id).map_or(0, |t| t.reassignments);
	StorageValueRef::persistent(&work_key::<Test>(id, &agent, round)).get().unwrap()
}

fn next_block() {
	run_to_block(System::block_number() + 1);
}

#[test]
fn a_prompt_the_endpoint_refuses_is_answered_refused_and_revealed_as_any_output() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		let id = submit(1, 5);
		let executor = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
		// The endpoint's content filter withheld the answer (the same output as a 400 or 422
		// whose error is `content_filter`, agentchain_execution's tests).
		let filtered = format!(
			r#"{{"model":"{MODEL_NAME}","choices":[{{"index":0,"message":{{"role":"assistant","content":null}},"finish_reason":"content_filter"}}]}}"#
		);
		expect_chat_call(&node.http, &config, filtered.into_bytes());
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		let [(_, crate::Call::commit { commitment, .. })] = commits.as_slice() else {
			panic!("{commits:?}")
		};
		let Some(WorkRecord::Working { salt, .. }) = work_record(id, executor) else {
			panic!("no work record")
		};
		assert_eq!(*commitment, commitment_of(&agentchain_execution::REFUSED_HASH, &salt, &executor));
		include(commits);
		next_block();
		Inference::offchain_worker(System::block_number());
		include(submitted(&node.pool));
		next_block();
		let task = Tasks::<Test>::get(id).unwrap();
		assert_eq!(task.status, TaskStatus::Revealed);
		assert_eq!(task.result, Some(agentchain_execution::REFUSED_HASH));
		assert_eq!(
			Outputs::<Test>::get(id, agentchain_execution::REFUSED_HASH).unwrap().inline.unwrap().to_vec(),
			agentchain_execution::REFUSED.to_vec()
		);
	});
}

#[test]
fn the_worker_commits_reveals_and_the_task_is_finalised_without_anyone_else() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		let id = submit(3, 5);
		let executors: Vec<u64> =
			Tasks::<Test>::get(id).unwrap().assignments.iter().map(|a| a.executor).collect();
		for _ in &executors {
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four. four."));
		}
		Inference::offchain_worker(System::block_number());

		// One commitment per assigned executor, each signed by that executor's operator key.
		let commits = submitted(&node.pool);
		assert_eq!(commits.len(), 3);
		let output = b"four. four.";
		for (signer, call) in &commits {
			let crate::Call::commit { task, commitment } = call else { panic!("{call:?}") };
			assert_eq!(*task, id);
			let agent = OPERATORS.iter().find(|(_, o)| o == signer).unwrap().0;
			assert!(executors.contains(&agent));
			let Some(WorkRecord::Working { salt, .. }) = work_record(id, agent) else {
				panic!("no work record")
			};
			assert_eq!(*commitment, commitment_of(&hash_of(output), &salt, &agent));
		}

		// The worker of the next block, before the commitments are in: the same commitments
		// are sent again (a block without them means they were lost), and the endpoint is not
		// called again (an unexpected call would panic).
		next_block();
		Inference::offchain_worker(System::block_number());
		let mut resent = submitted(&node.pool);
		let mut first = commits.clone();
		resent.sort_by_key(|(signer, _)| *signer);
		first.sort_by_key(|(signer, _)| *signer);
		assert_eq!(resent, first);
		// Not twice in a block: the same worker run again sends nothing.
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());

		include(commits);
		assert_eq!(Tasks::<Test>::get(id).unwrap().status, TaskStatus::Committed);
		next_block();
		Inference::offchain_worker(System::block_number());
		let reveals = submitted(&node.pool);
		assert_eq!(reveals.len(), 3);
		include(reveals);
		// The results are compared by the next block's hook.
		next_block();
		let task = Tasks::<Test>::get(id).unwrap();
		assert_eq!(task.status, TaskStatus::Revealed);
		assert_eq!(task.result, Some(hash_of(output)));
		assert_eq!(
			Outputs::<Test>::get(id, hash_of(output)).unwrap().inline.unwrap().to_vec(),
			output.to_vec()
		);

		// Revealed: the node marks its records done, and has nothing more to send.
		next_block();
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
		for agent in &executors {
			assert_eq!(work_record(id, *agent), Some(WorkRecord::Done));
		}

		run_to_block(task.phase_ends);
		assert_eq!(Tasks::<Test>::get(id).unwrap().status, TaskStatus::Finalised);
		// No longer assigned: the records are deleted.
		Inference::offchain_worker(System::block_number());
		for agent in &executors {
			assert_eq!(work_record(id, *agent), None);
		}
		for agent in executors {
			System::assert_has_event(
				pallet_agents::Event::<Test>::ReputationUpdated {
					agent,
					outcome: crate::Outcome::Completed,
				}
				.into(),
			);
		}
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_commitment_that_does_not_reach_the_chain_is_sent_again_later_with_the_same_result() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		let id = submit(1, 20);
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
		Inference::offchain_worker(System::block_number());
		let first = submitted(&node.pool);
		assert_eq!(first.len(), 1);

		// Lost: not included. Nothing is sent until `RESUBMIT_AFTER` blocks have passed.
		for _ in 1..RESUBMIT_AFTER {
			next_block();
			Inference::offchain_worker(System::block_number());
			assert!(submitted(&node.pool).is_empty());
		}
		next_block();
		Inference::offchain_worker(System::block_number());
		let again = submitted(&node.pool);
		assert_eq!(again, first, "the same commitment, from the same operator key");
		include(again);
		assert!(Tasks::<Test>::get(id).unwrap().assignments[0].commitment.is_some());
	});
}

#[test]
fn a_restarted_node_reveals_the_result_it_committed_to() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		assert_eq!(submit(1, 20), 0);
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
		Inference::offchain_worker(System::block_number());
		include(submitted(&node.pool));
	});
	// A restart keeps the offchain database (persistent storage) and loses everything else.
	let db = node.http.read().persistent_storage.clone();
	let (offchain, http) = TestOffchainExt::with_offchain_db(db);
	node.ext.register_extension(OffchainDbExt::new(offchain.clone()));
	node.ext.register_extension(OffchainWorkerExt::new(offchain));
	node.ext.execute_with(|| {
		next_block();
		// No endpoint call is scripted on the new state: calling again would panic.
		Inference::offchain_worker(System::block_number());
		let reveals = submitted(&node.pool);
		assert_eq!(reveals.len(), 1);
		include(reveals);
		next_block();
		assert_eq!(Tasks::<Test>::get(0).unwrap().status, TaskStatus::Revealed);
		assert!(http.read().requests.is_empty());
	});
}

/// Runs one task against an endpoint that answers `response` and checks the worker commits
/// nothing, does not call again, and the task expires for its executor.
fn fault_leaves_the_task_to_expire(config: EndpointConfig, response: Option<Vec<u8>>) {
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		let id = submit(1, 5);
		let executor = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
		if let Some(response) = response {
			expect_chat_call(&node.http, &config, response);
		}
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
		assert_eq!(work_record(id, executor), Some(WorkRecord::Failed));
		let deadline = Tasks::<Test>::get(id).unwrap().phase_ends;
		while System::block_number() + 1 < deadline {
			next_block();
			Inference::offchain_worker(System::block_number());
			assert!(submitted(&node.pool).is_empty(), "no retry after a fault");
		}
		// At the deadline the task is reassigned to another executor (whose operator key this
		// node also holds, so its worker is not run here).
		next_block();
		System::assert_has_event(
			Event::<Test>::ExecutorMissedDeadline { task: id, executor, slashed: MISSED_SLASH }
				.into(),
		);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_malformed_response_commits_nothing() {
	fault_leaves_the_task_to_expire(config(), Some(br#"{"choices": [{"message": "#.to_vec()));
}

#[test]
fn a_response_without_choices_commits_nothing() {
	fault_leaves_the_task_to_expire(
		config(),
		Some(br#"{"model":"ngram-en","choices":[]}"#.to_vec()),
	);
}

#[test]
fn a_response_for_another_model_commits_nothing() {
	fault_leaves_the_task_to_expire(config(), Some(chat_response("ngram-en-impostor", "four")));
}

#[test]
fn an_oversized_response_commits_nothing() {
	let long = "x".repeat(2_000);
	fault_leaves_the_task_to_expire(config(), Some(chat_response(MODEL_NAME, &long)));
}

/// A response whose declared length is over the limit is refused before its body is read, even
/// if the body that follows is short (the connection may break while a huge one streams in).
#[test]
fn a_response_declared_over_the_limit_commits_nothing() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		let id = submit(1, 5);
		let executor = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
		let (uri, body) =
			completion_request(&config, MODEL_NAME, core::str::from_utf8(PROMPT).unwrap(), &PARAMS);
		// The headers, written out: the body's length declared (see `completion_headers`).
		let mut headers = vec![
			("Content-Type".into(), "application/json".into()),
			("Content-Length".into(), body.len().to_string()),
			("Accept".into(), "application/json".into()),
		];
		if let Some(key) = &config.api_key {
			headers
				.push(("Authorization".into(), format!("Bearer {}", String::from_utf8_lossy(key))));
		}
		assert_eq!(expected_headers(&config, body.len()), headers);
		node.http.write().expect_request(PendingRequest {
			method: "POST".into(),
			uri,
			headers,
			body,
			response: Some(chat_response(MODEL_NAME, "4")),
			response_headers: vec![("Content-Length".into(), "100000000".into())],
			sent: true,
			..Default::default()
		});
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
		assert_eq!(work_record(id, executor), Some(WorkRecord::Failed));
	});
}

/// A requester asking for more text than the chain keeps cannot make its executors miss their
/// commit: every honest node cuts the output the same way, and commits to that.
#[test]
fn an_output_longer_than_the_chain_keeps_is_cut_the_same_way_by_every_node() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		let id = submit(2, 5);
		// 62 ASCII bytes then "é" (2 bytes) then more: the mock keeps 64 bytes, and the cut
		// lands after the "é".
		let long = format!("{}é{}", "y".repeat(62), "z".repeat(40));
		for _ in 0..2 {
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, &long));
		}
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		assert_eq!(commits.len(), 2);
		let kept = long.as_bytes()[..64].to_vec();
		for (signer, call) in commits.iter() {
			let crate::Call::commit { commitment, .. } = call else { panic!("{call:?}") };
			let agent = OPERATORS.iter().find(|(_, o)| o == signer).unwrap().0;
			let Some(WorkRecord::Working { salt, output, .. }) = work_record(id, agent) else {
				panic!("no work record")
			};
			assert_eq!(output, Some(kept.clone()));
			assert_eq!(*commitment, commitment_of(&hash_of(&kept), &salt, &agent));
		}
	});
}

#[test]
fn truncation_keeps_whole_characters() {
	assert_eq!(truncate_output(b"abc".to_vec(), 5), b"abc".to_vec());
	assert_eq!(truncate_output("aé".as_bytes().to_vec(), 2), b"a".to_vec());
	assert_eq!(truncate_output("aé".as_bytes().to_vec(), 3), "aé".as_bytes().to_vec());
	assert_eq!(truncate_output("€€".as_bytes().to_vec(), 4), "€".as_bytes().to_vec());
	assert_eq!(truncate_output("€".as_bytes().to_vec(), 2), Vec::<u8>::new());
}

#[test]
fn a_model_the_node_does_not_map_is_not_called() {
	let mut config = config();
	config.models = vec![(model_id_of_name("another-model"), b"another".to_vec())];
	fault_leaves_the_task_to_expire(config, None);
}

#[test]
fn a_task_too_close_to_its_deadline_is_not_called() {
	let config = config();
	let mut node = agent_node(Some(config));
	node.ext.execute_with(|| {
		let id = submit(1, MIN_COMMIT);
		let executor = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
		// One block before the deadline: a commitment could only land in the deadline's block.
		run_to_block(Tasks::<Test>::get(id).unwrap().phase_ends - 1);
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
		assert_eq!(work_record(id, executor), Some(WorkRecord::Failed));
	});
}

#[test]
fn a_node_without_an_endpoint_or_without_keys_does_nothing() {
	let mut node = agent_node(None);
	node.ext.execute_with(|| {
		submit(3, 5);
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
	});
	let config = config();
	let mut node = agent_node(Some(config));
	node.ext.execute_with(|| {
		UintAuthorityId::set_all_keys(Vec::<u64>::new());
		submit(3, 5);
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());
	});
}

/// A referenced input is fetched and checked against its hash; an input the node cannot obtain
/// (wrong bytes, bytes that are not text, or no answer) is answered "input unavailable", so that
/// the requester, not the executor, pays for it.
#[test]
fn a_referenced_input_is_fetched_and_checked_against_its_hash() {
	let config = config();
	let served_cases: [(Option<Vec<u8>>, bool); 4] = [
		(Some(PROMPT.to_vec()), true),
		(Some(b"something else".to_vec()), false),
		(Some(vec![0xff, 0xfe]), false),
		// Over the node's response bound: as good as no answer.
		(Some(vec![b'a'; 2_000]), false),
	];
	for (served, accepted) in served_cases {
		let mut node = agent_node(Some(config.clone()));
		node.ext.execute_with(|| {
			let id = NextTaskId::<Test>::get();
			let input_hash = match &served {
				Some(bytes) if !accepted && bytes != PROMPT => hash_of(bytes),
				_ => hash_of(PROMPT),
			};
			assert_ok!(Inference::submit_task(
				RuntimeOrigin::signed(1),
				model(),
				TaskInput::Reference {
					// Wrong bytes are served for the prompt's hash, except for the bytes that
					// are not text, which are served for their own hash.
					hash: if served.as_deref() == Some(&[0xff, 0xfe][..]) {
						input_hash
					} else {
						hash_of(PROMPT)
					},
					uri: b"http://data.local/prompt".to_vec()
				},
				PARAMS,
				100,
				1,
				5,
			));
			run_to_block(System::block_number() + 1);
			node.http.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: "http://data.local/prompt".into(),
				response: served.clone(),
				sent: true,
				..Default::default()
			});
			if accepted {
				expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
			}
			Inference::offchain_worker(System::block_number());
			let executor = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
			let commits = submitted(&node.pool);
			assert_eq!(commits.len(), 1);
			let Some(WorkRecord::Working { salt, output, .. }) = work_record(id, executor) else {
				panic!("no work record")
			};
			let expected = if accepted { hash_of(b"four") } else { INPUT_UNAVAILABLE };
			assert_eq!(output.is_some(), accepted);
			let crate::Call::commit { commitment, .. } = &commits[0].1 else { panic!() };
			assert_eq!(*commitment, commitment_of(&expected, &salt, &executor));

			// Committed and revealed: an unavailable input is paid as an attempt, not slashed.
			include(commits);
			next_block();
			Inference::offchain_worker(System::block_number());
			include(submitted(&node.pool));
			next_block();
			let task = Tasks::<Test>::get(id).unwrap();
			if accepted {
				assert_eq!(task.status, TaskStatus::Revealed);
			} else {
				// A lone executor's "unavailable" proves nothing either way: it is neither paid
				// nor slashed, and the fee is refunded.
				assert_eq!(task.status, TaskStatus::Expired);
				System::assert_has_event(Event::TaskExpired { task: id, refunded: 100 }.into());
				let penalised = System::events().iter().any(|r| {
					matches!(r.event, RuntimeEvent::Inference(Event::ExecutorMissedDeadline { .. }))
				});
				assert!(!penalised);
			}
		});
	}
}

#[test]
fn requests_follow_the_openai_api() {
	let mut config = config();
	let (url, body) = completion_request(&config, MODEL_NAME, "Hello", &PARAMS);
	assert_eq!(url, "http://127.0.0.1:8080/v1/chat/completions");
	let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
	assert_eq!(
		json,
		serde_json::json!({
			"model": "ngram-en",
			"messages": [{"role": "user", "content": "Hello"}],
			"max_tokens": 8,
			"temperature": 0.0,
			"seed": 42,
			"stream": false,
		})
	);
	config.api = EndpointApi::Completions;
	config.base_url = b"http://127.0.0.1:8080/v1".to_vec();
	let (url, body) = completion_request(&config, MODEL_NAME, "Hello", &PARAMS);
	assert_eq!(url, "http://127.0.0.1:8080/v1/completions");
	let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
	assert_eq!(json["prompt"], "Hello");
	assert_eq!(json["model"], "ngram-en");
}

#[test]
fn responses_are_parsed_strictly() {
	assert_eq!(
		parse_completion(&chat_response(MODEL_NAME, "hi there"), MODEL_NAME),
		Ok(b"hi there".to_vec())
	);
	let completion =
		br#"{"object":"text_completion","model":"ngram-en","choices":[{"index":0,"text":"hi"}]}"#;
	assert_eq!(parse_completion(completion, MODEL_NAME), Ok(b"hi".to_vec()));
	// A server that does not name the model is taken at its word.
	assert_eq!(parse_completion(br#"{"choices":[{"text":"hi"}]}"#, MODEL_NAME), Ok(b"hi".to_vec()));
	assert_eq!(parse_completion(b"not json", MODEL_NAME), Err(Fault::Malformed));
	assert_eq!(parse_completion(br#"{"choices":[]}"#, MODEL_NAME), Err(Fault::Malformed));
	assert_eq!(
		parse_completion(br#"{"choices":[{"index":0}]}"#, MODEL_NAME),
		Err(Fault::Malformed)
	);
	assert_eq!(parse_completion(&chat_response("gpt-4", "hi"), MODEL_NAME), Err(Fault::WrongModel));
}

#[test]
fn operator_keys_only_act_for_their_own_agents() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		// The node holds only 21, the operator key of 11.
		UintAuthorityId::set_all_keys([operator_of(11)]);
		let id = submit(3, 5);
		let executors: Vec<u64> =
			Tasks::<Test>::get(id).unwrap().assignments.iter().map(|a| a.executor).collect();
		assert!(executors.contains(&11), "the test needs 11 among the executors");
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
		Inference::offchain_worker(System::block_number());
		let sent = submitted(&node.pool);
		assert_eq!(sent.len(), 1);
		assert!(sent.iter().all(|(signer, _)| *signer == operator_of(11)));
	});
}

#[test]
fn one_run_makes_a_bounded_number_of_calls_and_the_next_run_takes_the_rest() {
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		// Money for every task a run may take, and stake for their collateral.
		use frame_support::traits::fungible::Mutate;
		assert_ok!(Balances::mint_into(&1, 1_000_000));
		for agent in 11..=14 {
			assert_ok!(Balances::mint_into(&agent, 1_000_000));
			assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(agent), 500_000));
		}
		// Tasks of three executors, all of them this node's agents: a call for each. Submitted
		// as many a block as a block draws (64 here) until they make more calls than a run does,
		// all within their commit periods.
		DeadlinesPerBlock::set(64);
		let mine = |id: &TaskId| Tasks::<Test>::get(id).unwrap().assignments.len();
		let mut ids: Vec<TaskId> = Vec::new();
		while ids.iter().map(mine).sum::<usize>() <= MAX_CALLS_PER_RUN as usize {
			for _ in 0..DeadlinesPerBlock::get() {
				ids.push(submit_undrawn(3, 20));
			}
			run_to_block(System::block_number() + 1);
		}
		let calls: usize = ids.iter().map(mine).sum();
		let left = calls - MAX_CALLS_PER_RUN as usize;
		for _ in 0..MAX_CALLS_PER_RUN {
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
		}
		Inference::offchain_worker(System::block_number());
		let first = submitted(&node.pool);
		assert_eq!(first.len(), MAX_CALLS_PER_RUN as usize);
		include(first);

		next_block();
		for _ in 0..left {
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
		}
		Inference::offchain_worker(System::block_number());
		// The calls left over, each with its commitment (the first run's tasks whose executors
		// all committed now send their reveals).
		let commits = submitted(&node.pool)
			.into_iter()
			.filter(|(_, call)| matches!(call, crate::Call::commit { .. }))
			.count();
		assert_eq!(commits, left);
		for id in ids {
			for assignment in Tasks::<Test>::get(id).unwrap().assignments {
				assert!(matches!(
					work_record(id, assignment.executor),
					Some(WorkRecord::Working { .. })
				));
			}
		}
	});
}

/// Sets when the off-chain work of block `now` started, as the first worker of that block
/// (another pallet's, say) would have stored it, `elapsed_ms` before the node's clock.
fn block_work_started_ago(http: &Arc<RwLock<OffchainState>>, now: u64, elapsed_ms: u64) {
	use agentchain_primitives::offchain::BLOCK_WORK_START_KEY;
	let clock = 1_000_000;
	http.write().timestamp = Timestamp::from_unix_millis(clock);
	StorageValueRef::persistent(BLOCK_WORK_START_KEY).set(&(now, clock - elapsed_ms));
}

/// A run starts a call only within a block time of its block's start (when the first worker of
/// the block started, another pallet's say), and only while the call's budget, also counted from
/// there, lasts: past either, no call and no record, so that a later block's run takes the task.
#[test]
fn a_run_starts_calls_only_within_a_block_time_and_the_budget_from_the_blocks_start() {
	let config = config();
	let budget_of_one_block = config.block_time_ms - agentchain_execution::SUBMISSION_MARGIN_MS;
	// A commit period of 20 blocks: the budget is the node's whole timeout (5 s), longer than a
	// block (3 s), so the block time stops the calls. Of 2 blocks: the commitment must be in the
	// next block, and the budget (a block less the submission margin) stops them.
	for (commit_period, cutoff_ms) in [(20, config.block_time_ms), (2, budget_of_one_block)] {
		let mut node = agent_node(Some(config.clone()));
		node.ext.execute_with(|| {
			let id = submit(1, commit_period);
			let now = System::block_number();
			let agent = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
			// The scripted endpoint fails the test on any request.
			block_work_started_ago(&node.http, now, cutoff_ms);
			Inference::offchain_worker(now);
			assert!(submitted(&node.pool).is_empty());
			assert_eq!(work_record(id, agent), None);
			// A millisecond earlier, the same run calls the endpoint and commits.
			block_work_started_ago(&node.http, now, cutoff_ms - 1);
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four"));
			Inference::offchain_worker(now);
			let commits = submitted(&node.pool);
			assert!(matches!(commits[..], [(_, crate::Call::commit { task, .. })] if task == id));
			assert!(matches!(work_record(id, agent), Some(WorkRecord::Working { .. })));
		});
	}
}

#[test]
fn a_lock_left_by_a_killed_node_does_not_hold_the_restarted_node_back() {
	use agentchain_primitives::offchain::{NodeStart, NODE_START_KEY};
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		StorageValueRef::persistent(NODE_START_KEY).set(&NodeStart::from([1; 16]));
		let id = submit(1, 5);
		let agent = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
		// A worker of this run of the node took the task's lock and was killed in the middle of
		// its endpoint call: the lock stays in offchain storage, until past the commit deadline.
		let key = work_key::<Test>(id, &agent, 0);
		let lock_key = work_lock_key(LOCK_PREFIX, &key[WORK_PREFIX.len()..]);
		let mut lock =
			StorageLock::<BlockAndTime<frame_system::Pallet<Test>>>::with_block_and_time_deadline(
				&lock_key,
				100,
				Duration::from_millis(600_000),
			);
		core::mem::forget(lock.try_lock().expect("the lock is free"));

		// Within the same run of the node the lock holds: no call (the scripted endpoint
		// expects none), nothing sent.
		Inference::offchain_worker(System::block_number());
		assert!(submitted(&node.pool).is_empty());

		// The node restarts (a new start marker): its worker calls the endpoint at once and
		// commits, well before the deadline.
		StorageValueRef::persistent(NODE_START_KEY).set(&NodeStart::from([2; 16]));
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four."));
		Inference::offchain_worker(System::block_number());
		let commits = submitted(&node.pool);
		assert_eq!(commits.len(), 1);
		assert!(matches!(commits[0], (signer, crate::Call::commit { task, .. }) if signer == operator_of(agent) && task == id));
	});
}

#[test]
fn a_node_that_lost_its_record_of_a_result_commits_to_it_again_with_the_same_salt() {
	use agentchain_primitives::offchain::{NodeStart, NODE_START_KEY, SALT_SECRET_KEY};
	let config = config();
	let mut node = agent_node(Some(config.clone()));
	node.ext.execute_with(|| {
		StorageValueRef::persistent(SALT_SECRET_KEY).set(&[7u8; 32]);
		StorageValueRef::persistent(NODE_START_KEY).set(&NodeStart::from([1; 16]));
		node.http.write().seed = [1; 32];
		let id = submit(1, 5);
		let agent = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four."));
		Inference::offchain_worker(System::block_number());
		let commitment_of = |calls: Vec<(u64, crate::Call<Test>)>| match &calls[..] {
			[(_, crate::Call::commit { task, commitment })] if *task == id => *commitment,
			other => panic!("one commit of task {id} expected, got {other:?}"),
		};
		let sent = commitment_of(submitted(&node.pool));
		let Some(WorkRecord::Working { salt, .. }) = work_record(id, agent) else {
			panic!("the result is stored")
		};

		// Killed right after the commitment left, before the database wrote the record: the
		// restarted node (another start marker, another random seed) finds no record and
		// answers the task again.
		StorageValueRef::persistent(&work_key::<Test>(id, &agent, 0)).clear();
		StorageValueRef::persistent(NODE_START_KEY).set(&NodeStart::from([2; 16]));
		node.http.write().seed = [2; 32];
		expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four."));
		Inference::offchain_worker(System::block_number());
		// The same answer, the same salt: the same commitment, which it can open whichever of
		// the two reaches the chain.
		assert_eq!(commitment_of(submitted(&node.pool)), sent);
		assert!(
			matches!(work_record(id, agent), Some(WorkRecord::Working { salt: again, .. }) if again == salt)
		);

		// The salt is the node's secret: another node, or another assignment, has another.
		StorageValueRef::persistent(SALT_SECRET_KEY).set(&[8u8; 32]);
		let key = work_key::<Test>(id, &agent, 0);
		assert_ne!(agentchain_primitives::offchain::commitment_salt(&key), salt);
		StorageValueRef::persistent(SALT_SECRET_KEY).set(&[7u8; 32]);
		assert_eq!(agentchain_primitives::offchain::commitment_salt(&key), salt);
		assert_ne!(
			agentchain_primitives::offchain::commitment_salt(&work_key::<Test>(id, &agent, 1)),
			salt
		);
	});
}

#[test]
fn a_node_that_lost_its_record_after_its_commitment_landed_answers_again_and_reveals() {
	use agentchain_primitives::offchain::{NodeStart, NODE_START_KEY, SALT_SECRET_KEY};
	// The endpoint's second answer: the same (the record is restored and revealed), or another
	// (it cannot open the commitment: nothing is revealed, the record says so).
	for (again, reveals) in [("four.", true), ("five.", false)] {
		let config = config();
		let mut node = agent_node(Some(config.clone()));
		node.ext.execute_with(|| {
			StorageValueRef::persistent(SALT_SECRET_KEY).set(&[7u8; 32]);
			StorageValueRef::persistent(NODE_START_KEY).set(&NodeStart::from([1; 16]));
			let id = submit(1, 20);
			let agent = Tasks::<Test>::get(id).unwrap().assignments[0].executor;
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, "four."));
			Inference::offchain_worker(System::block_number());
			include(submitted(&node.pool));
			assert_eq!(Tasks::<Test>::get(id).unwrap().status, TaskStatus::Committed);

			// The record was lost in the crash; the commitment is on chain. The restarted node
			// answers again, within the reveal phase, and submits nothing yet.
			StorageValueRef::persistent(&work_key::<Test>(id, &agent, 0)).clear();
			StorageValueRef::persistent(NODE_START_KEY).set(&NodeStart::from([2; 16]));
			node.http.write().seed = [2; 32];
			next_block();
			expect_chat_call(&node.http, &config, chat_response(MODEL_NAME, again));
			Inference::offchain_worker(System::block_number());
			assert!(submitted(&node.pool).is_empty());
			next_block();
			Inference::offchain_worker(System::block_number());
			let sent = submitted(&node.pool);
			if reveals {
				assert!(matches!(work_record(id, agent), Some(WorkRecord::Working { .. })));
				assert_eq!(sent.len(), 1);
				include(sent);
				next_block();
				assert_eq!(Tasks::<Test>::get(id).unwrap().status, TaskStatus::Revealed);
			} else {
				assert_eq!(work_record(id, agent), Some(WorkRecord::Failed));
				assert!(sent.is_empty());
			}
		});
	}
}

#[test]
fn the_chain_and_its_clients_commit_to_results_alike() {
	let (output_hash, salt, executor) = (sp_core::H256::repeat_byte(9), [4u8; 32], 7u64);
	sp_io::TestExternalities::default().execute_with(|| {
		assert_eq!(
			commitment_of(&output_hash, &salt, &executor),
			agentchain_execution::commitment_of(&output_hash, &salt, &executor)
		);
	});
}

mod batches;
