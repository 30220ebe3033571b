//! Tests of the heartbeat off-chain worker.

use super::*;
use crate::{
	mock::{self, *},
	Role,
};
use agentchain_primitives::offchain::EndpointApi;
use agentchain_support::mock_helpers::signed_calls;
use frame_support::{assert_ok, traits::Hooks};
use parking_lot::RwLock;
use sp_core::{
	offchain::{
		testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	H256,
};
use sp_runtime::testing::UintAuthorityId;
use std::sync::Arc;

/// Agent 1 with operator key 31; agent 2 without operator; the node holds key 31.
fn agent_node(serves: bool) -> (sp_io::TestExternalities, Arc<RwLock<PoolState>>) {
	let mut ext = new_test_ext();
	let (offchain, _) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	ext.execute_with(|| {
		for agent in [1, 2] {
			assert_ok!(mock::Agents::register(
				RuntimeOrigin::signed(agent),
				b"agent".to_vec(),
				vec![],
				vec![],
				vec![H256::repeat_byte(1)],
				vec![Role::Executor],
				MIN_EXECUTOR_STAKE,
			));
		}
		assert_ok!(mock::Agents::set_operator(RuntimeOrigin::signed(1), 31));
		assert_ok!(mock::Agents::accept_operator(RuntimeOrigin::signed(31), 1));
		UintAuthorityId::set_all_keys([31u64]);
		if serves {
			StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).set(&EndpointConfig {
				base_url: b"http://127.0.0.1:8080/v1".to_vec(),
				api: EndpointApi::Chat,
				api_key: None,
				models: vec![],
				timeout_ms: 1_000,
				max_response_bytes: 1_024,
				block_time_ms: 3_000,
			});
		}
	});
	(ext, pool)
}

/// The heartbeats in the pool, by signer, emptying it.
fn heartbeats(pool: &Arc<RwLock<PoolState>>) -> Vec<u64> {
	signed_calls::<RuntimeCall>(core::mem::take(&mut pool.write().transactions))
		.into_iter()
		.map(|(signer, call)| {
			assert_eq!(call, RuntimeCall::Agents(Call::heartbeat {}));
			signer
		})
		.collect()
}

fn at_block(n: u64) {
	System::set_block_number(n);
	mock::Agents::offchain_worker(n);
}

#[test]
fn an_agent_node_keeps_its_agent_live_and_sends_nothing_twice() {
	let (mut ext, pool) = agent_node(true);
	ext.execute_with(|| {
		// Registered at block 1: nothing is due before half the liveness period.
		at_block(1 + LIVENESS_PERIOD / 2 - 1);
		assert!(heartbeats(&pool).is_empty());
		at_block(1 + LIVENESS_PERIOD / 2);
		assert_eq!(heartbeats(&pool), vec![31], "signed by the operator key, for agent 1 only");

		// Not on chain yet: not sent again until `resend_after` blocks have passed.
		let sent_at = System::block_number();
		at_block(sent_at + resend_after::<Test>() - 1);
		assert!(heartbeats(&pool).is_empty());
		at_block(sent_at + resend_after::<Test>());
		assert_eq!(heartbeats(&pool), vec![31]);

		// Once a heartbeat is included, the next one is due half a period later.
		assert_ok!(mock::Agents::heartbeat(RuntimeOrigin::signed(31)));
		let seen = System::block_number();
		at_block(seen + 1);
		assert!(heartbeats(&pool).is_empty());
		at_block(seen + LIVENESS_PERIOD / 2);
		assert_eq!(heartbeats(&pool), vec![31]);
	});
}

#[test]
fn a_node_without_an_inference_endpoint_sends_no_heartbeat() {
	let (mut ext, pool) = agent_node(false);
	ext.execute_with(|| {
		at_block(1 + LIVENESS_PERIOD);
		assert!(heartbeats(&pool).is_empty());
	});
}

#[test]
fn a_leaving_agent_sends_no_heartbeat() {
	let (mut ext, pool) = agent_node(true);
	ext.execute_with(|| {
		assert_ok!(mock::Agents::deregister(RuntimeOrigin::signed(1)));
		at_block(1 + LIVENESS_PERIOD);
		assert!(heartbeats(&pool).is_empty());
	});
}
